// Adience-style k-fold split: seeded, stratified by label, optionally keeping each group in one fold.
import { mulberry32, shuffleInPlace } from './rng.ts';

/** Options of {@link kFold}. */
export interface KFoldOptions {
  /** Seed of the split; the same seed and inputs give the same folds. Default 0. */
  seed?: number;
  /**
   * Group key per sample (e.g. identity): all samples of a group land in the same fold, so a
   * person never appears in both train and val. A group is stratified by its most common label.
   */
  groups?: ArrayLike<string | number>;
}

/**
 * Splits sample indices 0..N-1 into `k` disjoint folds covering all samples.
 *
 * Units (single samples, or whole groups) are taken class by class in seeded random order,
 * larger groups first, and each goes to the fold holding the fewest samples of that class so far
 * (ties: fewest samples overall, then lowest fold). This keeps per-class counts within one unit
 * of each other across folds, and fold sizes close. Indices in each fold are sorted ascending.
 */
export function kFold(labels: ArrayLike<number>, k: number, options: KFoldOptions = {}): number[][] {
  const n = labels.length;
  if (!Number.isInteger(k) || k < 2) throw new Error(`kFold: k must be an integer >= 2, got ${k}`);
  const groups = options.groups;
  if (groups !== undefined && groups.length !== n) {
    throw new Error(`kFold: ${groups.length} group keys for ${n} labels`);
  }
  const rng = mulberry32(options.seed ?? 0);

  // Build units: each a list of sample indices with one stratification label.
  let units: { members: number[]; label: number }[];
  if (groups === undefined) {
    units = Array.from({ length: n }, (_, i) => ({ members: [i], label: labels[i]! }));
  } else {
    const byKey = new Map<string | number, number[]>();
    for (let i = 0; i < n; i++) {
      const key = groups[i]!;
      const list = byKey.get(key);
      if (list) list.push(i);
      else byKey.set(key, [i]);
    }
    units = [...byKey.values()].map((members) => ({ members, label: majority(members.map((i) => labels[i]!)) }));
  }
  const distinctUnits = groups === undefined ? n : units.length;
  if (distinctUnits < k) throw new Error(`kFold: ${distinctUnits} ${groups ? 'groups' : 'samples'} cannot fill ${k} folds`);

  // Class by class (ascending label), shuffled within class, then stable sort by size desc.
  const byClass = new Map<number, typeof units>();
  for (const u of units) {
    const list = byClass.get(u.label);
    if (list) list.push(u);
    else byClass.set(u.label, [u]);
  }
  const folds: number[][] = Array.from({ length: k }, () => []);
  const total = new Array<number>(k).fill(0);
  for (const cls of [...byClass.keys()].sort((a, b) => a - b)) {
    const list = shuffleInPlace(byClass.get(cls)!, rng).sort((a, b) => b.members.length - a.members.length);
    const perClass = new Array<number>(k).fill(0);
    for (const u of list) {
      let best = 0;
      for (let f = 1; f < k; f++) {
        if (perClass[f]! < perClass[best]! || (perClass[f] === perClass[best] && total[f]! < total[best]!)) best = f;
      }
      folds[best]!.push(...u.members);
      perClass[best]! += u.members.length;
      total[best]! += u.members.length;
    }
  }
  for (const f of folds) f.sort((a, b) => a - b);
  return folds;
}

/** Train/val indices for round `i`: fold `i` is val, the other folds (merged, sorted) are train. */
export function trainValFromFolds(folds: readonly (readonly number[])[], i: number): { train: number[]; val: number[] } {
  if (!Number.isInteger(i) || i < 0 || i >= folds.length) {
    throw new Error(`trainValFromFolds: fold ${i} out of range 0..${folds.length - 1}`);
  }
  const train: number[] = [];
  folds.forEach((f, j) => {
    if (j !== i) train.push(...f);
  });
  train.sort((a, b) => a - b);
  return { train, val: [...folds[i]!] };
}

// Most common value; ties go to the smallest value so the result is order independent.
function majority(values: number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = values[0]!;
  let bestCount = 0;
  for (const [v, c] of counts) {
    if (c > bestCount || (c === bestCount && v < best)) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}
