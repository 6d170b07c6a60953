// The contract between the PAE method and a task: batches, loss and a validation score. Nothing here is face-specific.
import type { Tensor } from '../engine/index.ts';
import type { PackableNet } from './network.ts';

/** A training batch: inputs [N, 3, H, W] float32, targets int64 [N]. The trainer disposes both. */
export interface Batch {
  x: Tensor;
  y: Tensor;
}

/** What a task gives the PAE trainer. */
export interface TaskData {
  /** Training batches of one epoch, already augmented and shuffled for `epoch`. */
  batches(epoch: number): AsyncIterable<Batch>;
  /** Number of batches `batches()` yields (for progress and the pruning ramp). */
  readonly batchesPerEpoch: number;
  /** Validation score of task `task` in `net` (higher is better, e.g. top-1 or verification accuracy). */
  validate(net: PackableNet, task: number): Promise<number>;
  /** Loss of a batch; default: cross-entropy of the task's head (margin heads get their margin). */
  loss?(net: PackableNet, task: number, batch: Batch): Tensor;
}
