// Trains one task inside the packed network: only its own weights, BN and head move (§2). Data-parallel (several
// ranks, engine/distributed.ts): each rank steps on its slice of the batch with the masked gradients averaged over
// the ranks, rank 0 validates and every rank receives its score, so all take the same decisions.
import { autocast, dispose, F, optim, resolvePrecision, tidy, world, type Tensor } from '../engine/index.ts';
import type { EventSink, ProgressSink } from './events.ts';
import type { PackableNet } from './network.ts';
import { maskGradients } from './ownership.ts';
import { averageGradients, stateDigest, syncFromMain, syncNormStats } from './replicas.ts';
import { Snapshot } from './snapshot.ts';
import type { Batch, TaskData } from './task-data.ts';
import type { TrainConfig } from './train-config.ts';

/** Called before each iteration's update; the pruner uses it to move masks during its ramp. */
export type IterationHook = (iteration: number, epoch: number, optimizer: optim.Optimizer) => void;

export interface TrainOptions {
  phase?: 'train' | 'prune';
  /** Pruning ratio being trained at (for events). */
  ratio?: number;
  /** Epochs before this index are never checkpointed (the pruning ramp is still moving masks). @default 0 */
  checkpointFrom?: number;
  onIteration?: IterationHook;
  /** Runs after each epoch, before validation (the pruner pins the final ratio here). */
  onEpochEnd?: (epoch: number, optimizer: optim.Optimizer) => void;
  /**
   * Called after every epoch but the last (whose result the caller checkpoints anyway) and one that stops early,
   * with where training stands: what a checkpoint saves beside the network's state. Its tensors stay the
   * trainer's and are valid during the call only.
   */
  onEpoch?: (p: TrainProgress) => void;
  /**
   * Go on from a progress `onEpoch` reported, the network holding that epoch's state: the run continues as if it
   * had never stopped. The trainer takes its tensors over. The global generator (dropout) is the caller's: restore
   * it to its state at that point first (checkpoints record it).
   */
  resume?: TrainProgress;
  events?: EventSink;
  progress?: ProgressSink;
}

export interface TrainResult {
  /** Best validation score (the state is left at that checkpoint). */
  best: number;
  bestEpoch: number;
  epochsRun: number;
  history: { epoch: number; loss: number; accuracy: number; lr: number }[];
}

/**
 * Where training stands after an epoch. With the network's state at that point and the global generator's, it is
 * all a run needs to go on bit for bit: the data order and augmentation of an epoch are seeded by its number.
 */
export interface TrainProgress {
  /** Epochs done: the next one to run. */
  epoch: number;
  /** Iterations done (the cosine schedule's position and the pruning ramp's). */
  iteration: number;
  /** Best validation score so far; -Infinity before the first epoch that may be kept (`checkpointFrom`). */
  best: number;
  bestEpoch: number;
  /** Epochs since the last improvement, and plateaus so far: the plateau schedule's position. */
  bad: number;
  plateaus: number;
  history: TrainResult['history'];
  /** The best epoch's state (all layers, the task's BN and head); null before the first one. */
  bestState: Snapshot | null;
  /** The optimizer's moments and step counts, and the lr (which plateaus and the cosine schedule move). */
  optimizer: optim.OptimizerState;
}

/** Frees a progress's tensors (one that was checkpointed, or read back and never resumed). */
export function disposeProgress(p: TrainProgress): void {
  p.bestState?.dispose();
  dispose(p.optimizer.tensors);
}

/**
 * The cosine schedule's lr at `iteration` of `total` (linear warm-up over the first `warmup` iterations, then
 * half a cosine from `base` to `min`), as in SGDR / timm's per-step schedulers.
 */
export function cosineLr(base: number, min: number, iteration: number, total: number, warmup: number): number {
  if (iteration < warmup) return (base * (iteration + 1)) / warmup;
  const t = Math.min(1, (iteration - warmup) / Math.max(1, total - warmup));
  return min + ((base - min) * (1 + Math.cos(Math.PI * t))) / 2;
}

/** Cross-entropy of the task head, with the margin for margin heads. */
export function defaultLoss(net: PackableNet, task: number, b: Batch): Tensor {
  return tidy(() => F.crossEntropy(net.forward(b.x, task, b.y), b.y));
}

/** Everything the task's step moves: the backbone weights (masked to the task's own), its BN affine and head. */
function trainedParameters(net: PackableNet, task: number): Tensor[] {
  const { masked, free } = net.taskParameters(task);
  return [...masked.map((m) => m.weight), ...free];
}

/**
 * The epoch's validation score, the same on every rank: rank 0 computes it and the others receive it. Validation
 * protocols are not sums over images (10-fold threshold search on pairs), so they cannot be split over the ranks,
 * and running them on every rank would only burn the CPU rank 0 needs; waiting for one float costs nothing. Before
 * it, rank 0's BN statistics go to every rank, and the replicas' states are compared (one digest), so a rank that
 * diverged fails here instead of training on.
 */
async function validateOnMain(net: PackableNet, task: number, data: TaskData, epoch: number): Promise<number> {
  const w = world();
  syncNormStats(net, task);
  if (w.size > 1) w.agree(`task ${task}'s network state after epoch ${epoch + 1}`, stateDigest(net, task));
  const local = w.isMain ? await data.validate(net, task) : NaN;
  return w.fromMain([local])[0]!;
}

function makeOptimizer(net: PackableNet, task: number, cfg: TrainConfig): optim.Optimizer {
  const { masked, free } = net.taskParameters(task);
  const head = net.heads.get(task);
  const headParams = head ? [head.weight, ...(head.bias ? [head.bias] : [])] : [];
  // Backbone decay is applied inside maskGradients (owned weights only); BN gets none; the head gets L2.
  const groups = [
    { params: masked.map((m) => m.weight), weightDecay: 0 },
    { params: free.filter((p) => !headParams.includes(p)), weightDecay: 0 },
    { params: headParams, weightDecay: cfg.weightDecay },
  ];
  return cfg.optimizer === 'adam'
    ? new optim.Adam(groups, { lr: cfg.lr, eps: cfg.adamEps })
    : new optim.SGD(groups, { lr: cfg.lr, momentum: cfg.momentum, nesterov: cfg.momentum > 0 });
}

/**
 * Trains task `task` for up to `cfg.epochs`, validating every epoch and keeping the best checkpoint; after
 * `patience` epochs without improvement reloads the best, multiplies the lr by `lrDrop` and resets the
 * optimizer; stops at `maxPlateaus`. Leaves the network at the best checkpoint. With `onEpoch` every epoch can be
 * checkpointed, and `resume` continues from one exactly as the uninterrupted run would have gone on.
 */
export async function trainTask(
  net: PackableNet,
  task: number,
  data: TaskData,
  cfg: TrainConfig,
  o: TrainOptions = {},
): Promise<TrainResult> {
  const w = world();
  // Every rank starts from rank 0's state (a no-op in one process).
  syncFromMain(net, task);
  const opt = makeOptimizer(net, task, cfg);
  const params = trainedParameters(net, task);
  const loss = data.loss?.bind(data) ?? defaultLoss;
  const precision = resolvePrecision(cfg.precision);
  const cosine = cfg.schedule === 'cosine';
  const channelsLast = cfg.channelsLast === 'auto' ? precision === 'bf16' : cfg.channelsLast;
  const totalIterations = cfg.epochs * data.batchesPerEpoch;
  const warmupIterations = Math.round(cfg.warmupEpochs * data.batchesPerEpoch);
  const r = o.resume;
  const history: TrainResult['history'] = r ? [...r.history] : [];
  let best = r?.best ?? -Infinity;
  let bestEpoch = r?.bestEpoch ?? -1;
  let snapshot: Snapshot | null = r?.bestState ?? null;
  let bad = r?.bad ?? 0;
  let plateaus = r?.plateaus ?? 0;
  let iteration = r?.iteration ?? 0;
  let epoch = r?.epoch ?? 0;
  // After the epoch's bookkeeping (an lr drop included), so a resume starts the next epoch in the same state.
  const reportEpoch = (): void => {
    if (!o.onEpoch || epoch + 1 >= cfg.epochs) return;
    const optimizer = opt.stateDict();
    try {
      o.onEpoch({ epoch: epoch + 1, iteration, best, bestEpoch, bad, plateaus, history: [...history], bestState: snapshot, optimizer });
    } finally {
      dispose(optimizer.tensors);
    }
  };
  try {
    if (r) {
      try {
        opt.loadStateDict(r.optimizer);
      } finally {
        dispose(r.optimizer.tensors);
      }
    }
    for (; epoch < cfg.epochs; epoch++) {
      net.training = true;
      o.progress?.start(
        `${o.phase ?? 'train'} task ${task} epoch ${epoch + 1}/${cfg.epochs}${o.ratio !== undefined ? ` ratio ${o.ratio}` : ''}`,
        data.batchesPerEpoch,
      );
      let lossSum = 0;
      let batches = 0;
      for await (const b of data.batches(epoch)) {
        try {
          if (cosine) opt.lr = cosineLr(cfg.lr, cfg.minLr, iteration, totalIterations, warmupIterations);
          o.onIteration?.(iteration, epoch, opt);
          lossSum += tidy(() => {
            opt.zeroGrad();
            // Forward and loss under autocast, backward outside it (as PyTorch's AMP recipe); gradients land
            // on the fp32 weights, so masking and the optimizer see fp32 as before.
            const input = channelsLast ? { ...b, x: b.x.contiguous('channels_last') } : b;
            const l = autocast(precision, () => loss(net, task, input));
            l.backward();
            maskGradients(net, task, cfg.weightDecay);
            // Masked first: the average of zeros is zero, so earlier tasks' weights stay frozen on every rank.
            averageGradients(params);
            opt.step();
            return l.item();
          });
        } finally {
          b.x.dispose();
          b.y.dispose();
        }
        iteration++;
        batches++;
        o.progress?.tick({ loss: (lossSum / batches).toFixed(3) });
      }
      o.progress?.stop();
      opt.zeroGrad();
      o.onEpochEnd?.(epoch, opt);
      net.training = false;
      const accuracy = await validateOnMain(net, task, data, epoch);
      // The epoch's loss over every rank's batches (each rank only saw its slices).
      const [allLoss, allBatches] = w.allReduceSum([lossSum, batches]);
      const meanLoss = allBatches! > 0 ? allLoss! / allBatches! : NaN;
      history.push({ epoch, loss: meanLoss, accuracy, lr: opt.lr });
      o.events?.emit({
        type: 'epoch',
        task,
        phase: o.phase ?? 'train',
        epoch,
        loss: meanLoss,
        accuracy,
        lr: opt.lr,
        ...(o.ratio !== undefined ? { ratio: o.ratio } : {}),
      });
      if (epoch < (o.checkpointFrom ?? 0)) {
        reportEpoch();
        continue;
      }
      if (accuracy > best + cfg.minDelta || snapshot === null) {
        best = accuracy;
        bestEpoch = epoch;
        snapshot?.dispose();
        snapshot = Snapshot.capture(net, [task]);
        bad = 0;
      } else if (!cosine && ++bad >= cfg.patience) {
        plateaus++;
        bad = 0;
        if (plateaus >= cfg.maxPlateaus) {
          o.events?.emit({
            type: 'decision',
            task,
            decision: 'early-stop',
            reason: `${plateaus} plateaus of ${cfg.patience} epochs without improvement`,
          });
          epoch++;
          break;
        }
        snapshot.restore(net);
        opt.lr *= cfg.lrDrop;
        opt.resetState();
        o.events?.emit({
          type: 'decision',
          task,
          decision: 'lr-drop',
          reason: `no improvement for ${cfg.patience} epochs: best checkpoint reloaded, lr → ${opt.lr}`,
        });
      }
      reportEpoch();
    }
    snapshot?.restore(net);
  } finally {
    snapshot?.dispose();
    opt.zeroGrad();
    opt.dispose();
    net.training = false;
  }
  return { best, bestEpoch, epochsRun: epoch, history };
}
