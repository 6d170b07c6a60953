// Writes one image into a normalised float32 NCHW batch through a per-sample affine map (flip, zoom, shift, rotation)
// with bilinear sampling and black fill, then colour jitter (brightness, contrast, saturation); one pass, no resampling.

/** Pixel normalisation of the PAE paper: x -> (x - 127.5) / 128, giving about [-1, 1]. */
export const NORM_MEAN = 127.5;
/** Divisor of the normalisation (see {@link NORM_MEAN}). */
export const NORM_SCALE = 128;

/** The drawn augmentation of one sample; the identity is `IDENTITY_SAMPLE`. */
export interface SampleParams {
  /** Mirror the output horizontally. */
  flip: boolean;
  /** Zoom about the centre (> 1 magnifies). */
  scale: number;
  /** Shift of the content in pixels (positive: right / down); need not be whole. */
  dx: number;
  dy: number;
  /** Rotation of the content about the centre in radians, counter-clockwise as displayed (y down). */
  angle: number;
  /** Additive brightness in pixel units. */
  bright: number;
  /** Factor on deviations from the image mean (1 = unchanged). */
  contrast: number;
  /** Blend factor with the pixel's grey (Rec. 601 luma): 1 = unchanged, 0 = greyscale. */
  saturation: number;
}

export const IDENTITY_SAMPLE: Readonly<SampleParams> = {
  flip: false,
  scale: 1,
  dx: 0,
  dy: 0,
  angle: 0,
  bright: 0,
  contrast: 1,
  saturation: 1,
};

/** Per-batch scratch of {@link writeSample}, so no sample allocates: the affine map's column terms and one row's taps. */
export interface SampleScratch {
  colA: Float64Array;
  colB: Float64Array;
  /** Left / top source tap of each output pixel of the row, -1 where it reads the black fill. */
  tapX: Int32Array;
  tapY: Int32Array;
  /** Bilinear weights of the right / bottom taps; float32, as the older separable sampler's tables held them. */
  weightX: Float32Array;
  weightY: Float32Array;
}

export function sampleScratch(size: number): SampleScratch {
  return {
    colA: new Float64Array(size),
    colB: new Float64Array(size),
    tapX: new Int32Array(size),
    tapY: new Int32Array(size),
    weightX: new Float32Array(size),
    weightY: new Float32Array(size),
  };
}

const PAD_VALUE = (0 - NORM_MEAN) / NORM_SCALE;

/**
 * Writes image `index` of `src` (uint8 HWC, `size` x `size` x 3 each) as sample `n` of `out` (float32 NCHW).
 * Output pixel (x, y) reads the source at c + R(-angle)((x', y) - c) / scale - (dx, dy), c the centre and x' the
 * flipped column; a source point more than half a pixel outside the image is black, one within the half-pixel
 * border reads the edge. The map is written as (cos·u - sin·v) / scale so that at angle 0 (cos 1, sin 0 exactly)
 * every coordinate, and so every output value, is bit-identical to the older separable flip/zoom/shift sampler;
 * then the column taps do not depend on the row and are computed once per sample.
 */
export function writeSample(
  src: Uint8Array,
  index: number,
  size: number,
  out: Float32Array,
  n: number,
  p: Readonly<SampleParams>,
  scratch: SampleScratch,
): void {
  const plane = size * size;
  const base = index * plane * 3;
  const c = (size - 1) / 2;
  const last = size - 1;
  const cos = Math.cos(p.angle);
  const sin = Math.sin(p.angle);
  const separable = sin === 0;
  const { colA, colB, tapX, tapY, weightX, weightY } = scratch;
  for (let x = 0; x < size; x++) {
    const u = (p.flip ? last - x : x) - c;
    colA[x] = cos * u;
    colB[x] = sin * u;
  }
  let mean = 0;
  if (p.bright !== 0 || p.contrast !== 1) {
    for (let k = base; k < base + plane * 3; k++) mean += src[k]!;
    mean /= plane * 3;
  }
  for (let y = 0; y < size; y++) {
    const v = y - c;
    const rowA = sin * v;
    const rowB = cos * v;
    if (!separable || y === 0) for (let x = 0; x < size; x++) setTap(c + (colA[x]! - rowA) / p.scale - p.dx, x, tapX, weightX, last);
    if (!separable) for (let x = 0; x < size; x++) setTap(c + (colB[x]! + rowB) / p.scale - p.dy, x, tapY, weightY, last);
    else {
      setTap(c + (colB[0]! + rowB) / p.scale - p.dy, 0, tapY, weightY, last);
      tapY.fill(tapY[0]!, 1);
      weightY.fill(weightY[0]!, 1);
    }
    writeRow(src, base, size, out, n * 3 * plane + y * size, scratch, p, mean);
  }
}

// Source tap and weight of one output pixel along one axis, from its source coordinate s.
function setTap(s: number, i: number, taps: Int32Array, weights: Float32Array, last: number): void {
  if (s < -0.5 || s > last + 0.5) {
    taps[i] = -1;
    return;
  }
  const clamped = Math.min(Math.max(s, 0), last);
  const floor = clamped | 0; // clamped >= 0, so truncation is the floor
  const tap = floor < last ? floor : Math.max(last - 1, 0); // tap + 1 stays inside
  taps[i] = tap;
  weights[i] = clamped - tap;
}

// Bilinear sampling of one output row from the scratch taps, then colour jitter and normalisation.
function writeRow(
  src: Uint8Array,
  base: number,
  size: number,
  out: Float32Array,
  o0: number,
  scratch: SampleScratch,
  p: Readonly<SampleParams>,
  mean: number,
): void {
  const { tapX, tapY, weightX, weightY } = scratch;
  const plane = size * size;
  const { bright, contrast, saturation } = p;
  const jitter = bright !== 0 || contrast !== 1;
  const saturate = saturation !== 1;
  for (let x = 0; x < size; x++) {
    const o = o0 + x;
    const x0 = tapX[x]!;
    const y0 = tapY[x]!;
    if (x0 < 0 || y0 < 0) {
      out[o] = PAD_VALUE;
      out[o + plane] = PAD_VALUE;
      out[o + 2 * plane] = PAD_VALUE;
      continue;
    }
    const wx = weightX[x]!;
    const wy = weightY[x]!;
    const a = base + (y0 * size + x0) * 3;
    const b = wx > 0 ? a + 3 : a;
    const d = wy > 0 ? a + size * 3 : a;
    const e = wx > 0 ? d + 3 : d;
    let top = src[a]! + (src[b]! - src[a]!) * wx;
    let bot = src[d]! + (src[e]! - src[d]!) * wx;
    let r = top + (bot - top) * wy;
    top = src[a + 1]! + (src[b + 1]! - src[a + 1]!) * wx;
    bot = src[d + 1]! + (src[e + 1]! - src[d + 1]!) * wx;
    let g = top + (bot - top) * wy;
    top = src[a + 2]! + (src[b + 2]! - src[a + 2]!) * wx;
    bot = src[d + 2]! + (src[e + 2]! - src[d + 2]!) * wx;
    let bl = top + (bot - top) * wy;
    if (jitter) {
      r = clamp255((r - mean) * contrast + mean + bright);
      g = clamp255((g - mean) * contrast + mean + bright);
      bl = clamp255((bl - mean) * contrast + mean + bright);
    }
    if (saturate) {
      const grey = 0.299 * r + 0.587 * g + 0.114 * bl;
      r = clamp255(grey + (r - grey) * saturation);
      g = clamp255(grey + (g - grey) * saturation);
      bl = clamp255(grey + (bl - grey) * saturation);
    }
    out[o] = (r - NORM_MEAN) / NORM_SCALE;
    out[o + plane] = (g - NORM_MEAN) / NORM_SCALE;
    out[o + 2 * plane] = (bl - NORM_MEAN) / NORM_SCALE;
  }
}

function clamp255(v: number): number {
  return Math.min(255, Math.max(0, v));
}
