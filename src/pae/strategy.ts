// The PAE strategy for one new task: open free weights, train, expand while below the goal, prune to the goal
// (or, as PackNet, to a fixed ratio). Data-parallel ranks run the same cycle: every decision comes from scores rank 0
// measured (trainer), and the outcome is compared across the ranks at the end.
import { setRngState, world } from '../engine/index.ts';
import type { EventSink, ProgressSink } from './events.ts';
import { expand } from './expander.ts';
import type { HeadSpec, PackableNet } from './network.ts';
import { countOwned, openFree, prunedRatio, zeroFree } from './ownership.ts';
import type { Sharing } from './packable-layer.ts';
import { gradualPrune, type PruneProgress, type PruneResume, type Pruning, type RatioRecord } from './pruner.ts';
import { Snapshot } from './snapshot.ts';
import type { TaskData } from './task-data.ts';
import { trainTask, type TrainProgress, type TrainResult } from './trainer.ts';
import type { PruneConfig, TrainConfig } from './train-config.ts';

export interface PackOptions {
  train: TrainConfig;
  prune: PruneConfig;
  /** Accuracy the task must reach (the individual network's), or null for none: below it the backbone expands. */
  goal: number | null;
  /**
   * With `goal` null: prune to the task's own trained (unpruned) accuracy minus this margin, as for an imported
   * network — when no individual network is trained to set the goal. Never expands. @default undefined (no goal)
   */
  trainedGoalMargin?: number;
  /**
   * PackNet's mode: prune one-shot to this ratio and keep it whatever its accuracy, instead of the gradual
   * ladder that keeps the largest ratio meeting `goal`. @default undefined (the ladder)
   */
  fixedRatio?: number;
  /** @default 'cumulative' */ sharing?: Sharing;
  /** Expansions allowed for this task. @default 2 */ maxExpansions?: number;
  /** Model-size ratio of one expansion (width ×√ratio). @default 1.2 */ expandRatio?: number;
  /** Expand before training when the task would get fewer free weights than this fraction of the backbone. @default 0.01 */
  minFreeFraction?: number;
  /** Skip gradual pruning (individual networks, the last task of a run). @default false */
  skipPruning?: boolean;
  events?: EventSink;
  progress?: ProgressSink;
  /**
   * Called at every resumable point: after each training epoch, after training, after each pruning step and
   * after each epoch inside one. The checkpoint's tensors stay the cycle's: valid during the call only.
   */
  onCheckpoint?: (c: PackCheckpoint) => void;
  /** Continue an interrupted cycle: the network already holds the task, part-trained, trained or partly pruned. */
  resume?: PackResume;
}

/** A resumable point of the cycle. */
export interface PackCheckpoint {
  /** 'training': between two epochs of training (`training` set); 'pruning': after a step, or inside one. */
  stage: 'training' | 'trained' | 'pruning';
  /** The trained accuracy; while training, the best so far. */
  trainedAccuracy: number;
  expansions: number;
  decisions: string[];
  training?: TrainingCheckpoint;
  pruning?: PruneProgress;
}

/** Training caught between two epochs, and the state before the task (what an expansion restarts from). */
export interface TrainingCheckpoint {
  progress: TrainProgress;
  /** The network before the task's slot was opened; null when this attempt cannot end in an expansion. */
  pretask: Snapshot | null;
}

/** What a resumed cycle needs (from the last checkpoint); the cycle takes its tensors over. */
export interface PackResume {
  trainedAccuracy: number;
  expansions: number;
  decisions: string[];
  /** The global generator at the checkpoint (dropout goes on drawing from there); older checkpoints lack it. */
  rng?: Uint8Array;
  /** Set for a checkpoint inside training: the attempt goes on from its last epoch. */
  training?: TrainingCheckpoint;
  pruning?: PruneResume;
}

export interface PackResult {
  task: number;
  /** Validation score after training, before pruning. */
  trainedAccuracy: number;
  /** Validation score at the kept ratio. */
  accuracy: number;
  ratio: number;
  records: RatioRecord[];
  expansions: number;
  ownedWeights: number;
  decisions: string[];
  train: TrainResult;
}

/** Next free task id (1-based, in arrival order). */
export function nextTaskId(net: PackableNet): number {
  return Math.max(0, ...net.slots.keys()) + 1;
}

/**
 * Adds task `id` to the network with the whole PAE cycle. Earlier tasks are never touched: their weights
 * get zero gradients, their BN and heads are not in the graph, and expansion keeps their width.
 */
export async function packTask(net: PackableNet, id: number, head: HeadSpec, data: TaskData, o: PackOptions): Promise<PackResult> {
  const events = o.events;
  const decisions: string[] = [];
  const decide = (decision: string, reason: string): void => {
    decisions.push(`${decision}: ${reason}`);
    events?.emit({ type: 'decision', task: id, decision, reason });
  };
  const onCheckpoint = o.onCheckpoint;
  const maxExpansions = o.maxExpansions ?? 2;
  const ratio = o.expandRatio ?? 1.2;
  let expansions = o.resume?.expansions ?? 0;
  let train: TrainResult = { best: o.resume?.trainedAccuracy ?? NaN, bestEpoch: -1, epochsRun: 0, history: [] };
  if (o.resume) decisions.push(...o.resume.decisions);
  if (o.resume?.rng) setRngState(o.resume.rng);
  // A checkpoint after training skips the loop; one inside training re-enters it at that attempt's next epoch.
  const trained = o.resume !== undefined && o.resume.training === undefined;
  let within = o.resume?.training;
  while (!trained) {
    const resumed = within;
    within = undefined;
    const before = resumed ? resumed.pretask : Snapshot.capture(net, []);
    try {
      let room = true;
      if (!resumed) {
        net.addTaskSlot(id, o.sharing ?? 'cumulative', head);
        const opened = openFree(net, id);
        const minFree = Math.ceil((o.minFreeFraction ?? 0.01) * net.totalWeights());
        room = opened >= minFree || expansions >= maxExpansions;
        if (!room) decide('expand', `only ${opened} free weights (< ${minFree}) for the new task`);
        else if (opened < minFree) decide('no-room', `only ${opened} free weights and the expansion limit (${maxExpansions}) is reached`);
      }
      if (room) {
        // Only an attempt that may end in an expansion needs the pre-task state in its checkpoints.
        const pretask = o.goal !== null && expansions < maxExpansions ? before : null;
        train = await trainTask(net, id, data, o.train, {
          events,
          progress: o.progress,
          ...(resumed ? { resume: resumed.progress } : {}),
          ...(onCheckpoint
            ? {
                onEpoch: (progress: TrainProgress) =>
                  onCheckpoint({
                    stage: 'training',
                    trainedAccuracy: progress.best,
                    expansions,
                    decisions: [...decisions],
                    training: { progress, pretask },
                  }),
              }
            : {}),
        });
        const below = o.goal !== null && train.best < o.goal;
        if (!below || expansions >= maxExpansions) {
          if (below)
            decide(
              'goal-missed',
              `best ${train.best.toFixed(4)} < goal ${o.goal!.toFixed(4)} and the expansion limit (${maxExpansions}) is reached`,
            );
          break;
        }
        decide('expand', `best ${train.best.toFixed(4)} < goal ${o.goal!.toFixed(4)} in the free capacity`);
      }
      // Back to the pre-task state, widen, and try again from there.
      if (!before) throw new Error('paenet: internal error: the training checkpoint lacks the pre-task state an expansion needs');
      net.dropTaskSlot(id);
      before.restore(net);
      const { before: w0, after: w1 } = expand(net, ratio);
      expansions++;
      events?.emit({ type: 'expand', task: id, level: net.level, sizeRatio: ratio, weightsBefore: w0, weightsAfter: w1 });
    } finally {
      before?.dispose();
    }
  }
  if (!trained) onCheckpoint?.({ stage: 'trained', trainedAccuracy: train.best, expansions, decisions: [...decisions] });
  let accuracy = train.best;
  let kept = 0;
  let records: RatioRecord[] = [{ ratio: 0, realised: prunedRatio(net, id), accuracy }];
  if (!o.skipPruning) {
    const goal = o.goal ?? (o.trainedGoalMargin !== undefined ? train.best - o.trainedGoalMargin : null);
    const pruning: Pruning = o.fixedRatio === undefined ? { kind: 'gradual', goal } : { kind: 'fixed', ratio: o.fixedRatio };
    const pruned = await gradualPrune(net, id, data, o.train, o.prune, pruning, train.best, {
      ...(events ? { events } : {}),
      ...(o.progress ? { progress: o.progress } : {}),
      ...(o.resume?.pruning ? { resume: o.resume.pruning } : {}),
      // Only with a listener: each report copies the optimizer's state.
      ...(onCheckpoint
        ? {
            onStep: (pruning: PruneProgress) =>
              onCheckpoint({ stage: 'pruning', trainedAccuracy: train.best, expansions, decisions: [...decisions], pruning }),
          }
        : {}),
    });
    records = pruned.records;
    accuracy = pruned.chosen.accuracy;
    kept = pruned.chosen.ratio;
    decisions.push(`keep-ratio ${kept}: ${pruned.reason}`);
  }
  zeroFree(net);
  const ownedWeights = net.layers.reduce((n, l) => n + countOwned(l, id), 0);
  world().agree(`task ${id}'s decisions and owned weights`, JSON.stringify({ decisions, kept, expansions, ownedWeights }));
  events?.emit({ type: 'task-end', task: id, accuracy, ratio: kept, ownedWeights });
  return { task: id, trainedAccuracy: train.best, accuracy, ratio: kept, records, expansions, ownedWeights, decisions, train };
}
