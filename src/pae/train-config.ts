// Hyper-parameters of task training and gradual pruning, with the defaults and their sources.
import type { Precision } from '../engine/index.ts';

/**
 * Training one task (§2). Defaults are tuned for small face sets on CPUs; the paper's reference code used Adam
 * eps 0.1, lr 0.01, ≤500 epochs and 15-epoch plateaus.
 */
export interface TrainConfig {
  /** Maximum epochs. @default 30 */ epochs: number;
  /** @default 'adam' */ optimizer: 'adam' | 'sgd';
  /** @default 1e-3 */ lr: number;
  /** Adam epsilon (the paper uses 0.1). @default 1e-8 */ adamEps: number;
  /** SGD momentum (Nesterov). @default 0.9 */ momentum: number;
  /** L2 decay on the task's own weights and head. @default 5e-4 */ weightDecay: number;
  /** Epochs without improvement before reloading the best checkpoint and dropping the lr. @default 5 */ patience: number;
  /** Stop at this many plateaus (the paper: 2). @default 2 */ maxPlateaus: number;
  /** lr multiplier at a plateau. @default 0.1 */ lrDrop: number;
  /** Improvement smaller than this does not count. @default 0 */ minDelta: number;
  /**
   * Arithmetic of the forward and loss while training: 'bf16' autocasts them (fp32 master weights, gradients and
   * optimizer state; evaluation stays fp32), 'auto' = bf16 where the CPU has native bf16. @default 'fp32'
   */
  precision: Precision;
  /**
   * Learning-rate schedule. 'plateau': constant lr, dropped by `lrDrop` (best checkpoint reloaded) after `patience`
   * epochs without improvement. 'cosine': linear warm-up over `warmupEpochs`, then cosine annealing per iteration
   * to `minLr` at the last epoch; no plateau drops or early stop (the best epoch is still kept). @default 'plateau'
   */
  schedule: 'plateau' | 'cosine';
  /**
   * Channels-last (NHWC) input while training; 'auto' = with bf16 only, where it was measured to pay (bench
   * `--precision`: faceres bf16 3.2× fp32 with it, and it slowed fp32 on the dlib ResNet). @default 'auto'
   */
  channelsLast: boolean | 'auto';
  /** Warm-up epochs of the cosine schedule. @default 0 */ warmupEpochs: number;
  /** Final lr of the cosine schedule. @default 0 */ minLr: number;
}

export const DEFAULT_TRAIN: TrainConfig = {
  epochs: 30,
  optimizer: 'adam',
  lr: 1e-3,
  adamEps: 1e-8,
  momentum: 0.9,
  weightDecay: 5e-4,
  patience: 5,
  maxPlateaus: 2,
  lrDrop: 0.1,
  minDelta: 0,
  precision: 'fp32',
  schedule: 'plateau',
  channelsLast: 'auto',
  warmupEpochs: 0,
  minLr: 0,
};

/** Gradual pruning (§3). */
export interface PruneConfig {
  /** Target ratios, increasing, each in (0, 1). @default 0.1 … 0.9 */ ratios: number[];
  /** Epochs per ratio step; the ramp takes the first `rampEpochs`. @default 4 */ epochsPerStep: number;
  /** Epochs of the cubic ramp at the start of each step; 0 = one-shot pruning at the step's first iteration. @default 1 */ rampEpochs: number;
  /** Masks are updated every this many iterations during the ramp. @default 10 */ frequency: number;
  /** lr while pruning (the paper: 5e-4 with lr 1e-2 training, i.e. 1/20). @default 5e-5 */ lr: number;
  /** Stop the ladder after the first step below the goal (later steps only prune more). @default true */ stopBelowGoal: boolean;
}

export const DEFAULT_PRUNE: PruneConfig = {
  ratios: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
  epochsPerStep: 4,
  rampEpochs: 1,
  frequency: 10,
  lr: 5e-5,
  stopBelowGoal: true,
};

/** Checks a ratio list: increasing, each in (0, 1). Throws one line. */
export function validateRatios(ratios: number[]): number[] {
  if (ratios.length === 0) throw new Error('paenet: --prune-ratios is empty');
  ratios.forEach((r, i) => {
    if (!(r > 0 && r < 1)) throw new Error(`paenet: pruning ratio ${r} is not in (0, 1)`);
    if (i > 0 && r <= ratios[i - 1]!) throw new Error(`paenet: pruning ratios must increase (${ratios.join(',')})`);
  });
  return ratios;
}
