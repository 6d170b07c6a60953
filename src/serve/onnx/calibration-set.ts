// Calibration crops for the int8 export: training images of the model's own data (never a validation split, so
// the int8 graph's validation accuracy is measured on faces calibration did not see), decoded at every side the
// exported tasks take.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hasSplitColumn } from '../../data/manifest.ts';
import { loadImageSet, unlabelledSet, type ImageSet } from '../../tasks/index.ts';

/**
 * Calibration faces by default. On faceres (224 px, CelebA pairs) 32, 128 and 512 faces gave int8 verification
 * accuracies within ±0.004 of fp32's (ReLU6 bounds every range, so few faces find it); 128 keeps a margin for
 * unbounded ReLU nets at about half a minute of calibration on 2 cores.
 */
export const CALIBRATION_IMAGES = 128;

/** 'train' where the source has splits (a split column, or a train/ subfolder); every image otherwise. */
function trainSplit(source: string): string | undefined {
  if (existsSync(source) && statSync(source).isDirectory()) return existsSync(join(source, 'train')) ? 'train' : undefined;
  return hasSplitColumn(source) ? 'train' : undefined;
}

/**
 * `images` faces spread evenly over the training rows of `sources` (manifests or class folders, an equal share
 * from each), decoded at each of `sizes`: the same faces at every side.
 */
export async function loadCalibration(
  sources: readonly string[],
  sizes: readonly number[],
  images = CALIBRATION_IMAGES,
): Promise<Map<number, ImageSet>> {
  if (sources.length === 0) throw new Error('paenet: int8 calibration needs at least one manifest of training images');
  const share = Math.ceil(images / sources.length);
  const out = new Map<number, ImageSet>();
  for (const size of new Set(sizes)) {
    const parts: ImageSet[] = [];
    for (const source of sources) {
      const split = trainSplit(source);
      // Calibration needs faces, not labels: the path column, which every manifest has, stands in for the label.
      parts.push(await loadImageSet(source, { label: 'path', ...(split ? { split } : {}), size, limit: share }));
    }
    const pixels = new Uint8Array(parts.reduce((n, p) => n + p.pixels.length, 0));
    let at = 0;
    for (const p of parts) {
      pixels.set(p.pixels, at);
      at += p.pixels.length;
    }
    const set = unlabelledSet(
      pixels,
      size,
      sources.join(', '),
      parts.flatMap((p) => p.paths),
    );
    if (set.labels.length === 0) throw new Error(`paenet: no decodable calibration images in ${sources.join(', ')}`);
    out.set(size, set);
  }
  return out;
}
