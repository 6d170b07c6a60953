// Pruning a trained task (§3): frees its smallest weights in steps, retrains after each, and keeps the largest ratio
// meeting the goal (PAE's gradual ladder), or one-shot to a fixed ratio kept whatever its accuracy (PackNet).
// Data-parallel ranks each run the ladder: masks come from the same weights and accuracies from rank 0 (trainer),
// so the ranks choose alike; the choice is compared across them before it is applied.
import { world } from '../engine/index.ts';
import type { EventSink, ProgressSink } from './events.ts';
import type { PackableNet } from './network.ts';
import { prunedRatio, releaseToRatio } from './ownership.ts';
import { Snapshot } from './snapshot.ts';
import type { TaskData } from './task-data.ts';
import { disposeProgress, trainTask, type TrainProgress } from './trainer.ts';
import type { PruneConfig, TrainConfig } from './train-config.ts';

/**
 * How a trained task is pruned: PAE's ladder (`PruneConfig.ratios`, the largest ratio whose accuracy meets `goal`
 * is kept), or PackNet's single one-shot step to `ratio`, kept whatever its accuracy.
 */
export type Pruning = { kind: 'gradual'; goal: number | null } | { kind: 'fixed'; ratio: number };

/** Accuracy measured at one pruning ratio. */
export interface RatioRecord {
  /** Target ratio of the step (0 = unpruned). */
  ratio: number;
  /** Realised free/(free+own) over all layers. */
  realised: number;
  accuracy: number;
}

export interface PruneResult {
  records: RatioRecord[];
  chosen: RatioRecord;
  /** Why this ratio: met the goal, no ratio met it, or no goal given. */
  reason: string;
}

/**
 * The turning point (§8.1, CPG's rule): the largest tested ratio whose accuracy meets the goal; if none
 * does, the unpruned record. Without a goal, the most accurate record (the TF reference's idxmax).
 */
export function chooseRatio(records: RatioRecord[], goal: number | null): { chosen: RatioRecord; reason: string } {
  const unpruned = records.find((r) => r.ratio === 0);
  if (!unpruned) throw new Error('paenet: pruning records lack the unpruned (ratio 0) entry');
  if (goal === null) {
    const chosen = records.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
    return { chosen, reason: 'no accuracy goal: kept the most accurate ratio' };
  }
  const meeting = records.filter((r) => r.accuracy >= goal);
  if (meeting.length === 0) {
    return {
      chosen: unpruned,
      reason: `no ratio met the goal ${goal.toFixed(4)} (unpruned ${unpruned.accuracy.toFixed(4)}): kept all weights`,
    };
  }
  const chosen = meeting.reduce((a, b) => (b.ratio > a.ratio ? b : a));
  return { chosen, reason: `largest ratio with accuracy ${chosen.accuracy.toFixed(4)} ≥ goal ${goal.toFixed(4)}` };
}

/** PackNet's rule: the (only) pruned record, whatever its accuracy. */
function fixedChoice(records: RatioRecord[]): { chosen: RatioRecord; reason: string } {
  const chosen = records.reduce((a, b) => (b.ratio > a.ratio ? b : a));
  return { chosen, reason: `fixed ratio: kept ${chosen.ratio} whatever its accuracy (${chosen.accuracy.toFixed(4)})` };
}

/** The record `pruning` keeps among the ladder's records. */
const choose = (records: RatioRecord[], pruning: Pruning) =>
  pruning.kind === 'fixed' ? fixedChoice(records) : chooseRatio(records, pruning.goal);

/** Sparsity inside a step: s_end + (s_start − s_end)(1 − p)³ (Zhu & Gupta). */
export function cubicRamp(start: number, end: number, progress: number): number {
  const p = Math.min(1, Math.max(0, progress));
  return end + (start - end) * (1 - p) ** 3;
}

function releaseAll(net: PackableNet, task: number, ratio: number): number {
  return net.layers.reduce((n, l) => n + releaseToRatio(l, task, ratio), 0);
}

/** Where a pruning ladder stands: enough to checkpoint it and to resume it after a crash. */
export interface PruneProgress {
  records: RatioRecord[];
  /** Ratio of the state the choice rule would keep now. */
  candidateRatio: number;
  /** The candidate's state (all layers, the task's BN and head): the same object until another state replaces it. */
  candidate: Snapshot;
  /** Set inside a step (a checkpoint after one of its epochs): the step's ratio and training; `records` lacks it yet. */
  step?: PruneStep;
}

/** A ladder step caught between two of its epochs. */
export interface PruneStep {
  ratio: number;
  progress: TrainProgress;
}

/** What a ladder goes on from: the records so far, the candidate's state and maybe a step half done. */
export interface PruneResume {
  records: RatioRecord[];
  candidateRatio: number;
  candidate: Snapshot;
  /** Continue this step from its checkpointed epoch (the network holds that epoch's state). */
  step?: PruneStep;
}

export interface PruneOptions {
  events?: EventSink;
  progress?: ProgressSink;
  /**
   * Called after every step with the ladder's state, and after every epoch inside a step with `step` set (the CLI
   * writes checkpoints here). The tensors stay the ladder's: valid during the call only.
   */
  onStep?: (p: PruneProgress) => void;
  /**
   * Continue a ladder: the records so far and the candidate's state (the network holds the last step's state, or
   * the state after `step`'s last epoch). The ladder takes the tensors over. Restore the global generator first.
   */
  resume?: PruneResume;
}

/** Whether `r` replaces `current` as the state to keep (the incremental form of `choose`). */
function better(r: RatioRecord, current: RatioRecord, pruning: Pruning): boolean {
  if (pruning.kind === 'fixed') return r.ratio > current.ratio;
  const goal = pruning.goal;
  if (goal === null) return r.accuracy > current.accuracy;
  return r.accuracy >= goal && r.ratio > current.ratio;
}

/**
 * Runs the pruning ladder for `task` (which must be the newest task) starting from its trained state, then
 * restores the chosen ratio's state. `unprunedAccuracy` is the validation score of the trained state. Only
 * two states are held: the current one and the candidate the choice rule would keep so far. A fixed `pruning`
 * replaces the ladder by one one-shot step to its ratio (the step's epochs and lr still come from `ladder`).
 */
export async function gradualPrune(
  net: PackableNet,
  task: number,
  data: TaskData,
  train: TrainConfig,
  ladder: PruneConfig,
  pruning: Pruning,
  unprunedAccuracy: number,
  o: PruneOptions = {},
): Promise<PruneResult> {
  const prune = pruning.kind === 'fixed' ? { ...ladder, ratios: [pruning.ratio], rampEpochs: 0 } : ladder;
  const goal = pruning.kind === 'gradual' ? pruning.goal : null;
  const records: RatioRecord[] = o.resume
    ? [...o.resume.records]
    : [{ ratio: 0, realised: prunedRatio(net, task), accuracy: unprunedAccuracy }];
  let candidate = o.resume?.candidate ?? Snapshot.capture(net, [task]);
  let candidateRecord = records.find((r) => r.ratio === (o.resume?.candidateRatio ?? 0))!;
  let previous = records.at(-1)!.ratio;
  const stoppedEarly = goal !== null && prune.stopBelowGoal && records.length > 1 && records.at(-1)!.accuracy < goal;
  // A step checkpointed half way: taken over by the first step below, which must be the same one.
  let within = o.resume?.step;
  try {
    for (const ratio of stoppedEarly ? [] : prune.ratios.filter((r) => r > previous)) {
      const resumed = within;
      within = undefined;
      if (resumed && resumed.ratio !== ratio) {
        disposeProgress(resumed.progress);
        throw new Error(`paenet: the checkpoint is inside the step to ratio ${resumed.ratio}, but the ladder's next ratio is ${ratio}`);
      }
      const rampIterations = Math.max(1, prune.rampEpochs * data.batchesPerEpoch);
      const start = previous;
      // Checkpoints count only once the mask sits at the step's ratio (after the ramp's last epoch).
      const lastRampEpoch = Math.min(prune.rampEpochs, prune.epochsPerStep) - 1;
      const result = await trainTask(
        net,
        task,
        data,
        { ...train, lr: prune.lr, epochs: prune.epochsPerStep, patience: Infinity },
        {
          phase: 'prune',
          ratio,
          checkpointFrom: lastRampEpoch,
          ...(o.events ? { events: o.events } : {}),
          ...(o.progress ? { progress: o.progress } : {}),
          ...(resumed ? { resume: resumed.progress } : {}),
          ...(o.onStep
            ? {
                onEpoch: (progress: TrainProgress) =>
                  o.onStep!({ records, candidateRatio: candidateRecord.ratio, candidate, step: { ratio, progress } }),
              }
            : {}),
          onIteration: (it, _epoch, opt) => {
            // rampEpochs 0 = one-shot pruning (PackNet): the whole step's ratio at the first iteration.
            if (prune.rampEpochs <= 0) {
              if (it === 0 && releaseAll(net, task, ratio) > 0) opt.resetState();
              return;
            }
            if (it % prune.frequency !== 0 || it >= rampIterations) return;
            if (releaseAll(net, task, cubicRamp(start, ratio, it / rampIterations)) > 0) opt.resetState();
          },
          // The ramp's last mask update may fall short of the target; pin it when the ramp ends.
          onEpochEnd: (epoch, opt) => {
            if (epoch === lastRampEpoch && releaseAll(net, task, ratio) > 0) opt.resetState();
          },
        },
      );
      const record = { ratio, realised: prunedRatio(net, task), accuracy: result.best };
      records.push(record);
      o.events?.emit({ type: 'prune-step', task, ...record });
      if (better(record, candidateRecord, pruning)) {
        candidate.dispose();
        candidate = Snapshot.capture(net, [task]);
        candidateRecord = record;
      }
      o.onStep?.({ records, candidateRatio: candidateRecord.ratio, candidate });
      previous = ratio;
      if (goal !== null && result.best < goal && prune.stopBelowGoal) {
        o.events?.emit({
          type: 'decision',
          task,
          decision: 'stop-pruning',
          reason: `accuracy ${result.best.toFixed(4)} < goal ${goal.toFixed(4)} at ratio ${ratio}`,
        });
        break;
      }
    }
    if (within) throw new Error(`paenet: the checkpoint is inside the step to ratio ${within.ratio}, which this ladder does not run`);
    const { chosen, reason } = choose(records, pruning);
    world().agree(`task ${task}'s pruning records and kept ratio`, JSON.stringify({ records, kept: chosen.ratio }));
    if (chosen.ratio !== candidateRecord.ratio)
      throw new Error(`paenet: internal error: candidate ratio ${candidateRecord.ratio} != chosen ${chosen.ratio}`);
    candidate.restore(net);
    o.events?.emit({ type: 'decision', task, decision: `keep-ratio ${chosen.ratio}`, reason });
    return { records, chosen, reason };
  } finally {
    candidate.dispose();
    if (within) disposeProgress(within.progress);
  }
}
