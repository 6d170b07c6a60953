// Prunes a model's newest identity task gradually to a verification goal, retraining by distillation from its unpruned self.
import { existsSync } from 'node:fs';
import { manualSeed, setRngState, world } from '../engine/index.ts';
import {
  cloneNet,
  DEFAULT_PRUNE,
  loadModel,
  DEFAULT_TRAIN,
  gradualPrune,
  prunedRatio,
  validateRatios,
  zeroFree,
  type GoalRecord,
  type PackCheckpoint,
  type PaeModel,
  type PruneConfig,
  type PruneProgress,
  type PruneResult,
  type TaskRecord,
  type TrainConfig,
} from '../pae/index.ts';
import { DistillTaskData, loadImageSet, loadPairSet, type PairSet } from '../tasks/index.ts';
import { decodeProgress, type AddTaskSinks } from './add-task.ts';
import { describeCheckpoint, disposeLoaded, type CheckpointDir } from './checkpoint.ts';
import { evaluateVerificationTask, verificationValidator, type VerificationReport } from '../tasks/evaluate.ts';

export interface PruneTaskSpec {
  /** Task to prune (the model's newest). */
  task: string;
  /** Manifest of face images to distil on (labels unused). */
  data: string;
  /** Pairs file judging verification (the LFW protocol). */
  pairs: string;
  /** 'auto' = the unpruned task's own accuracy on the pairs (minus goalMargin); a number; or 'none'. */
  goal: 'auto' | 'none' | number;
  /** @default 0 */ goalMargin?: number;
  /** @default 'train' */ split?: string;
  train?: Partial<TrainConfig>;
  prune?: Partial<PruneConfig>;
  /** Distil on at most this many images. */
  limit?: number;
  /** @default 32 */ batchSize?: number;
  /** @default 0 */ seed?: number;
}

export interface PruneTaskResult {
  /** The pruned model (on resume: the one rebuilt from the checkpoint, not the one passed in). */
  model: PaeModel;
  record: TaskRecord;
  prune: PruneResult;
  before: VerificationReport;
  after: VerificationReport;
}

/** Distillation defaults: short steps at a small lr, the teacher is already good. */
export const DISTILL_TRAIN: Partial<TrainConfig> = { lr: 1e-4, weightDecay: 0 };

/** Resumable prunes: checkpoints, whether to continue from them, and the unpruned model file (the teacher on resume). */
export interface PruneCheckpointOptions {
  checkpoints?: CheckpointDir;
  resume?: boolean;
  teacherFile?: string;
}

/**
 * Runs the pruning ladder on an already-trained identity task (e.g. an imported pretrained net). Only the newest
 * task can be pruned: later tasks compute with the weights of every earlier one, so freeing them would change them.
 * Data-parallel as addTask: every rank distils on its slice of each batch, rank 0 reports, measures and checkpoints.
 */
export async function pruneIdentityTask(
  model: PaeModel,
  spec: PruneTaskSpec,
  sinks: AddTaskSinks = {},
  ck: PruneCheckpointOptions = {},
): Promise<PruneTaskResult> {
  const w = world();
  return w.job(() => pruneOnRank(model, spec, w.isMain ? sinks : {}, ck));
}

async function pruneOnRank(
  model: PaeModel,
  spec: PruneTaskSpec,
  sinks: AddTaskSinks,
  ck: PruneCheckpointOptions,
): Promise<PruneTaskResult> {
  const w = world();
  // The teacher is always the unpruned task: on resume, the model file (replaced only when pruning ends) still holds it.
  const teacherModel = ck.resume ? loadModel(ck.teacherFile ?? '') : undefined;
  const resumed = ck.resume ? ck.checkpoints?.load() : undefined;
  if (ck.resume && !resumed) throw new Error(`${ck.checkpoints?.dir ?? 'checkpoint'}: nothing to resume`);
  if (resumed) {
    if (resumed.state.taskName !== spec.task) {
      disposeLoaded(resumed);
      teacherModel?.dispose();
      throw new Error(`${ck.checkpoints!.dir}: checkpoint is for task '${resumed.state.taskName}', not '${spec.task}'`);
    }
    model = resumed.model;
    model.tasks.push(resumed.provisional);
    sinks.note?.(`resuming the pruning of '${spec.task}' from ${ck.checkpoints!.dir} (${describeCheckpoint(resumed.state)})`);
  }
  w.agree('the checkpoint to resume', resumed ? `step ${resumed.state.step}: ${describeCheckpoint(resumed.state)}` : 'none');
  const record = model.task(spec.task);
  const newest = model.tasks.at(-1)!;
  if (record !== newest)
    throw new Error(`paenet: only the newest task ('${newest.name}') can be pruned: later tasks compute with '${record.name}''s weights`);
  if (record.kind !== 'identity') throw new Error(`paenet: '${record.name}' is a ${record.kind} task; prune applies to identity tasks`);
  if (record.pruning.ratio > 0) throw new Error(`paenet: '${record.name}' is already pruned (ratio ${record.pruning.ratio})`);
  for (const f of [spec.data, spec.pairs]) if (!existsSync(f)) throw new Error(`${f}: no such file`);
  const trainCfg: TrainConfig = { ...DEFAULT_TRAIN, ...DISTILL_TRAIN, ...spec.train };
  const pruneCfg: PruneConfig = { ...DEFAULT_PRUNE, ...spec.prune };
  validateRatios(pruneCfg.ratios);
  manualSeed(spec.seed ?? 0);
  const size = model.inputSizeOf(record);
  const pairSet: PairSet = await loadPairSet(spec.pairs, size, decodeProgress(sinks, 'decoding pair images'));
  const images = await loadImageSet(spec.data, {
    label: 'label',
    split: spec.split ?? 'train',
    size,
    ...(spec.limit ? { limit: spec.limit } : {}),
    onProgress: decodeProgress(sinks, 'decoding images to distil on'),
  });
  sinks.note?.(`${spec.data}: ${images.labels.length} images to distil on; ${spec.pairs}: ${pairSet.pairs.pairs.length} pairs`);
  const id = record.id;
  const teacher = cloneNet((teacherModel ?? model).net);
  teacherModel?.dispose();
  const data = new DistillTaskData({
    images,
    teacher,
    teacherTask: id,
    validate: verificationValidator(pairSet),
    batchSize: spec.batchSize ?? 32,
    seed: spec.seed ?? 0,
  });
  try {
    // Rank 0 measures, every rank gets the same numbers (the goal below depends on them).
    const measure = (net: typeof teacher): VerificationReport =>
      w.fromMainJson(w.isMain ? evaluateVerificationTask(net, id, pairSet) : null)!;
    const before = measure(resumed ? teacher : model.net);
    const margin = spec.goalMargin ?? 0;
    const goal: GoalRecord =
      spec.goal === 'auto'
        ? { value: before.value - margin, source: 'individual', individual: before.value, margin }
        : spec.goal === 'none'
          ? { value: null, source: 'none' }
          : { value: spec.goal, source: 'number' };
    sinks.note?.(
      `unpruned: ${(before.value * 100).toFixed(2)} % verification; goal ${goal.value === null ? 'none' : (goal.value * 100).toFixed(2) + ' %'}`,
    );
    const checkpoint = (c: PackCheckpoint): void => {
      // The record leaves the task list while its in-progress copy is written, so the checkpoint holds it once.
      const k = model.tasks.indexOf(record);
      model.tasks.splice(k, 1);
      try {
        ck.checkpoints!.save(model, record, goal, c);
      } finally {
        model.tasks.splice(k, 0, record);
      }
    };
    // The generator as it was at the checkpoint: the retraining's dropout draws go on from there.
    if (resumed?.resume.rng) setRngState(resumed.resume.rng);
    const prune = await gradualPrune(model.net, id, data, trainCfg, pruneCfg, { kind: 'gradual', goal: goal.value }, before.value, {
      ...(sinks.events ? { events: sinks.events } : {}),
      ...(sinks.progress ? { progress: sinks.progress } : {}),
      ...(resumed?.resume.pruning ? { resume: resumed.resume.pruning } : {}),
      ...(ck.checkpoints && w.isMain
        ? {
            onStep: (pruning: PruneProgress) =>
              checkpoint({ stage: 'pruning', trainedAccuracy: before.value, expansions: record.expansions, decisions: [], pruning }),
          }
        : {}),
    });
    zeroFree(model.net);
    const after = measure(model.net);
    record.goal = goal;
    record.metric = { name: 'verification-accuracy', value: after.value, trained: before.value };
    record.pruning = { records: prune.records, ratio: prune.chosen.ratio, reason: prune.reason };
    record.decisions.push(`prune by distillation on ${spec.data}: keep-ratio ${prune.chosen.ratio}: ${prune.reason}`);
    record.extra.threshold = after.threshold;
    record.extra.verification = { accuracy: after.value, std: after.std, auc: after.auc, pairs: spec.pairs };
    record.data.pairs = spec.pairs;
    record.data.distillation = { manifest: spec.data, images: images.labels.length, realisedRatio: prunedRatio(model.net, id) };
    return { model, record, prune, before, after };
  } finally {
    data.close();
    teacher.dispose();
  }
}
