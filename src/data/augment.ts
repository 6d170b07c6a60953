// Writes uint8 HWC images into a normalised float32 NCHW batch, with seeded training augmentation.
import type { Rng } from './rng.ts';

/** Pixel normalisation of the PAE paper: x -> (x - 127.5) / 128, giving about [-1, 1]. */
export const NORM_MEAN = 127.5;
/** Divisor of the normalisation (see {@link NORM_MEAN}). */
export const NORM_SCALE = 128;

/** Training augmentation settings; every field has a small default. */
export interface AugmentOptions {
  /** Probability of a horizontal flip. Default 0.5. */
  flipProb?: number;
  /** Random crop with padding: shift by up to this many pixels each way, black fill. Default 4. */
  pad?: number;
  /** Random zoom range about the centre (1 = none). Default [0.9, 1.1]. */
  scale?: readonly [number, number];
  /** Brightness jitter: add up to this fraction of 255, either sign. Default 0.1. */
  brightness?: number;
  /** Contrast jitter: scale deviations from the image mean by 1 +/- up to this. Default 0.1. */
  contrast?: number;
}

/** No augmentation at all (e.g. to check the plumbing). */
export const NO_AUGMENT: Readonly<Required<AugmentOptions>> = { flipProb: 0, pad: 0, scale: [1, 1], brightness: 0, contrast: 0 };

interface SampleParams {
  flip: boolean;
  scale: number;
  dx: number;
  dy: number;
  /** Additive shift in pixel units. */
  bright: number;
  contrast: number;
}

/**
 * Augments images `indices` of `src` (packed uint8 HWC, `size` x `size` x 3 each) into `out`
 * (float32 NCHW, at least indices.length * 3 * size * size), normalised. Random draws come only
 * from `rng`, in sample order, so a seed fixes the batch exactly.
 */
export function augmentInto(
  src: Uint8Array,
  indices: ArrayLike<number>,
  size: number,
  out: Float32Array,
  rng: Rng,
  options: AugmentOptions = {},
): void {
  const flipProb = options.flipProb ?? 0.5;
  const pad = Math.floor(options.pad ?? 4);
  const [smin, smax] = options.scale ?? [0.9, 1.1];
  const br = options.brightness ?? 0.1;
  const ct = options.contrast ?? 0.1;
  checkSizes(src, indices, size, out);
  for (let n = 0; n < indices.length; n++) {
    // Draw all parameters every time so the stream position does not depend on the options.
    const p: SampleParams = {
      flip: rng.next() < flipProb,
      scale: rng.uniform(smin, smax),
      dx: rng.int(2 * pad + 1) - pad,
      dy: rng.int(2 * pad + 1) - pad,
      bright: rng.uniform(-br, br) * 255,
      contrast: 1 + rng.uniform(-ct, ct),
    };
    writeSample(src, indices[n]!, size, out, n, p);
  }
}

/**
 * Copies images `indices` of `src` into `out` (float32 NCHW), normalised, without augmentation;
 * `flip` mirrors them horizontally (the verification protocol's image + flipped image).
 */
export function evalInto(src: Uint8Array, indices: ArrayLike<number>, size: number, out: Float32Array, flip = false): void {
  checkSizes(src, indices, size, out);
  const p: SampleParams = { flip, scale: 1, dx: 0, dy: 0, bright: 0, contrast: 1 };
  for (let n = 0; n < indices.length; n++) writeSample(src, indices[n]!, size, out, n, p);
}

function checkSizes(src: Uint8Array, indices: ArrayLike<number>, size: number, out: Float32Array): void {
  const stride = size * size * 3;
  const count = Math.floor(src.length / stride);
  if (out.length < indices.length * stride) {
    throw new Error(`augment: output holds ${Math.floor(out.length / stride)} images, batch has ${indices.length}`);
  }
  for (let n = 0; n < indices.length; n++) {
    const i = indices[n]!;
    if (!(i >= 0 && i < count)) throw new Error(`augment: image index ${i} outside 0..${count - 1}`);
  }
}

// Source coordinate of each output column/row: integer tap i0, i0+1 and weight w; i0 = -2 means padding.
function axisMap(size: number, scale: number, shift: number, flip: boolean): { i0: Int32Array; w: Float32Array } {
  const i0 = new Int32Array(size);
  const w = new Float32Array(size);
  const c = (size - 1) / 2;
  for (let o = 0; o < size; o++) {
    const x = flip ? size - 1 - o : o;
    const s = c + (x - c) / scale - shift;
    if (s < -0.5 || s > size - 0.5) {
      i0[o] = -2;
      continue;
    }
    const cl = Math.min(Math.max(s, 0), size - 1);
    const f = Math.min(Math.floor(cl), size - 2 < 0 ? 0 : size - 2);
    i0[o] = f;
    w[o] = size === 1 ? 0 : cl - f;
  }
  return { i0, w };
}

function writeSample(src: Uint8Array, index: number, size: number, out: Float32Array, n: number, p: SampleParams): void {
  const plane = size * size;
  const base = index * plane * 3;
  const xs = axisMap(size, p.scale, p.dx, p.flip);
  const ys = axisMap(size, p.scale, p.dy, false);
  const jitter = p.bright !== 0 || p.contrast !== 1;
  let mean = 0;
  if (jitter) {
    for (let k = base; k < base + plane * 3; k++) mean += src[k]!;
    mean /= plane * 3;
  }
  const padValue = (0 - NORM_MEAN) / NORM_SCALE;
  const o0 = n * 3 * plane;
  for (let y = 0; y < size; y++) {
    const y0 = ys.i0[y]!;
    const wy = ys.w[y]!;
    for (let x = 0; x < size; x++) {
      const x0 = xs.i0[x]!;
      const o = o0 + y * size + x;
      if (x0 === -2 || y0 === -2) {
        out[o] = padValue;
        out[o + plane] = padValue;
        out[o + 2 * plane] = padValue;
        continue;
      }
      const wx = xs.w[x]!;
      const x1 = wx > 0 ? x0 + 1 : x0;
      const y1 = wy > 0 ? y0 + 1 : y0;
      const a = base + (y0 * size + x0) * 3;
      const b = base + (y0 * size + x1) * 3;
      const c = base + (y1 * size + x0) * 3;
      const d = base + (y1 * size + x1) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const top = src[a + ch]! + (src[b + ch]! - src[a + ch]!) * wx;
        const bot = src[c + ch]! + (src[d + ch]! - src[c + ch]!) * wx;
        let v = top + (bot - top) * wy;
        if (jitter) v = Math.min(255, Math.max(0, (v - mean) * p.contrast + mean + p.bright));
        out[o + ch * plane] = (v - NORM_MEAN) / NORM_SCALE;
      }
    }
  }
}
