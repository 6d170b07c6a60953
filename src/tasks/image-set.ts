// Loads labelled images (a manifest split) or verification pairs into decoded pixel sets for training and evaluation.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeMany, loadFolderDataset, loadManifest, loadPairs, type Manifest, type Pairs } from '../data/index.ts';

/** Decoded, labelled images of one split. */
export interface ImageSet {
  /** Manifest (or pairs file) the images came from. */
  source: string;
  /** Packed uint8 RGB HWC, `size`×`size` each. */
  pixels: Uint8Array;
  /** Class index per image (−1 when unlabelled, e.g. pair images). */
  labels: Int32Array;
  classNames: string[];
  size: number;
  /** Image paths, aligned with `labels`. */
  paths: string[];
  /** Rows skipped: empty label, negative label, undecodable image. */
  skipped: { empty: number; negative: number; badImages: number };
}

/** Images without labels (pair images, crops to predict on): packed `size`×`size` RGB HWC pixels. */
export function unlabelledSet(pixels: Uint8Array, size: number, source: string, paths: string[] = []): ImageSet {
  const n = pixels.length / (size * size * 3);
  if (!Number.isInteger(n)) throw new Error(`${source}: ${pixels.length} bytes are not whole ${size}×${size} RGB images`);
  return {
    source,
    pixels,
    labels: new Int32Array(n).fill(-1),
    classNames: [],
    size,
    paths,
    skipped: { empty: 0, negative: 0, badImages: 0 },
  };
}

export interface LoadOptions {
  /** Label column. */
  label: string;
  /** Split value(s) to keep (e.g. 'train'). */
  split?: string | string[];
  /** Side the images are decoded and resized to. */
  size: number;
  /** Reuse another split's class list. */
  classes?: readonly string[];
  /** Extra row filters, column → value(s). */
  where?: Record<string, string | string[]>;
  /** Keep at most N selected rows (fast configurations). */
  limit?: number;
  /**
   * How `limit` picks rows: 'spread' = evenly over the list (every class keeps some images: classification);
   * 'class' = whole classes, largest first (identity learning needs several images per person).
   * @default 'spread'
   */
  limitBy?: 'spread' | 'class';
  onProgress?: (done: number, total: number) => void;
  /** Called once per image that could not be decoded (it is skipped). */
  onBadImage?: (path: string, message: string) => void;
}

/**
 * The labelled rows of a data source: a manifest CSV (label column, split filter), or a folder-per-class tree
 * (`dir/<class>/<image>`; with a split, `dir/<split>/<class>/<image>`, e.g. data/fer2013/train).
 */
export function readLabelled(source: string, o: Pick<LoadOptions, 'label' | 'split' | 'classes' | 'where'>): Manifest {
  if (existsSync(source) && statSync(source).isDirectory()) {
    const split = Array.isArray(o.split) ? o.split[0] : o.split;
    const dir = split !== undefined && existsSync(join(source, split)) ? join(source, split) : source;
    if (split !== undefined && dir === source)
      throw new Error(`${source}: folder has no '${split}' subfolder (expected ${source}/${split}/<class>/<image>)`);
    const m = loadFolderDataset(dir);
    if (o.classes && m.labels.join('\n') !== o.classes.join('\n')) {
      throw new Error(`${dir}: class folders [${m.labels.join(', ')}] differ from the training classes [${o.classes.join(', ')}]`);
    }
    return m;
  }
  return loadManifest(source, {
    label: o.label,
    ...(o.split !== undefined ? { split: o.split } : {}),
    ...(o.classes ? { classes: o.classes } : {}),
    ...(o.where ? { where: o.where } : {}),
  });
}

/** Reads a manifest split (or class folders) and decodes its images; bad images are skipped and counted, never fatal. */
export async function loadImageSet(manifest: string, o: LoadOptions): Promise<ImageSet> {
  const m = readLabelled(manifest, o);
  const samples = o.limit === undefined ? m.samples : o.limitBy === 'class' ? wholeClasses(m.samples, o.limit) : spread(m.samples, o.limit);
  const decoded = await decodeMany(
    samples.map((s) => s.path),
    o.size,
    {
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      onError: (_i, path, message) => o.onBadImage?.(path, message),
    },
  );
  const kept = Array.from(decoded.kept, (i) => samples[i]!);
  return {
    source: manifest,
    pixels: decoded.pixels,
    labels: Int32Array.from(kept, (s) => s.label),
    classNames: m.labels,
    size: o.size,
    paths: kept.map((s) => s.path),
    skipped: { empty: m.skippedEmpty, negative: m.skippedNegative, badImages: decoded.failed.length },
  };
}

/** Whole classes, the largest first, until adding the next would pass `limit` (at least one class); file order kept. */
function wholeClasses<T extends { label: number }>(items: T[], limit: number): T[] {
  const counts = new Map<number, number>();
  for (const it of items) counts.set(it.label, (counts.get(it.label) ?? 0) + 1);
  const order = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const keep = new Set<number>();
  let n = 0;
  for (const [label, c] of order) {
    if (keep.size > 0 && n + c > limit) continue;
    keep.add(label);
    n += c;
  }
  return items.filter((it) => keep.has(it.label));
}

/** Up to `limit` items spread evenly over the list (keeps every class represented in a fast subset). */
function spread<T>(items: T[], limit: number): T[] {
  if (limit >= items.length) return items;
  const step = items.length / limit;
  return Array.from({ length: limit }, (_, i) => items[Math.floor(i * step)]!);
}

/** A pairs file with its images decoded once. */
export interface PairSet {
  pairs: Pairs;
  images: ImageSet;
  /** Index into `images` of each pair's two images (−1 where the image could not be decoded). */
  a: Int32Array;
  b: Int32Array;
}

/** Reads an LFW-style pairs.txt and decodes every image it names. */
export async function loadPairSet(pairsPath: string, size: number, onProgress?: (done: number, total: number) => void): Promise<PairSet> {
  const pairs = loadPairs(pairsPath);
  const decoded = await decodeMany(pairs.images, size, onProgress ? { onProgress } : {});
  if (decoded.failed.length > 0) {
    const f = decoded.failed[0]!;
    throw new Error(`${pairsPath}: ${decoded.failed.length} pair image(s) could not be decoded (first: ${f.path}: ${f.message})`);
  }
  const images = unlabelledSet(decoded.pixels, size, pairsPath, pairs.images);
  return { pairs, images, a: Int32Array.from(pairs.pairs, (p) => p.ia), b: Int32Array.from(pairs.pairs, (p) => p.ib) };
}

/** The images at `indices` of a set (k-fold train/val parts). */
export function subsetImageSet(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const px = set.size * set.size * 3;
  const pixels = new Uint8Array(indices.length * px);
  const labels = new Int32Array(indices.length);
  const paths: string[] = [];
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    pixels.set(set.pixels.subarray(i * px, (i + 1) * px), k * px);
    labels[k] = set.labels[i]!;
    paths.push(set.paths[i]!);
  }
  return { ...set, pixels, labels, paths };
}

/** Number of images in a set. */
export function imageCount(set: ImageSet): number {
  return set.labels.length;
}
