// Writes uint8 HWC images into a normalised float32 NCHW batch, with seeded training augmentation.
import { PaenetError } from '../common/errors.ts';
import { IDENTITY_SAMPLE, sampleScratch, writeSample, type SampleParams } from './augment-sample.ts';
import { eraseInto, pickEraseRect, type EraseFill } from './random-erasing.ts';
import type { Rng } from './rng.ts';

export { NORM_MEAN, NORM_SCALE } from './augment-sample.ts';
export type { EraseFill } from './random-erasing.ts';

/**
 * Training augmentation settings. The first five have small defaults (the original recipe); the rest are off unless
 * set, and draw random numbers only when on, so the seeded stream of a caller that does not use them is unchanged.
 */
export interface AugmentOptions {
  /** Probability of a horizontal flip. Default 0.5. */
  flipProb?: number;
  /** Random crop with padding: shift by up to this many whole pixels each way, black fill. Default 4. */
  pad?: number;
  /** Random zoom range about the centre (1 = none). Default [0.9, 1.1]. */
  scale?: readonly [number, number];
  /** Brightness jitter: add up to this fraction of 255, either sign. Default 0.1. */
  brightness?: number;
  /** Contrast jitter: scale deviations from the image mean by 1 +/- up to this. Default 0.1. */
  contrast?: number;
  /** Sub-pixel shift of up to this fraction of the side each way, added to `pad`'s whole-pixel one. Default 0. */
  shift?: number;
  /** Rotation about the centre by up to this many degrees either way, in the same sampling pass. Default 0. */
  rotation?: number;
  /** Saturation jitter: blend with the grey image by a factor 1 +/- up to this (at most 1). Default 0. */
  saturation?: number;
  /** Probability of turning the image grey (Rec. 601 luma), after the other colour jitter. Default 0. */
  greyProb?: number;
  /**
   * Random erasing (Zhong et al.): probability of overwriting one rectangle of the finished sample, after geometry,
   * colour and normalisation, so the fill is in normalised units and no jitter touches it. Default 0.
   */
  eraseProb?: number;
  /** Erased area as a fraction of the image. Default [0.02, 0.2]. */
  eraseArea?: readonly [number, number];
  /** Erased rectangle's height / width. Default [0.3, 3.3]. */
  eraseAspect?: readonly [number, number];
  /** Fill of the erased rectangle (see {@link eraseInto}). Default 'noise'. */
  eraseFill?: EraseFill;
}

type ResolvedOptions = Readonly<Required<AugmentOptions>>;

/** No augmentation at all (e.g. to check the plumbing). */
export const NO_AUGMENT: ResolvedOptions = {
  flipProb: 0,
  pad: 0,
  scale: [1, 1],
  brightness: 0,
  contrast: 0,
  shift: 0,
  rotation: 0,
  saturation: 0,
  greyProb: 0,
  eraseProb: 0,
  eraseArea: [0.02, 0.2],
  eraseAspect: [0.3, 3.3],
  eraseFill: 'noise',
};

/**
 * The stronger face-fitting recipe (issue 13): geometry a loose face crop plausibly varies by (mirror, ±6 % shift,
 * ±10 % zoom, ±10° roll), stronger colour jitter for mixed cameras and lighting, and random erasing for occlusion.
 */
export const FACE_AUGMENT_STRONG: ResolvedOptions = {
  flipProb: 0.5,
  pad: 0,
  scale: [0.9, 1.1],
  brightness: 0.2,
  contrast: 0.2,
  shift: 0.06,
  rotation: 10,
  saturation: 0.2,
  greyProb: 0,
  eraseProb: 0.25,
  eraseArea: [0.02, 0.2],
  eraseAspect: [0.3, 3.3],
  eraseFill: 'noise',
};

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
  const o = resolveOptions(options);
  checkSizes(src, indices, size, out);
  const scratch = sampleScratch(size);
  const pad = Math.floor(o.pad);
  const maxShift = o.shift * size;
  for (let n = 0; n < indices.length; n++) {
    // These six draws happen whatever the options, in this order: the stream every older caller was seeded with.
    const p: SampleParams = {
      ...IDENTITY_SAMPLE,
      flip: rng.next() < o.flipProb,
      scale: rng.uniform(o.scale[0], o.scale[1]),
      dx: rng.int(2 * pad + 1) - pad,
      dy: rng.int(2 * pad + 1) - pad,
      bright: rng.uniform(-o.brightness, o.brightness) * 255,
      contrast: 1 + rng.uniform(-o.contrast, o.contrast),
    };
    // The newer options draw only when on.
    if (maxShift > 0) {
      p.dx += rng.uniform(-maxShift, maxShift);
      p.dy += rng.uniform(-maxShift, maxShift);
    }
    if (o.rotation > 0) p.angle = (rng.uniform(-o.rotation, o.rotation) * Math.PI) / 180;
    if (o.saturation > 0) p.saturation = 1 + rng.uniform(-o.saturation, o.saturation);
    if (o.greyProb > 0 && rng.next() < o.greyProb) p.saturation = 0;
    const erase = o.eraseProb > 0 && rng.next() < o.eraseProb ? pickEraseRect(size, o.eraseArea, o.eraseAspect, rng) : null;
    writeSample(src, indices[n]!, size, out, n, p, scratch);
    if (erase) eraseInto(out, n, size, erase, o.eraseFill, rng);
  }
}

/**
 * Copies images `indices` of `src` into `out` (float32 NCHW), normalised, without augmentation;
 * `flip` mirrors them horizontally (the verification protocol's image + flipped image).
 */
export function evalInto(src: Uint8Array, indices: ArrayLike<number>, size: number, out: Float32Array, flip = false): void {
  checkSizes(src, indices, size, out);
  const scratch = sampleScratch(size);
  const p: SampleParams = { ...IDENTITY_SAMPLE, flip };
  for (let n = 0; n < indices.length; n++) writeSample(src, indices[n]!, size, out, n, p, scratch);
}

function resolveOptions(options: AugmentOptions): ResolvedOptions {
  const o: ResolvedOptions = {
    flipProb: options.flipProb ?? 0.5,
    pad: options.pad ?? 4,
    scale: options.scale ?? [0.9, 1.1],
    brightness: options.brightness ?? 0.1,
    contrast: options.contrast ?? 0.1,
    shift: options.shift ?? 0,
    rotation: options.rotation ?? 0,
    saturation: options.saturation ?? 0,
    greyProb: options.greyProb ?? 0,
    eraseProb: options.eraseProb ?? 0,
    eraseArea: options.eraseArea ?? NO_AUGMENT.eraseArea,
    eraseAspect: options.eraseAspect ?? NO_AUGMENT.eraseAspect,
    eraseFill: options.eraseFill ?? NO_AUGMENT.eraseFill,
  };
  // Only the newer options are checked: the older ones never were, and their callers stay as they are.
  const inRange = (name: keyof AugmentOptions, v: number, lo: number, hi: number): void => {
    if (!(v >= lo && v <= hi)) throw new PaenetError('PAENET_INPUT', `augment: ${name} must be in [${lo}, ${hi}], got ${v}`);
  };
  inRange('shift', o.shift, 0, 0.5);
  inRange('rotation', o.rotation, 0, 180);
  inRange('saturation', o.saturation, 0, 1);
  inRange('greyProb', o.greyProb, 0, 1);
  inRange('eraseProb', o.eraseProb, 0, 1);
  const [areaLo, areaHi] = o.eraseArea;
  const [aspectLo, aspectHi] = o.eraseAspect;
  if (!(areaLo > 0 && areaLo <= areaHi && areaHi <= 1))
    throw new PaenetError('PAENET_INPUT', `augment: eraseArea must satisfy 0 < lo <= hi <= 1, got [${areaLo}, ${areaHi}]`);
  if (!(aspectLo > 0 && aspectLo <= aspectHi && Number.isFinite(aspectHi)))
    throw new PaenetError('PAENET_INPUT', `augment: eraseAspect must satisfy 0 < lo <= hi, got [${aspectLo}, ${aspectHi}]`);
  if (o.eraseFill !== 'noise' && o.eraseFill !== 'mean')
    throw new PaenetError('PAENET_INPUT', `augment: eraseFill must be 'noise' or 'mean', got ${String(o.eraseFill)}`);
  return o;
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
