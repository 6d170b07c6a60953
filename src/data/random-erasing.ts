// Random erasing (Zhong et al., "Random Erasing Data Augmentation", AAAI 2020 / arXiv 2017): one rectangle of a
// normalised sample is overwritten, so the network cannot lean on any single face region (eyes, mouth, glasses).
import { NORM_MEAN, NORM_SCALE } from './augment-sample.ts';
import type { Rng } from './rng.ts';

/** What fills an erased rectangle, in the normalised units of the batch (see NORM_MEAN). */
export type EraseFill = 'noise' | 'mean';

/** One rectangle of a `size` x `size` sample: columns x..x+w-1, rows y..y+h-1. */
export interface EraseRect {
  x: number;
  y: number;
  w: number;
  h: number;
}

// The paper retries until a rectangle fits; a bound keeps the stream length finite (torchvision also gives up at 10).
const ATTEMPTS = 10;

/**
 * Draws the rectangle: area fraction uniform in `area`, aspect h / w log-uniform in `aspect` (symmetric between tall
 * and wide, as torchvision; the paper draws it linearly), position uniform where it fits. The bounds hold for the
 * rounded rectangle actually erased, not only the drawn one; null when no attempt fits (tiny images).
 */
export function pickEraseRect(
  size: number,
  area: readonly [number, number],
  aspect: readonly [number, number],
  rng: Rng,
): EraseRect | null {
  const total = size * size;
  const [logLo, logHi] = [Math.log(aspect[0]), Math.log(aspect[1])];
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const target = rng.uniform(area[0], area[1]) * total;
    const ratio = Math.exp(rng.uniform(logLo, logHi));
    const h = Math.round(Math.sqrt(target * ratio));
    const w = Math.round(Math.sqrt(target / ratio));
    if (h < 1 || w < 1 || h > size || w > size) continue;
    const fraction = (h * w) / total;
    if (fraction < area[0] || fraction > area[1] || h / w < aspect[0] || h / w > aspect[1]) continue;
    return { x: rng.int(size - w + 1), y: rng.int(size - h + 1), w, h };
  }
  return null;
}

/**
 * Overwrites `rect` in all three planes of sample `n` of `out` (float32 NCHW, already normalised). 'mean' writes 0,
 * the normaliser's centre (pixel 127.5); 'noise' writes independent values uniform over the normalised pixel range
 * [-127.5/128, 127.5/128], i.e. uniform random pixels (the paper's best fill), drawn from `rng` plane by plane, row by row.
 */
export function eraseInto(out: Float32Array, n: number, size: number, rect: EraseRect, fill: EraseFill, rng: Rng): void {
  const plane = size * size;
  const lo = (0 - NORM_MEAN) / NORM_SCALE;
  const hi = (255 - NORM_MEAN) / NORM_SCALE;
  for (let ch = 0; ch < 3; ch++) {
    for (let y = rect.y; y < rect.y + rect.h; y++) {
      const row = (n * 3 + ch) * plane + y * size;
      for (let x = rect.x; x < rect.x + rect.w; x++) out[row + x] = fill === 'mean' ? 0 : rng.uniform(lo, hi);
    }
  }
}
