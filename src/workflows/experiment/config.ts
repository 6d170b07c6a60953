// An experiment file's shape (experiments/*.json) and its checks, and the shape of what a run measures.
import type { Ledger, RatioRecord } from '../../pae/index.ts';
import type { TaskKind } from '../../tasks/index.ts';
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

/** Methods an experiment compares ('individual' comes with 'pae': its goals are individual networks). */
export const EXPERIMENT_METHODS = ['pae', 'individual', 'packnet', 'finetune', 'progressive'] as const;
export type ExperimentMethod = (typeof EXPERIMENT_METHODS)[number];

/** One task of a sequence. */
export interface ExperimentTask {
  name: string;
  kind: TaskKind;
  data: string;
  label?: string;
  pairs?: string;
  classWeights?: AddTaskSpec['classWeights'];
  /**
   * First task only (identity): adopt this pretrained network instead of training one; it is then pruned by
   * distillation from its unpruned self on `data`, and its unpruned accuracy is the individual network's.
   */
  pretrained?: PretrainedSource;
}

/** An experiment file (experiments/*.json). */
export interface ExperimentConfig {
  name: string;
  description?: string;
  arch: string;
  widthMult?: number;
  /** Output folder (report.md, results.json, model.pae, plots/, checkpoints/). */
  output: string;
  tasks: ExperimentTask[];
  /** @default ['pae', 'individual'] */
  methods?: ExperimentMethod[];
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
  method: ExperimentMethod;
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
    if (!(EXPERIMENT_METHODS as readonly string[]).includes(m)) bad(`unknown method '${m}' (known: ${EXPERIMENT_METHODS.join(', ')})`);
  if (new Set(methods).size !== methods.length) bad('"methods" lists a method twice');
  if (!methods.includes('pae')) bad("\"methods\" must include 'pae' (and 'individual' comes from its goals)");
  o!.tasks!.forEach((t, i) => {
    if (!t || typeof t.name !== 'string' || typeof t.data !== 'string' || (t.kind !== 'classify' && t.kind !== 'identity')) {
      bad(`tasks[${i}] needs "name", "kind" (classify|identity) and "data"`);
    }
    if (t.pretrained !== undefined) {
      if (!(PRETRAINED_SOURCES as readonly string[]).includes(t.pretrained))
        bad(`tasks[${i}].pretrained '${t.pretrained}' is unknown (known: ${PRETRAINED_SOURCES.join(', ')})`);
      if (i !== 0 || t.kind !== 'identity') bad(`tasks[${i}]: only the first task, an identity task, can be pretrained`);
      if (o!.arch !== 'dlib-resnet') bad(`a face-api-recognition start needs "arch": "dlib-resnet" (got '${o!.arch}')`);
      const other = methods.filter((m) => m !== 'pae' && m !== 'individual');
      if (other.length) bad(`a pretrained start runs 'pae' and 'individual' only (not ${other.join(', ')})`);
    }
  });
  if (o!.peers !== undefined) validatePeers(o!.peers, o!.tasks!, source);
  return { ...o, methods } as ExperimentConfig;
}

