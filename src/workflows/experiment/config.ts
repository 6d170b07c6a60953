// An experiment file's shape (experiments/*.json) and its checks, and the shape of what a run measures.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { METHOD_IDS, type Ledger, type MethodId, type RatioRecord } from '../../pae/index.ts';
import type { TaskKind } from '../../tasks/index.ts';
import type { ModuleEvaluation } from '../ship/module-scores.ts';
import type { PeerRow } from '../../peers/evaluate.ts';
import type { AddTaskSpec } from '../add-task.ts';
import { PRETRAINED_SOURCES, type PretrainedSource } from '../import-model.ts';

export const PEER_TOOLKITS = ['face-api', 'human'] as const;
export type PeerToolkit = (typeof PEER_TOOLKITS)[number];

/** Which task of the sequence answers each capability (by name), and which toolkits to run. */
export interface PeerConfig {
  /** @default both */
  toolkits?: PeerToolkit[];
  expression?: string;
  gender?: string;
  age?: string;
  verification?: string;
}

const CAPABILITIES = ['expression', 'gender', 'age', 'verification'] as const;

/** Checks the peer section against the task list; one line naming the file. */
export function validatePeers(p: PeerConfig, tasks: ExperimentConfig['tasks'], source: string): void {
  for (const t of p.toolkits ?? [])
    if (!(PEER_TOOLKITS as readonly string[]).includes(t)) throw new Error(`${source}: unknown peer toolkit '${t}'`);
  for (const c of CAPABILITIES) {
    const name = p[c];
    if (name === undefined) continue;
    const t = tasks.find((x) => x.name === name);
    if (!t) throw new Error(`${source}: peers.${c} names no task ('${name}')`);
    if ((c === 'verification') !== (t.kind === 'identity'))
      throw new Error(`${source}: peers.${c} needs ${c === 'verification' ? 'an identity' : 'a classify'} task, '${name}' is ${t.kind}`);
  }
}

// The methods an experiment compares are pae's registry: the report reads their titles through this layer.
export { METHODS, type MethodId } from '../../pae/index.ts';

/** One task of a sequence. */
export interface ExperimentTask {
  name: string;
  kind: TaskKind;
  /**
   * Training data: a manifest, or several (classify tasks) whose rows are pooled into one set with the same label
   * column — e.g. gender from UTKFace and CelebA; validation then pools their val splits too.
   */
  data: string | string[];
  label?: string;
  pairs?: string;
  classWeights?: AddTaskSpec['classWeights'];
  /**
   * First task only (identity): adopt this pretrained network instead of training one; it is then pruned by
   * distillation from its unpruned self on `data`, and its unpruned accuracy is the individual network's.
   */
  pretrained?: PretrainedSource;
  /** This task's own recipe, over the experiment-wide settings of the same names. */
  train?: AddTaskSpec['train'];
  prune?: AddTaskSpec['prune'];
  limit?: AddTaskSpec['limit'];
  batchSize?: number;
  maxExpansions?: number;
  goalMargin?: number;
  /** @default 'auto' (an individual network) where the method needs a goal */
  goal?: AddTaskSpec['goal'];
  augment?: AddTaskSpec['augment'];
  labelSmoothing?: number;
  /** This task's input side in pixels (classify tasks; the first task runs at the experiment's `inputSize`). */
  inputSize?: number;
}

/** The backbone family each pretrained start is. */
export const PRETRAINED_ARCH: Record<PretrainedSource, string> = {
  'face-api-recognition': 'dlib-resnet',
  'human-faceres': 'faceres',
};

/** An experiment file (experiments/*.json). */
export interface ExperimentConfig {
  name: string;
  description?: string;
  arch: string;
  widthMult?: number;
  /** Input side in pixels of a pretrained start that allows another than its own (faceres: multiples of 32). */
  inputSize?: number;
  /** Output folder (report.md, results.json, model.pae, plots/, checkpoints/). */
  output: string;
  tasks: ExperimentTask[];
  /** Any of METHOD_IDS; 'individual' comes with 'pae' (its goals are individual networks). @default ['pae', 'individual'] */
  methods?: MethodId[];
  /** PackNet's fixed pruning ratio per task. @default 0.5 */
  packnetRatio?: number;
  train?: AddTaskSpec['train'];
  prune?: AddTaskSpec['prune'];
  limit?: AddTaskSpec['limit'];
  goalMargin?: number;
  maxExpansions?: number;
  batchSize?: number;
  seed?: number;
  /** A pretrained first task distils on at most this many images of its manifest. @default limit.train */
  distillImages?: number;
  /** Peer rows: face toolkits run as they ship on the same validation crops as the named tasks. */
  peers?: PeerConfig;
  /** Ship the finished model: compact storage, build record, per-module and peer report (workflows/ship). */
  ship?: ShipConfig;
}

export type WeightStorage = 'fp32' | 'fp16' | 'int8';

/** The `ship` section of an experiment file. */
export interface ShipConfig {
  /** The shipped model file, e.g. models/paenet-face.pae; its report goes beside it (NAME.report.md / .json). */
  file: string;
  /** How weights are stored in the shipped file. @default 'int8' */
  weights?: WeightStorage;
  /** Validation sets each module is reported on (a module may have several, e.g. gender on UTKFace and CelebA). */
  evaluate: ModuleEvaluation[];
  /** Toolkits measured on the same validation images (each as it ships, at its own input size). @default none */
  peers?: PeerToolkit[];
}

/** PAE's outcome for one task (the paper-style table). */
export interface TaskOutcome {
  name: string;
  kind: TaskKind;
  metric: string;
  individual: number;
  pae: number;
  trained: number;
  ratio: number;
  expansions: number;
  moduleBytes: number;
  seconds: number;
  /** The pruning ladder: accuracy at every tested ratio (ratio 0 = trained, unpruned). */
  curve: RatioRecord[];
}

/** One method over the whole sequence; every number measured in this run. */
export interface MethodRun {
  method: MethodId;
  /** R[i][j]: task j's score after learning task i (null above the diagonal). */
  accuracyMatrix: (number | null)[][];
  bwt: number;
  /** Mean over tasks of the scores after the last task. */
  finalAverage: number;
  /** Bytes the method keeps after each task (its whole model or models). */
  sizes: number[];
  /** Wall-clock seconds per task. */
  seconds: number[];
  /** Backbone weights after each task. */
  weights: number[];
}

export interface ExperimentResult {
  config: ExperimentConfig;
  tasks: TaskOutcome[];
  methods: MethodRun[];
  /** PAE's accuracy matrix and BWT (also in `methods`). */
  accuracyMatrix: (number | null)[][];
  bwt: number;
  /** PAE's final model. */
  ledger: Ledger;
  /** paenet's packed model, then each peer toolkit, on the same crops (when the config asks for peers). */
  peers?: PeerRow[];
  seconds: number;
}

function validateShip(s: ShipConfig, tasks: ExperimentConfig['tasks'], source: string): void {
  const bad = (what: string): never => {
    throw new Error(`${source}: ship: ${what}`);
  };
  if (typeof s?.file !== 'string' || !s.file.endsWith('.pae')) bad('needs "file", a *.pae path');
  if (s.weights !== undefined && !['fp32', 'fp16', 'int8'].includes(s.weights)) bad('"weights" must be fp32, fp16 or int8');
  if (!Array.isArray(s.evaluate) || s.evaluate.length === 0) bad('needs a non-empty "evaluate" list');
  const names = new Set<string>();
  s.evaluate.forEach((e, i) => {
    if (typeof e?.name !== 'string' || typeof e.task !== 'string') bad(`evaluate[${i}] needs "task" and "name"`);
    if (names.has(e.name)) bad(`evaluate[${i}]: the name '${e.name}' is used twice`);
    names.add(e.name);
    const t = tasks.find((x) => x.name === e.task);
    if (!t) bad(`evaluate[${i}]: no task named '${e.task}'`);
    if (t!.kind === 'identity' ? typeof e.pairs !== 'string' : typeof e.data !== 'string' || typeof e.label !== 'string')
      bad(`evaluate[${i}] needs ${t!.kind === 'identity' ? '"pairs"' : '"data" and "label"'}`);
  });
  for (const p of s.peers ?? []) if (!(PEER_TOOLKITS as readonly string[]).includes(p)) bad(`unknown peer toolkit '${p}'`);
}

/** Checks an experiment file's shape; throws one line naming the file. */
export function validateExperiment(c: unknown, source: string): ExperimentConfig {
  const o = c as Partial<ExperimentConfig> | null;
  const bad = (what: string): never => {
    throw new Error(`${source}: ${what}`);
  };
  if (!o || typeof o !== 'object') bad('not a JSON object');
  if (typeof o!.name !== 'string' || typeof o!.arch !== 'string' || typeof o!.output !== 'string')
    bad('needs "name", "arch" and "output" strings');
  if (!Array.isArray(o!.tasks) || o!.tasks.length === 0) bad('needs a non-empty "tasks" list');
  const methods = o!.methods ?? ['pae', 'individual'];
  if (!Array.isArray(methods) || methods.length === 0) bad('"methods" must be a non-empty list');
  for (const m of methods)
    if (!(METHOD_IDS as readonly string[]).includes(m)) bad(`unknown method '${m}' (known: ${METHOD_IDS.join(', ')})`);
  if (new Set(methods).size !== methods.length) bad('"methods" lists a method twice');
  if (!methods.includes('pae')) bad("\"methods\" must include 'pae' (and 'individual' comes from its goals)");
  o!.tasks!.forEach((t, i) => {
    const manifests = typeof t?.data === 'string' ? [t.data] : Array.isArray(t?.data) ? t.data : [];
    if (!t || typeof t.name !== 'string' || manifests.length === 0 || !manifests.every((d) => typeof d === 'string')) {
      bad(`tasks[${i}] needs "name", "kind" (classify|identity) and "data" (a manifest, or a list of them)`);
    }
    if (t.kind !== 'classify' && t.kind !== 'identity') {
      bad(`tasks[${i}] needs "name", "kind" (classify|identity) and "data"`);
    }
    if (manifests.length > 1 && t.kind !== 'classify') bad(`tasks[${i}]: only classify tasks pool several manifests`);
    if (
      t.goal !== undefined &&
      !['auto', 'trained', 'none'].includes(String(t.goal)) &&
      !(typeof t.goal === 'number' && t.goal >= 0 && t.goal <= 1)
    )
      bad(`tasks[${i}].goal must be "auto", "trained", "none" or an accuracy in [0, 1]`);
    if (t.inputSize !== undefined) {
      if (!Number.isInteger(t.inputSize) || t.inputSize < 32 || t.inputSize > 512)
        bad(`tasks[${i}].inputSize must be a whole number of pixels in 32..512`);
      if (t.pretrained !== undefined) bad(`tasks[${i}]: a pretrained start runs at the experiment's "inputSize"`);
    }
    if (t.augment !== undefined && !['face', 'strong', 'none'].includes(t.augment)) bad(`tasks[${i}].augment must be face, strong or none`);
    if (t.pretrained !== undefined) {
      if (!(PRETRAINED_SOURCES as readonly string[]).includes(t.pretrained))
        bad(`tasks[${i}].pretrained '${t.pretrained}' is unknown (known: ${PRETRAINED_SOURCES.join(', ')})`);
      if (i !== 0 || t.kind !== 'identity') bad(`tasks[${i}]: only the first task, an identity task, can be pretrained`);
      if (o!.arch !== PRETRAINED_ARCH[t.pretrained])
        bad(`a ${t.pretrained} start needs "arch": "${PRETRAINED_ARCH[t.pretrained]}" (got '${o!.arch}')`);
      const other = methods.filter((m) => m !== 'pae' && m !== 'individual');
      if (other.length) bad(`a pretrained start runs 'pae' and 'individual' only (not ${other.join(', ')})`);
    }
  });
  if (o!.peers !== undefined) validatePeers(o!.peers, o!.tasks!, source);
  if (o!.ship !== undefined) validateShip(o!.ship, o!.tasks!, source);
  // '~/…' outputs live in the user's home (long runs belong outside the work tree, e.g. ~/.cache/paenet/NAME).
  const output = o!.output!.startsWith('~/') ? join(homedir(), o!.output!.slice(2)) : o!.output!;
  return { ...o, output, methods } as ExperimentConfig;
}
