// Loads a folder-per-class image tree (dir/<class>/<image>) as labelled samples.
import { readdirSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import type { Manifest, ManifestSample } from './manifest.ts';
import { PaenetError } from '../common/errors.ts';

/** File extensions taken as images by {@link loadFolderDataset} (lower case, with dot). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff'];

/**
 * Reads `dir`, whose subfolders are the classes (sorted by name; index = position) and hold the
 * images directly. Hidden entries are ignored; files in `dir` itself are ignored. Throws one line
 * for a missing dir, no class subfolders, or a class folder without images.
 */
export function loadFolderDataset(dir: string, extensions: readonly string[] = IMAGE_EXTENSIONS): Manifest {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new PaenetError('PAENET_DATA', `${dir}: not a directory`);
    entries = readdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new PaenetError('PAENET_NOT_FOUND', `${dir}: folder not found`);
    throw e;
  }
  const root = resolve(dir);
  const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  const labels = entries.filter((n) => !n.startsWith('.') && statSync(join(root, n)).isDirectory()).sort(byName);
  if (labels.length === 0)
    throw new PaenetError('PAENET_DATA', `${dir}: no class subfolders`, 'put each class in a subfolder named after it (train/angry/*.jpg)');
  const exts = new Set(extensions.map((e) => e.toLowerCase()));
  const samples: ManifestSample[] = [];
  labels.forEach((cls, label) => {
    const files = readdirSync(join(root, cls))
      .filter((f) => !f.startsWith('.') && exts.has(extname(f).toLowerCase()))
      .sort(byName);
    if (files.length === 0) throw new PaenetError('PAENET_DATA', `${join(dir, cls)}: no images (class "${cls}" would be empty)`);
    for (const f of files) samples.push({ path: join(root, cls, f), label, raw: cls });
  });
  return { source: dir, samples, labels, skippedEmpty: 0, skippedNegative: 0 };
}
