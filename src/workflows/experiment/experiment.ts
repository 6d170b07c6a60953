// Runs a task sequence as an experiment: PAE vs individual networks, PackNet, fine-tuning and ProgressiveNet on the
// same backbone and data, with accuracy matrices, sizes and times; checkpointed after every task of every method.
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { manualSeed, world } from '../../engine/index.ts';
import {
  computeLedger,
  configFromPreset,
  METHODS,
  PaeModel,
  saveModel,
  type EventSink,
  type MethodId,
  type Provenance,
  type ProgressSink,
  type RatioRecord,
  type TaskRecord,
} from '../../pae/index.ts';
import { loadImageSet, loadPairSet, type TaskKind } from '../../tasks/index.ts';
import { addTask, type AddTaskSpec } from '../add-task.ts';
import { CheckpointDir } from '../checkpoint.ts';
import { backwardTransfer, type AccuracyMatrix } from '../../metrics/continual.ts';
import { ExperimentCheckpoints, type MethodProgress } from './state.ts';
import { importPretrained } from '../import-model.ts';
import { classificationValidator, verificationValidator } from '../../tasks/evaluate.ts';
import { comparePeers } from './peers.ts';
import type { ExperimentConfig, ExperimentResult, MethodRun, TaskOutcome } from './config.ts';
import { resolveTaskData, type RunConfig, type RunTask } from './pooled-data.ts';
import { pruneIdentityTask } from '../prune-task.ts';

type Sinks = { events?: EventSink; progress?: ProgressSink; note?: (s: string) => void };

/** Scores every learned task of the model on its validation data (for the accuracy matrix). */
type Scorer = (model: PaeModel) => Promise<number>;

async function scorerFor(model: PaeModel, t: RunTask, limitVal?: number): Promise<Scorer> {
  const rec = model.task(t.name);
  const size = model.inputSizeOf(rec);
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

const pairsOf = (t: RunTask): string => t.pairs ?? join(dirname(resolve(t.data)), 'pairs.txt');

/**
 * Learns task i with `method` through addTask (PAE's first task may be a pretrained net, pruned by distillation),
 * checkpointing inside the task in `ckDir` and resuming from it when it holds one: a task of hours survives an
 * interrupted session. Returns the model to go on with (a resumed task rebuilds it from its checkpoint).
 */
async function learn(model: PaeModel, method: MethodId, cfg: RunConfig, i: number, ckDir: string, sinks: Sinks) {
  const t = cfg.tasks[i]!;
  const checkpoints = new CheckpointDir(ckDir);
  const resume = checkpoints.exists();
  if (resume) sinks.note?.(`${method}: '${t.name}' resumes inside the task from ${ckDir}`);
  if (t.pretrained) {
    const distil = cfg.distillImages ?? cfg.limit?.train;
    // The distillation teacher is the unpruned network: kept beside the checkpoints for a resumed run.
    const teacherFile = join(ckDir, 'teacher.pae');
    if (!resume && world().isMain) {
      mkdirSync(ckDir, { recursive: true });
      saveModel(model, teacherFile);
    }
    const r = await pruneIdentityTask(
      model,
      {
        task: t.name,
        data: t.data,
        pairs: pairsOf(t),
        // An imported network's 'auto' goal is already its own unpruned accuracy (no individual network to train).
        goal: t.goal === undefined || t.goal === 'trained' ? 'auto' : t.goal,
        goalMargin: t.goalMargin ?? cfg.goalMargin ?? 0,
        ...(cfg.train || t.train ? { train: { ...cfg.train, ...t.train } } : {}),
        ...(cfg.prune || t.prune ? { prune: { ...cfg.prune, ...t.prune } } : {}),
        ...(distil ? { limit: distil } : {}),
        batchSize: t.batchSize ?? cfg.batchSize ?? 32,
        seed: cfg.seed ?? 0,
      },
      sinks,
      { checkpoints, resume, teacherFile },
    );
    return { model: r.model, record: r.record, individualSeconds: 0 };
  }
  const r = await addTask(
    model,
    {
      name: t.name,
      kind: t.kind,
      data: t.data,
      ...(t.label ? { label: t.label } : {}),
      ...(t.pairs ? { pairs: t.pairs } : {}),
      method,
      goal: METHODS[method].needsGoal ? (t.goal ?? 'auto') : 'none',
      goalMargin: t.goalMargin ?? cfg.goalMargin ?? 0,
      ...(cfg.train || t.train ? { train: { ...cfg.train, ...t.train } } : {}),
      ...(cfg.prune || t.prune ? { prune: { ...cfg.prune, ...t.prune } } : {}),
      ...(cfg.limit || t.limit ? { limit: { ...cfg.limit, ...t.limit } } : {}),
      ...(cfg.packnetRatio !== undefined ? { packnetRatio: cfg.packnetRatio } : {}),
      // Read by PAE only: PackNet never expands, fine-tuning and ProgressiveNet do not ask.
      maxExpansions: t.maxExpansions ?? cfg.maxExpansions ?? 2,
      batchSize: t.batchSize ?? cfg.batchSize ?? 64,
      seed: cfg.seed ?? 0,
      ...(t.classWeights ? { classWeights: t.classWeights } : {}),
      ...(t.augment ? { augment: t.augment } : {}),
      ...(t.labelSmoothing ? { labelSmoothing: t.labelSmoothing } : {}),
      ...(t.inputSize ? { inputSize: t.inputSize } : {}),
    },
    sinks,
    { checkpoints, resume },
  );
  return { model: r.model, record: r.record, individualSeconds: r.individualSeconds };
}

async function newModel(cfg: RunConfig, provenance: Provenance): Promise<PaeModel> {
  const first = cfg.tasks[0]!;
  return first.pretrained
    ? (
        await importPretrained(
          { from: first.pretrained, name: first.name, ...(cfg.inputSize ? { inputSize: cfg.inputSize } : {}) },
          provenance,
        )
      ).model
    : PaeModel.create(configFromPreset(cfg.arch, cfg.widthMult ?? 1), provenance);
}

/**
 * Runs one method over the sequence, from its last checkpoint if any. After each task every earlier task is
 * re-measured, so the accuracy matrix and BWT come from the run, not from the method's promise. Data-parallel:
 * every rank trains, rank 0 alone measures and checkpoints, and the others receive its numbers.
 */
async function runMethod(
  method: MethodId,
  cfg: RunConfig,
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
  // Every rank goes on after the same task (the checkpoints are rank 0's: other machines need them too).
  world().agree(`${method}'s tasks done before this run`, String(progress.done));
  const main = world().isMain;
  // Seeded here too: every method starts from the same initial weights, whatever ran before it in the process.
  if (!saved) manualSeed(cfg.seed ?? 0);
  let model = saved?.model ?? (await newModel(cfg, provenance));
  try {
    if (saved) sinks.note?.(`${method}: resuming after task ${progress.done} of ${cfg.tasks.length} (${ck.dir})`);
    const scorers: Scorer[] = [];
    if (main) for (const t of cfg.tasks.slice(0, progress.done)) scorers.push(await scorerFor(model, t, cfg.limit?.val));
    for (let i = progress.done; i < cfg.tasks.length; i++) {
      const t = cfg.tasks[i]!;
      sinks.note?.(`${method} [${i + 1}/${cfg.tasks.length}] ${t.name} (${t.kind}) from ${t.data}`);
      // The same seed for every method at every task: the methods differ in what they do, not in their luck.
      manualSeed((cfg.seed ?? 0) + i);
      const start = Date.now();
      const ckDir = join(ck.dir, method, `task-${i + 1}`);
      const learned = await learn(model, method, cfg, i, ckDir, sinks);
      if (learned.model !== model) {
        model.dispose();
        model = learned.model;
      }
      if (main) {
        const seconds = (Date.now() - start) / 1000 - learned.individualSeconds;
        scorers.push(await scorerFor(model, t, cfg.limit?.val));
        await measureTask(method, cfg, i, model, learned, seconds, scorers, progress);
        ck.save(method, model, progress);
        // The task is in the method's checkpoint now: its own (inside-the-task) checkpoints are spent.
        new CheckpointDir(ckDir).clear();
      }
      // The other ranks take rank 0's numbers, so every rank returns the same result.
      Object.assign(progress, world().fromMainJson(main ? progress : null));
    }
    return { model, progress };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** Re-measures every task learned so far (a row of the accuracy matrix) and records task i's numbers in `progress`. */
async function measureTask(
  method: MethodId,
  cfg: RunConfig,
  i: number,
  model: PaeModel,
  learned: { record: TaskRecord; individualSeconds: number },
  seconds: number,
  scorers: Scorer[],
  progress: MethodProgress,
): Promise<void> {
  const t = cfg.tasks[i]!;
  const { record, individualSeconds } = learned;
  const row: (number | null)[] = [];
  for (let j = 0; j < cfg.tasks.length; j++) row.push(j <= i ? await scorers[j]!(model) : null);
  progress.rows.push(row);
  const ledger = computeLedger(model);
  progress.seconds.push(seconds);
  progress.sizes.push(METHODS[method].keptBytes(ledger));
  progress.weights.push(ledger.totalWeights);
  if (method === 'pae') {
    const own = ledger.tasks.find((x) => x.id === record.id)!;
    progress.individual.push({
      score: record.goal.individual ?? NaN,
      seconds: individualSeconds,
      bytes: METHODS.individual.keptBytes(ledger),
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
}

function methodRun(method: MethodId, p: Omit<MethodProgress, 'done' | 'outcomes' | 'individual'>): MethodRun {
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
export async function runExperiment(config: ExperimentConfig, provenance: Provenance, sinks: Sinks = {}): Promise<ExperimentResult> {
  const w = world();
  // Data-parallel: one job over every method and task; rank 0 reports, measures and writes, the others train.
  return w.job(() => runOnRank(config, provenance, w.isMain ? sinks : {}));
}

async function runOnRank(config: ExperimentConfig, provenance: Provenance, sinks: Sinks): Promise<ExperimentResult> {
  const t0 = Date.now();
  const w = world();
  // Rank 0 writes the pooled manifests; every rank reads the paths it wrote.
  const cfg = w.fromMainJson(w.isMain ? resolveTaskData(config) : null)!;
  const methods = cfg.methods ?? ['pae', 'individual'];
  const ck = new ExperimentCheckpoints(join(cfg.output, 'checkpoints'), config);
  const runs = new Map<MethodId, MethodRun>();
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
    if (w.isMain) saveModel(pae.model, modelFile);
    const peers = cfg.peers && w.isMain ? await comparePeers(cfg, cfg.peers, pae.model, modelFile, sinks.note) : undefined;
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
