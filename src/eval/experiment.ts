// Runs a task sequence as an experiment: PAE vs individual networks, PackNet, fine-tuning and ProgressiveNet on the
// same backbone and data, with accuracy matrices, sizes and times; checkpointed after every task of every method.
import { dirname, join, resolve } from 'node:path';
import { manualSeed } from '../engine/index.ts';
import {
  computeLedger,
  configFromPreset,
  PaeModel,
  saveModel,
  type EventSink,
  type Ledger,
  type Provenance,
  type ProgressSink,
  type RatioRecord,
} from '../pae/index.ts';
import { loadImageSet, loadPairSet, type TaskKind } from '../tasks/index.ts';
import { addTask, type AddTaskSpec } from './add-task.ts';
import { backwardTransfer, type AccuracyMatrix } from './continual.ts';
import { ExperimentCheckpoints, type MethodProgress } from './experiment-state.ts';
import { importPretrained, PRETRAINED_SOURCES, type PretrainedSource } from './import-model.ts';
import { classificationValidator, verificationValidator } from './protocols.ts';
import { comparePeers, validatePeers, type PeerConfig } from './peers/compare.ts';
import type { PeerRow } from './peers/evaluate-peers.ts';
import { pruneIdentityTask } from './prune-task.ts';

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

type Sinks = { events?: EventSink; progress?: ProgressSink; note?: (s: string) => void };

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

/** Scores every learned task of the model on its validation data (for the accuracy matrix). */
type Scorer = (model: PaeModel) => Promise<number>;

async function scorerFor(model: PaeModel, t: ExperimentTask, limitVal?: number): Promise<Scorer> {
  const rec = model.task(t.name);
  const size = model.config.inputSize;
  if (t.kind === 'identity') {
    const v = verificationValidator(await loadPairSet(String(rec.data.pairs), size));
    return (m) => v(m.net, rec.id);
  }
  const set = await loadImageSet(t.data, {
    label: String(rec.data.label),
    split: String(rec.data.valSplit ?? 'val'),
    size,
    classes: rec.labels,
    ...(limitVal ? { limit: limitVal } : {}),
  });
  const v = classificationValidator(set);
  return (m) => v(m.net, rec.id);
}

/** What a method keeps, in bytes: PAE and PackNet store the owner map; ProgressiveNet stores no unused block. */
function methodBytes(method: ExperimentMethod, l: Ledger): number {
  if (method === 'pae' || method === 'packnet') return l.fileTensorBytes;
  if (method === 'progressive') return l.denseBytes - 4 * l.freeWeights;
  return l.denseBytes;
}

const pairsOf = (t: ExperimentTask): string => t.pairs ?? join(dirname(resolve(t.data)), 'pairs.txt');

/** Learns task i with `method` (PAE's first task may be a pretrained net, pruned by distillation). */
async function learn(model: PaeModel, method: ExperimentMethod, cfg: ExperimentConfig, i: number, sinks: Sinks) {
  const t = cfg.tasks[i]!;
  if (t.pretrained) {
    const distil = cfg.distillImages ?? cfg.limit?.train;
    const r = await pruneIdentityTask(
      model,
      {
        task: t.name,
        data: t.data,
        pairs: pairsOf(t),
        goal: 'auto',
        goalMargin: cfg.goalMargin ?? 0,
        ...(cfg.prune ? { prune: cfg.prune } : {}),
        ...(distil ? { limit: distil } : {}),
        batchSize: cfg.batchSize ?? 32,
        seed: cfg.seed ?? 0,
      },
      sinks,
    );
    return { record: r.record, individualSeconds: 0 };
  }
  const isPae = method === 'pae';
  return addTask(
    model,
    {
      name: t.name,
      kind: t.kind,
      data: t.data,
      ...(t.label ? { label: t.label } : {}),
      ...(t.pairs ? { pairs: t.pairs } : {}),
      method: method === 'individual' ? 'pae' : method,
      goal: isPae ? 'auto' : 'none',
      goalMargin: cfg.goalMargin ?? 0,
      ...(cfg.train ? { train: cfg.train } : {}),
      ...(cfg.prune ? { prune: cfg.prune } : {}),
      ...(cfg.limit ? { limit: cfg.limit } : {}),
      ...(cfg.packnetRatio !== undefined ? { packnetRatio: cfg.packnetRatio } : {}),
      maxExpansions: isPae ? (cfg.maxExpansions ?? 2) : 0,
      batchSize: cfg.batchSize ?? 64,
      seed: cfg.seed ?? 0,
      ...(t.classWeights ? { classWeights: t.classWeights } : {}),
    },
    sinks,
  );
}

async function newModel(cfg: ExperimentConfig, provenance: Provenance): Promise<PaeModel> {
  const first = cfg.tasks[0]!;
  return first.pretrained
    ? (await importPretrained({ from: first.pretrained, name: first.name }, provenance)).model
    : PaeModel.create(configFromPreset(cfg.arch, cfg.widthMult ?? 1), provenance);
}

/**
 * Runs one method over the sequence, from its last checkpoint if any. After each task every earlier task is
 * re-measured, so the accuracy matrix and BWT come from the run, not from the method's promise.
 */
async function runMethod(
  method: ExperimentMethod,
  cfg: ExperimentConfig,
  provenance: Provenance,
  ck: ExperimentCheckpoints,
  sinks: Sinks,
): Promise<{ model: PaeModel; progress: MethodProgress }> {
  const saved = ck.load(method);
  const progress: MethodProgress = saved?.progress ?? {
    done: 0,
    rows: [],
    seconds: [],
    sizes: [],
    weights: [],
    individual: [],
    outcomes: [],
  };
  // Seeded here too: every method starts from the same initial weights, whatever ran before it in the process.
  if (!saved) manualSeed(cfg.seed ?? 0);
  const model = saved?.model ?? (await newModel(cfg, provenance));
  try {
    if (saved) sinks.note?.(`${method}: resuming after task ${progress.done} of ${cfg.tasks.length} (${ck.dir})`);
    const scorers: Scorer[] = [];
    for (const t of cfg.tasks.slice(0, progress.done)) scorers.push(await scorerFor(model, t, cfg.limit?.val));
    for (let i = progress.done; i < cfg.tasks.length; i++) {
      const t = cfg.tasks[i]!;
      sinks.note?.(`${method} [${i + 1}/${cfg.tasks.length}] ${t.name} (${t.kind}) from ${t.data}`);
      // The same seed for every method at every task: the methods differ in what they do, not in their luck.
      manualSeed((cfg.seed ?? 0) + i);
      const start = Date.now();
      const { record, individualSeconds } = await learn(model, method, cfg, i, sinks);
      const seconds = (Date.now() - start) / 1000 - individualSeconds;
      scorers.push(await scorerFor(model, t, cfg.limit?.val));
      const row: (number | null)[] = [];
      for (let j = 0; j < cfg.tasks.length; j++) row.push(j <= i ? await scorers[j]!(model) : null);
      progress.rows.push(row);
      const ledger = computeLedger(model);
      progress.seconds.push(seconds);
      progress.sizes.push(methodBytes(method, ledger));
      progress.weights.push(ledger.totalWeights);
      if (method === 'pae') {
        const own = ledger.tasks.find((x) => x.id === record.id)!;
        progress.individual.push({
          score: record.goal.individual ?? NaN,
          seconds: individualSeconds,
          bytes: ledger.individualBytes,
          weights: ledger.individualWeights,
        });
        progress.outcomes.push({
          name: t.name,
          kind: t.kind,
          metric: record.metric.name,
          individual: record.goal.individual ?? NaN,
          pae: record.metric.value,
          trained: record.metric.trained,
          ratio: record.pruning.ratio,
          expansions: record.expansions,
          moduleBytes: own.moduleBytes,
          seconds: seconds + individualSeconds,
          curve: record.pruning.records,
        });
      }
      progress.done = i + 1;
      ck.save(method, model, progress);
    }
    return { model, progress };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

function methodRun(method: ExperimentMethod, p: Omit<MethodProgress, 'done' | 'outcomes' | 'individual'>): MethodRun {
  const last = p.rows.at(-1)!;
  return {
    method,
    accuracyMatrix: p.rows,
    bwt: backwardTransfer(p.rows as AccuracyMatrix),
    finalAverage: last.reduce<number>((s, v) => s + (v ?? 0), 0) / last.length,
    sizes: p.sizes,
    seconds: p.seconds,
    weights: p.weights,
  };
}

/** Individual networks: each task's own dense network, trained for PAE's goal; separate networks never forget. */
function individualRun(p: MethodProgress): MethodRun {
  const scores = p.individual.map((x) => x.score);
  return methodRun('individual', {
    rows: scores.map((_, i) => scores.map((s, j) => (j <= i ? s : null))),
    seconds: p.individual.map((x) => x.seconds),
    sizes: p.individual.map((x) => x.bytes),
    weights: p.individual.map((x, i) => (i + 1) * x.weights),
  });
}

/**
 * Runs every method of the experiment on the same data, backbone and seeds; PAE's model is written to
 * `output/model.pae`. An interrupted run continues from the last finished task of each method.
 */
export async function runExperiment(cfg: ExperimentConfig, provenance: Provenance, sinks: Sinks = {}): Promise<ExperimentResult> {
  const t0 = Date.now();
  const methods = cfg.methods ?? ['pae', 'individual'];
  const ck = new ExperimentCheckpoints(join(cfg.output, 'checkpoints'), cfg);
  const runs = new Map<ExperimentMethod, MethodRun>();
  let pae: { model: PaeModel; progress: MethodProgress } | undefined;
  try {
    for (const m of methods) {
      if (m === 'individual') continue;
      const r = await runMethod(m, cfg, provenance, ck, sinks);
      runs.set(m, methodRun(m, r.progress));
      if (m === 'pae') pae = r;
      else r.model.dispose();
    }
    if (pae && methods.includes('individual')) runs.set('individual', individualRun(pae.progress));
    const ordered = methods.map((m) => runs.get(m)!);
    if (!pae) throw new Error(`${cfg.output}: an experiment needs the pae method`);
    const modelFile = join(cfg.output, 'model.pae');
    saveModel(pae.model, modelFile);
    const peers = cfg.peers ? await comparePeers(cfg, cfg.peers, pae.model, modelFile, sinks.note) : undefined;
    const paeRun = runs.get('pae')!;
    return {
      config: cfg,
      tasks: pae.progress.outcomes,
      methods: ordered,
      accuracyMatrix: paeRun.accuracyMatrix,
      bwt: paeRun.bwt,
      ledger: computeLedger(pae.model),
      ...(peers ? { peers } : {}),
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    pae?.model.dispose();
  }
}
