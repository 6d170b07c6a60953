// Trains one task inside the packed network: only its own weights, BN and head move (§2).
import { autocast, F, optim, resolvePrecision, tidy, type Tensor } from '../engine/index.ts';
import type { EventSink, ProgressSink } from './events.ts';
import type { PackableNet } from './network.ts';
import { maskGradients } from './ownership.ts';
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
 * optimizer; stops at `maxPlateaus`. Leaves the network at the best checkpoint.
 */
export async function trainTask(
  net: PackableNet,
  task: number,
  data: TaskData,
  cfg: TrainConfig,
  o: TrainOptions = {},
): Promise<TrainResult> {
  const opt = makeOptimizer(net, task, cfg);
  const loss = data.loss?.bind(data) ?? defaultLoss;
  const precision = resolvePrecision(cfg.precision);
  const cosine = cfg.schedule === 'cosine';
  const channelsLast = cfg.channelsLast === 'auto' ? precision === 'bf16' : cfg.channelsLast;
  const totalIterations = cfg.epochs * data.batchesPerEpoch;
  const warmupIterations = Math.round(cfg.warmupEpochs * data.batchesPerEpoch);
  const history: TrainResult['history'] = [];
  let best = -Infinity;
  let bestEpoch = -1;
  let snapshot: Snapshot | null = null;
  let bad = 0;
  let plateaus = 0;
  let iteration = 0;
  let epoch = 0;
  try {
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
      const accuracy = await data.validate(net, task);
      const meanLoss = batches ? lossSum / batches : NaN;
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
      if (epoch < (o.checkpointFrom ?? 0)) continue;
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
