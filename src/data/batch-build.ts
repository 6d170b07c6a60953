// Builds one batch's input tensor data; shared by BatchLoader's worker and its in-process fallback.
import { augmentInto, evalInto, type AugmentOptions } from './augment.ts';
import { mulberry32 } from './rng.ts';

/** One batch to build: which images, and how. Plain data so it can cross a thread boundary. */
export interface BatchRequest {
  id: number;
  indices: Int32Array;
  /** Seed of this batch's augmentation stream. */
  seed: number;
  /** Augmentation, or false for the eval path. */
  augment: AugmentOptions | false;
  /** Eval path only: mirror the images. */
  flip: boolean;
}

/** Returns the normalised float32 NCHW data of `req` (a fresh buffer the caller then owns). */
export function buildBatchX(pixels: Uint8Array, size: number, req: BatchRequest): Float32Array {
  const x = new Float32Array(req.indices.length * 3 * size * size);
  if (req.augment === false) evalInto(pixels, req.indices, size, x, req.flip);
  else augmentInto(pixels, req.indices, size, x, mulberry32(req.seed), req.augment);
  return x;
}
