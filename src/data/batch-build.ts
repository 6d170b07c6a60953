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
  /**
   * Build only images `from`.. of `indices`: the earlier ones still draw their augmentation (into scratch), so a
   * data-parallel rank's slice of a global batch is augmented exactly as one process would augment it. @default 0
   */
  from?: number;
}

/** Returns the normalised float32 NCHW data of `req` (a fresh buffer the caller then owns). */
export function buildBatchX(pixels: Uint8Array, size: number, req: BatchRequest): Float32Array {
  const from = req.from ?? 0;
  const image = 3 * size * size;
  if (req.augment === false) {
    const x = new Float32Array((req.indices.length - from) * image);
    evalInto(pixels, req.indices.subarray(from), size, x, req.flip);
    return x;
  }
  // The augmentation stream is sequential (draws per image vary with erasing), so the prefix is built and dropped.
  const all = new Float32Array(req.indices.length * image);
  augmentInto(pixels, req.indices, size, all, mulberry32(req.seed), req.augment);
  return from === 0 ? all : all.slice(from * image);
}
