// Adds one task to a model end to end: load its data, set its goal, run the PAE cycle, record it in the manifest.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  balanceReport,
  classCounts,
  FACE_AUGMENT_STRONG,
  inverseFrequencyWeights,
  kFold,
  paeClassWeights,
  trainValFromFolds,
} from '../data/index.ts';
import {
  DEFAULT_PRUNE,
  DEFAULT_TRAIN,
  METHODS,
  PackableNet,
  nextTaskId,
  taskRecord,
  validateRatios,
  type EventSink,
  type GoalRecord,
  type MethodId,
  type PackCheckpoint,
  type PackResult,
  type PaeModel,
  type ProgressSink,
  type PruneConfig,
  type TaskDescription,
  type TaskRecord,
  type TrainConfig,
} from '../pae/index.ts';
import { describeCheckpoint, disposeLoaded, type CheckpointDir } from './checkpoint.ts';
import { manualSeed, world } from '../engine/index.ts';
import { PaenetError } from '../common/errors.ts';
import {
  FACE_AUGMENT,
  headFor,
  ImageTaskData,
  loadImageSet,
  loadPairSet,
  metricFor,
  subsetImageSet,
  type ImageSet,
  type PairSet,
  type TaskKind,
} from '../tasks/index.ts';
import { classificationValidator, evaluateVerificationTask, verificationValidator } from '../tasks/evaluate.ts';

export interface AddTaskSpec {
  name: string;
  kind: TaskKind;
  /** Training manifest (CSV with path, label and split columns). */
  data: string;
  /** Label column. @default 'label' */ label?: string;
  /** @default 'train' */ trainSplit?: string;
  /** Classification validation split of the same manifest. @default 'val' */ valSplit?: string;
  /** Identity validation pairs. @default pairs.txt beside the manifest */ pairs?: string;
  /**
   * 'auto' = an individual network's score on the same data (minus goalMargin); 'trained' = the task's own
   * unpruned accuracy (minus goalMargin), no individual network; a number; or 'none'.
   */
  goal: 'auto' | 'trained' | 'none' | number;
  /** @default 0 */ goalMargin?: number;
  train?: Partial<TrainConfig>;
  prune?: Partial<PruneConfig>;
  /** @default 2 */ maxExpansions?: number;
  /** @default 1.2 */ expandRatio?: number;
  /** @default 64 */ batchSize?: number;
  /**
   * Input side in pixels this task trains and runs at (crops are resized to it). The backbone is fully
   * convolutional with a global pool, so each task may pick the resolution that pays: FER's 48 px faces need less
   * than identity does. @default the backbone's inputSize
   */
  inputSize?: number;
  /** @default 0 */ seed?: number;
  /** Use at most this many training / validation images (fast configurations). */
  limit?: { train?: number; val?: number };
  /**
   * Training augmentation: 'face' (flip, small shift/zoom, brightness/contrast), 'strong' (also rotation,
   * saturation, random erasing: FACE_AUGMENT_STRONG) or 'none'. @default 'face'
   */
  augment?: 'face' | 'strong' | 'none';
  /** Label smoothing of the classification loss. @default 0 */
  labelSmoothing?: number;
  /** Class-balanced loss: 'pae' = (N − n_c)/n_c as the paper's expression task. @default 'none' */
  classWeights?: 'none' | 'pae' | 'inverse';
  /** Head of identity tasks. @default 'cosface' */ identityHead?: 'cosface' | 'arcface' | 'linear';
  /** @default false */ skipPruning?: boolean;
  /** Adience-style k-fold: train on the other folds, validate on fold `i` (instead of the split column). */
  folds?: { k: number; i: number };
  /** Earlier weights the task computes with: all tasks' (default) or task 1's only (the paper's share_only_task_1). */
  sharing?: 'cumulative' | 'task1';
  /** How the task is learned: PAE (default) or a baseline on the same backbone. */
  method?: MethodId;
  /** PackNet's fixed pruning ratio. @default 0.5 */
  packnetRatio?: number;
  /** Extra row filters on the manifest (column → value). */
  where?: Record<string, string>;
}

/** The task's input side: its own, or the backbone's; one clear error for a side the backbone cannot take. */
export function taskInputSize(spec: { name: string; inputSize?: number }, backbone: number): number {
  const s = spec.inputSize ?? backbone;
  if (!Number.isInteger(s) || s < 32 || s > 512)
    throw new PaenetError('PAENET_INPUT', `task '${spec.name}': input size ${s} must be a whole number of pixels in 32..512`);
  return s;
}

/** Resumable runs: where checkpoints go, and whether to continue from them. */
export interface CheckpointOptions {
  checkpoints?: CheckpointDir;
  /** Continue from `checkpoints` (which must hold one for this task). */
  resume?: boolean;
}

export interface AddTaskSinks {
  events?: EventSink;
  progress?: ProgressSink;
  /** Human-readable notes (data counts, skipped rows, goal). */
  note?: (line: string) => void;
}

export interface AddTaskResult {
  /** The model with the new task (on resume: the model rebuilt from the checkpoint, not the one passed in). */
  model: PaeModel;
  record: TaskRecord;
  result: PackResult;
  /** Seconds spent training the individual network behind an 'auto' goal (0 otherwise). */
  individualSeconds: number;
}

/** Decoding a large set takes seconds: an onProgress callback that shows it on the bar and notes the total when done. */
export function decodeProgress(sinks: AddTaskSinks, what: string): (done: number, total: number) => void {
  let shown = -1;
  return (done, total) => {
    if (shown < 0) {
      sinks.progress?.start(what, total);
      shown = 0;
    }
    for (; shown < done; shown++) sinks.progress?.tick();
    if (done === total) {
      sinks.progress?.stop();
      sinks.note?.(`${what}: ${total} images`);
    }
  };
}

/** Label column default per kind. */
function labelOf(spec: AddTaskSpec): string {
  return spec.label ?? 'label';
}

/** Trains an individual (dense, single-task) network of the same backbone on the same data; returns its best score. */
export async function individualScore(
  model: PaeModel,
  spec: AddTaskSpec,
  data: ImageTaskData,
  classes: number,
  train: TrainConfig,
  sinks: AddTaskSinks,
): Promise<number> {
  const net = PackableNet.create({ ...structuredClone(model.config), expansions: [] });
  try {
    sinks.note?.(`goal: training an individual ${model.config.arch} network on ${spec.name} ...`);
    // An individual network is never pruned: the ladder settings are unused.
    const options = { train, prune: DEFAULT_PRUNE, goal: null, progress: sinks.progress };
    return (await METHODS.individual.learn(net, 1, headFor(spec.kind, classes, spec.identityHead), data, options)).accuracy;
  } finally {
    net.dispose();
  }
}

/** Training and validation data of a task, and its validation score (top-1, or verification on pairs). */
interface TaskInputs {
  train: ImageSet;
  val?: ImageSet;
  pairSet?: PairSet;
  pairsFile?: string;
  validate: (net: PackableNet, task: number) => Promise<number>;
}

async function loadTaskData(spec: AddTaskSpec, size: number, sinks: AddTaskSinks): Promise<TaskInputs> {
  if (!existsSync(spec.data)) throw new Error(`${spec.data}: data manifest not found`);
  const label = labelOf(spec);
  const progress = (what: string) => decodeProgress(sinks, what);
  const badImage = (path: string, message: string): void => sinks.note?.(`skipped bad image ${path}: ${message}`);
  if (spec.folds && spec.kind !== 'classify')
    throw new Error('paenet: --folds applies to classify tasks (identity tasks are validated on pairs)');
  if (
    spec.folds &&
    !(
      Number.isInteger(spec.folds.k) &&
      spec.folds.k >= 2 &&
      Number.isInteger(spec.folds.i) &&
      spec.folds.i >= 0 &&
      spec.folds.i < spec.folds.k
    )
  ) {
    throw new Error(`paenet: --fold must be an integer in [0, ${spec.folds.k - 1}] and --folds an integer ≥ 2`);
  }
  // With folds, the whole manifest is one pool split Adience-style (stratified, seeded); otherwise the split column decides.
  const pool = await loadImageSet(spec.data, {
    label,
    size,
    ...(spec.folds ? {} : { split: spec.trainSplit ?? 'train' }),
    ...(spec.limit?.train ? { limit: spec.limit.train, limitBy: spec.kind === 'identity' ? ('class' as const) : ('spread' as const) } : {}),
    ...(spec.where ? { where: spec.where } : {}),
    onProgress: progress(spec.folds ? 'decoding images' : 'decoding training images'),
    onBadImage: badImage,
  });
  let train = pool;
  let val: ImageSet | undefined;
  if (spec.folds) {
    const parts = trainValFromFolds(kFold(pool.labels, spec.folds.k, { seed: spec.seed ?? 0 }), spec.folds.i);
    train = subsetImageSet(pool, parts.train);
    val = subsetImageSet(pool, parts.val);
    sinks.note?.(`fold ${spec.folds.i} of ${spec.folds.k}: ${train.labels.length} training, ${val.labels.length} validation images`);
  }
  const counts = classCounts(train.labels, train.classNames.length);
  if (spec.kind === 'classify') sinks.note?.(balanceReport(counts, train.classNames));
  else sinks.note?.(`${counts.filter((c) => c > 0).length} identities with images, ${Math.max(...counts)} images for the largest`);
  sinks.note?.(
    `${spec.data}: ${train.labels.length} training images, ${train.classNames.length} classes` +
      ` (skipped: ${train.skipped.empty} empty labels, ${train.skipped.negative} negative labels, ${train.skipped.badImages} bad images)`,
  );
  if (spec.kind === 'classify') {
    const empty = counts.findIndex((c) => c === 0);
    if (empty >= 0)
      throw new Error(`${spec.data}: class '${train.classNames[empty]}' has no training images in split '${spec.trainSplit ?? 'train'}'`);
    val ??= await loadImageSet(spec.data, {
      label,
      split: spec.valSplit ?? 'val',
      size,
      classes: train.classNames,
      ...(spec.limit?.val ? { limit: spec.limit.val } : {}),
      ...(spec.where ? { where: spec.where } : {}),
      onProgress: progress('decoding validation images'),
      onBadImage: badImage,
    });
    return { train, val, validate: classificationValidator(val) };
  }
  const pairsFile = spec.pairs ?? join(dirname(resolve(spec.data)), 'pairs.txt');
  const pairSet = await loadPairSet(pairsFile, size, progress('decoding pair images'));
  sinks.note?.(`${pairsFile}: ${pairSet.pairs.pairs.length} pairs in ${pairSet.pairs.folds} folds`);
  return { train, pairSet, pairsFile, validate: verificationValidator(pairSet) };
}

/**
 * Runs the whole PAE cycle for a new task and appends its record to the model's tasks. With checkpoints, the
 * state after every epoch of training and of pruning, after training and after every pruning step is saved (for PAE
 * and PackNet: the other methods do not checkpoint inside a task); with `resume`, the cycle continues from there
 * (the checkpoint's model replaces `model`, which is then left untouched).
 *
 * Data-parallel (a joined engine `world()`): every rank calls it with the same arguments and trains its slice of
 * each batch; only rank 0 reports (notes, events, progress) and writes checkpoints, and every rank ends with the
 * same model and record.
 */
export async function addTask(
  model: PaeModel,
  spec: AddTaskSpec,
  sinks: AddTaskSinks = {},
  ck: CheckpointOptions = {},
): Promise<AddTaskResult> {
  const w = world();
  return w.job(() => addTaskOnRank(model, spec, w.isMain ? sinks : {}, ck));
}

async function addTaskOnRank(model: PaeModel, spec: AddTaskSpec, sinks: AddTaskSinks, ck: CheckpointOptions): Promise<AddTaskResult> {
  const w = world();
  let resumed: ReturnType<CheckpointDir['load']> | undefined;
  if (ck.resume) {
    if (!ck.checkpoints?.exists())
      throw new Error(`${ck.checkpoints?.dir ?? 'checkpoint'}: nothing to resume (no checkpoint for task '${spec.name}')`);
    resumed = ck.checkpoints.load();
    if (resumed.state.taskName !== spec.name) {
      disposeLoaded(resumed);
      throw new Error(`${ck.checkpoints.dir}: checkpoint is for task '${resumed.state.taskName}', not '${spec.name}'`);
    }
    model = resumed.model;
    sinks.note?.(`resuming '${spec.name}' from ${ck.checkpoints.dir} (${describeCheckpoint(resumed.state)})`);
  }
  // Every rank must go on from the same point: a rank that read another checkpoint (or none) would diverge.
  w.agree('the checkpoint to resume', resumed ? `step ${resumed.state.step}: ${describeCheckpoint(resumed.state)}` : 'none');
  if (model.tasks.some((t) => t.name === spec.name)) throw new Error(`paenet: the model already has a task named '${spec.name}'`);
  // Same seed, same data, same threads → the same run: weight init, dropout and expansion draws all come from here.
  manualSeed(spec.seed ?? 0);
  const size = taskInputSize(spec, model.config.inputSize);
  const label = labelOf(spec);
  const { train, val, pairSet, pairsFile, validate } = await loadTaskData(spec, size, sinks);
  const counts = classCounts(train.labels, train.classNames.length);
  const classes = train.classNames.length;
  const weights =
    spec.classWeights === 'pae' ? paeClassWeights(counts) : spec.classWeights === 'inverse' ? inverseFrequencyWeights(counts) : undefined;
  const data = new ImageTaskData({
    train,
    validate,
    batchSize: spec.batchSize ?? 64,
    seed: spec.seed ?? 0,
    augment: spec.augment === 'none' ? false : spec.augment === 'strong' ? FACE_AUGMENT_STRONG : FACE_AUGMENT,
    ...(spec.labelSmoothing ? { labelSmoothing: spec.labelSmoothing } : {}),
    ...(weights ? { classWeights: weights } : {}),
  });
  const trainCfg: TrainConfig = { ...DEFAULT_TRAIN, ...spec.train };
  const pruneCfg: PruneConfig = { ...DEFAULT_PRUNE, ...spec.prune };
  validateRatios(pruneCfg.ratios);
  try {
    let goal: GoalRecord;
    let individualSeconds = 0;
    if (resumed) goal = resumed.state.goal;
    else if (spec.goal === 'auto') {
      const t0 = Date.now();
      const individual = await individualScore(model, spec, data, classes, trainCfg, sinks);
      individualSeconds = (Date.now() - t0) / 1000;
      const margin = spec.goalMargin ?? 0;
      goal = { value: individual - margin, source: 'individual', individual, margin };
      sinks.note?.(`goal: individual network ${individual.toFixed(4)} − margin ${margin} = ${(individual - margin).toFixed(4)}`);
    } else if (spec.goal === 'trained') goal = { value: null, source: 'trained', margin: spec.goalMargin ?? 0 };
    else if (spec.goal === 'none') goal = { value: null, source: 'none' };
    else goal = { value: spec.goal, source: 'number' };
    const id = resumed ? resumed.state.taskId : nextTaskId(model.net);
    const head = resumed ? resumed.head : headFor(spec.kind, classes, spec.identityHead);
    const describe = (): TaskDescription => ({
      name: spec.name,
      kind: spec.kind,
      labels: spec.kind === 'classify' ? train.classNames : [],
      head,
      goal,
      metricName: metricFor(spec.kind),
      data: {
        manifest: spec.data,
        label,
        trainSplit: spec.folds ? undefined : (spec.trainSplit ?? 'train'),
        folds: spec.folds,
        valSplit: spec.kind === 'classify' ? (spec.valSplit ?? 'val') : undefined,
        pairs: pairsFile,
        trainImages: train.labels.length,
        valImages: val?.labels.length,
        classCounts: counts,
        skipped: train.skipped,
      },
      extra: { inputSize: size, normalisation: { mean: 127.5, scale: 128 } },
    });
    const checkpoint = (c: PackCheckpoint): void => {
      const provisional = taskRecord(model, describe(), {
        task: id,
        trainedAccuracy: c.trainedAccuracy,
        accuracy: c.trainedAccuracy,
        ratio: c.pruning?.candidateRatio ?? 0,
        records: c.pruning?.records ?? [],
        expansions: c.expansions,
        ownedWeights: 0,
        decisions: c.decisions,
        train: { best: c.trainedAccuracy, bestEpoch: -1, epochsRun: 0, history: [] },
      });
      ck.checkpoints!.save(model, provisional, goal, c);
    };
    sinks.events?.emit({ type: 'task-start', task: id, name: spec.name, goal: goal.value });
    const result = await METHODS[spec.method ?? 'pae'].learn(model.net, id, head, data, {
      ...(spec.packnetRatio !== undefined ? { packnetRatio: spec.packnetRatio } : {}),
      train: trainCfg,
      prune: pruneCfg,
      goal: goal.value,
      ...(goal.source === 'trained' ? { trainedGoalMargin: goal.margin ?? 0 } : {}),
      maxExpansions: spec.maxExpansions ?? 2,
      expandRatio: spec.expandRatio ?? 1.2,
      skipPruning: spec.skipPruning ?? false,
      sharing: spec.sharing ?? 'cumulative',
      ...(sinks.events ? { events: sinks.events } : {}),
      ...(sinks.progress ? { progress: sinks.progress } : {}),
      // Rank 0 writes the checkpoints (saving draws nothing, so the other ranks' runs stay the same without them).
      ...(ck.checkpoints && w.isMain ? { onCheckpoint: checkpoint } : {}),
      ...(resumed ? { resume: resumed.resume } : {}),
    });
    // A 'trained' goal is known once the task is trained: record the value the pruning ladder was held to.
    if (goal.source === 'trained') goal.value = result.trainedAccuracy - (goal.margin ?? 0);
    const description = describe();
    const extra = description.extra!;
    if (pairSet) {
      // The identity classifier only served to learn the embedding: drop it from the model (it is most of the module's bytes).
      model.net.dropHead(id);
      // Rank 0 measures; every rank records the same numbers.
      const report = w.fromMainJson(w.isMain ? evaluateVerificationTask(model.net, id, pairSet) : null)!;
      extra.threshold = report.threshold;
      extra.verification = { accuracy: report.value, std: report.std, auc: report.auc, pairs: pairsFile };
    }
    const record = taskRecord(model, description, result);
    model.tasks.push(record);
    return { model, record, result, individualSeconds };
  } finally {
    data.close();
  }
}
