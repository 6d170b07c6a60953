// Owner-map operations: open free weights to a task, release (prune) a task's smallest weights, count.
import { noGrad, scalar, tidy, type Tensor } from '../engine/index.ts';
import type { PackableNet } from './network.ts';
import type { PackableLayer } from './packable-layer.ts';

/** Gives every free weight (owner 0) to `task`; returns how many were opened. */
export function openFree(net: PackableNet, task: number): number {
  let opened = 0;
  noGrad(() => {
    for (const l of net.layers) {
      tidy(() => {
        const free = l.owner.eq(0);
        opened += free.countNonzero();
        l.owner.maskedFill_(free, task);
      });
      l.ownersChanged();
    }
  });
  return opened;
}

/** Gives every weight, free or owned, to `task` (the fine-tuning baseline: the new task retrains them all). */
export function claimAll(net: PackableNet, task: number): void {
  noGrad(() => {
    for (const l of net.layers) {
      l.owner.fill_(task);
      l.ownersChanged();
    }
  });
}

/** Weights of `layer` with owner == task (or == 0 for free). */
export function countOwned(layer: PackableLayer, task: number): number {
  return tidy(() => layer.owner.eq(task).countNonzero());
}

/**
 * Per-layer magnitude pruning (§3, exact quantile): over the pool P = free + owned-by-task weights, frees the
 * task's smallest |w| until free/|P| = ratio (rounded to whole weights). Freed weights are zeroed.
 * Never frees weights of other tasks and never re-assigns a freed weight. Returns the weights released.
 */
export function releaseToRatio(layer: PackableLayer, task: number, ratio: number): number {
  if (!(ratio >= 0 && ratio < 1)) throw new Error(`paenet: pruning ratio must be in [0, 1), got ${ratio}`);
  const owned = countOwned(layer, task);
  const free = countOwned(layer, 0);
  const need = Math.round(ratio * (owned + free)) - free;
  if (need <= 0 || owned === 0) return 0;
  const n = Math.min(need, owned);
  noGrad(() =>
    tidy(() => {
      const mine = layer.owner.eq(task).flatten();
      // Non-owned positions score +∞ so topk(smallest) can only pick the task's own weights.
      const score = layer.weight.detach().abs().flatten().maskedFill(mine.logicalNot(), Infinity);
      const [, idx] = score.topk(n, 0, false, false);
      layer.owner.view([-1]).indexPut_([idx], scalar(0, { dtype: 'uint8' }));
      layer.weight.detach().view([-1]).indexPut_([idx], scalar(0));
    }),
  );
  layer.ownersChanged();
  return n;
}

/**
 * True when every free weight (owner 0) of the layer is exactly 0, as after a task ends (zeroFree) or a release:
 * then a file need not store them. A free weight can hold a value only mid-task (fresh expansion channels).
 */
export function freeWeightsAreZero(layer: PackableLayer): boolean {
  return tidy(() => layer.weight.detach().maskedFill(layer.owner.eq(0).logicalNot(), 0).countNonzero() === 0);
}

/** The paper's "pruned rate" of a task: free / (free + owned-by-task) over all layers. */
export function prunedRatio(net: PackableNet, task: number): number {
  let free = 0;
  let owned = 0;
  for (const l of net.layers) {
    free += countOwned(l, 0);
    owned += countOwned(l, task);
  }
  return free + owned === 0 ? 0 : free / (free + owned);
}

/**
 * Makes the backbone gradients of a task step exact (§2): adds L2 decay on the task's own weights, then zeroes
 * the gradient of every weight the task does not own, so old tasks' and free weights cannot move.
 */
export function maskGradients(net: PackableNet, task: number, weightDecay: number): void {
  noGrad(() => {
    for (const l of net.layers) {
      tidy(() => {
        const g: Tensor | null = l.weight.grad;
        if (!g) return;
        if (weightDecay !== 0) g.add_(l.weight, weightDecay);
        g.mul_(l.ownMask(task));
      });
    }
  });
}

/** Sets every free weight to exactly 0 (released weights carry no value into the next task). */
export function zeroFree(net: PackableNet): void {
  noGrad(() => {
    for (const l of net.layers) tidy(() => void l.weight.detach().maskedFill_(l.owner.eq(0), 0));
  });
}
