// Parses an LFW-format pairs.txt (verification protocol) into absolute image path pairs.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PaenetError } from '../common/errors.ts';

/** One verification pair. */
export interface FacePair {
  /** Absolute image paths. */
  a: string;
  b: string;
  /** Indices of `a` and `b` in `Pairs.images`. */
  ia: number;
  ib: number;
  /** True for a matched (same person) pair. */
  same: boolean;
  /** 0-based fold. */
  fold: number;
}

/** A parsed pairs file. */
export interface Pairs {
  source: string;
  folds: number;
  /** Matched pairs per fold (and as many mismatched). */
  perFold: number;
  pairs: FacePair[];
  /** Distinct image paths used by the pairs, in first-use order (decode these once). */
  images: string[];
}

/** Options of {@link loadPairs}. */
export interface PairsOptions {
  /** Check that every image exists (default true). */
  checkFiles?: boolean;
}

/** LFW image path of (name, i): `images/<name>/<name>_<i as 4 digits>.jpg`. */
export function lfwImagePath(name: string, i: number): string {
  return join('images', name, `${name}_${String(i).padStart(4, '0')}.jpg`);
}

/**
 * Reads an LFW pairs file: first line `folds<TAB>n`, then per fold n matched lines `name i j`
 * and n mismatched lines `name1 i name2 j` (fields split on tabs or spaces). Image paths are
 * resolved against the pairs file's folder. Throws one line naming the file (and line) for a bad
 * header, a wrong line count, a malformed line, or missing images (count and first missing path).
 */
export function loadPairs(pairsPath: string, options: PairsOptions = {}): Pairs {
  const src = pairsPath;
  let text: string;
  try {
    text = readFileSync(pairsPath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw code === 'ENOENT'
      ? new PaenetError('PAENET_NOT_FOUND', `${src}: pairs file not found`)
      : new PaenetError('PAENET_DATA', `${src}: cannot read (${code ?? String(e)})`);
  }
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  const head = (lines[0] ?? '').trim().split(/\s+/);
  const folds = Number(head[0]);
  const perFold = Number(head[1]);
  if (head.length !== 2 || !isPositiveInt(folds) || !isPositiveInt(perFold)) {
    throw new PaenetError('PAENET_DATA', `${src}:1: header should be "<folds><TAB><pairs per fold>", got "${lines[0] ?? ''}"`);
  }
  const expected = folds * perFold * 2;
  if (lines.length - 1 !== expected) {
    throw new PaenetError(
      'PAENET_DATA',
      `${src}: header says ${folds} folds x ${perFold} matched + ${perFold} mismatched = ${expected} pairs, file has ${lines.length - 1} lines after it`,
    );
  }
  const base = dirname(resolve(pairsPath));
  const images: string[] = [];
  const imageIndex = new Map<string, number>();
  const idOf = (name: string, i: number): number => {
    const p = join(base, lfwImagePath(name, i));
    let k = imageIndex.get(p);
    if (k === undefined) {
      k = images.length;
      images.push(p);
      imageIndex.set(p, k);
    }
    return k;
  };
  const pairs: FacePair[] = [];
  for (let l = 1; l < lines.length; l++) {
    const f = lines[l]!.trim().split(/\s+/);
    const within = (l - 1) % (2 * perFold);
    const same = within < perFold;
    const fold = Math.floor((l - 1) / (2 * perFold));
    let ia: number;
    let ib: number;
    if (same) {
      const [name, i, j] = f;
      if (f.length !== 3 || name === undefined || !isPositiveInt(Number(i)) || !isPositiveInt(Number(j))) {
        throw new PaenetError('PAENET_DATA', `${src}:${l + 1}: expected a matched pair "name i j" (fold ${fold}), got "${lines[l]}"`);
      }
      ia = idOf(name, Number(i));
      ib = idOf(name, Number(j));
    } else {
      const [n1, i, n2, j] = f;
      if (f.length !== 4 || n1 === undefined || n2 === undefined || !isPositiveInt(Number(i)) || !isPositiveInt(Number(j))) {
        throw new PaenetError(
          'PAENET_DATA',
          `${src}:${l + 1}: expected a mismatched pair "name1 i name2 j" (fold ${fold}), got "${lines[l]}"`,
        );
      }
      ia = idOf(n1, Number(i));
      ib = idOf(n2, Number(j));
    }
    pairs.push({ a: images[ia]!, b: images[ib]!, ia, ib, same, fold });
  }
  if (options.checkFiles ?? true) {
    const missing = images.filter((p) => !existsSync(p));
    if (missing.length > 0) {
      throw new PaenetError('PAENET_DATA', `${src}: ${missing.length} of ${images.length} images missing (first: ${missing[0]})`);
    }
  }
  return { source: src, folds, perFold, pairs, images };
}

function isPositiveInt(v: number): boolean {
  return Number.isInteger(v) && v > 0;
}
