// ROC curve, AUC and TAR@FAR for distance-based face verification.
import { groupByDistance } from './distance-groups.ts';

/**
 * ROC curve of a distance verifier. Point `k` accepts a pair as "same" iff `distance <= thresholds[k]`;
 * point 0 has threshold `-Infinity` (accept nothing, (0, 0)) and the last accepts everything (1, 1).
 * Thresholds are the distinct distances in increasing order, so tied pairs move together and produce a
 * diagonal segment rather than an arbitrary staircase.
 */
export interface RocCurve {
  readonly thresholds: number[];
  /** True accept rate (genuine pairs accepted / genuine pairs) at each threshold. */
  readonly tpr: number[];
  /** False accept rate (impostor pairs accepted / impostor pairs) at each threshold. */
  readonly fpr: number[];
}

/** True accept rate reached at a false-accept-rate target. */
export interface TarAtFar {
  /** Requested maximum false accept rate. */
  readonly far: number;
  /** Largest TPR over ROC points whose FPR is at most `far`. */
  readonly tar: number;
  /** Threshold of that point (the lowest one reaching `tar`, hence the lowest FPR). */
  readonly threshold: number;
  /** FPR actually reached at `threshold` (at most `far`). */
  readonly achievedFar: number;
}

/** FAR targets reported by default: 0.1 %, 1 %, 10 %. */
export const DEFAULT_FAR_TARGETS: readonly number[] = [1e-3, 1e-2, 1e-1];

/**
 * ROC curve over all distinct distances.
 *
 * @throws if there are no genuine or no impostor pairs (one of the rates would be 0/0).
 */
export function rocCurve(distances: ArrayLike<number>, issame: ArrayLike<boolean>): RocCurve {
  const g = groupByDistance(distances, issame);
  if (g.positives === 0 || g.negatives === 0) {
    throw new Error(`rocCurve: need both genuine and impostor pairs (got ${g.positives} and ${g.negatives})`);
  }
  const thresholds = [-Infinity];
  const tpr = [0];
  const fpr = [0];
  let tp = 0;
  let fp = 0;
  for (let j = 0; j < g.values.length; j++) {
    tp += g.sameCount[j]!;
    fp += g.diffCount[j]!;
    thresholds.push(g.values[j]!);
    tpr.push(tp / g.positives);
    fpr.push(fp / g.negatives);
  }
  return { thresholds, tpr, fpr };
}

/**
 * Area under the ROC curve by the trapezoid rule. Because tied distances form one diagonal segment, this
 * equals the probability that a random genuine pair is closer than a random impostor pair, ties counting 1/2.
 */
export function auc(roc: RocCurve): number {
  let area = 0;
  for (let k = 1; k < roc.fpr.length; k++) {
    area += ((roc.fpr[k]! - roc.fpr[k - 1]!) * (roc.tpr[k]! + roc.tpr[k - 1]!)) / 2;
  }
  return area;
}

/**
 * TAR at a FAR target: the largest TPR among ROC points with `fpr <= far`. No interpolation between points,
 * so the reported operating point is one a real threshold achieves.
 *
 * @throws if `far` is not in `[0, 1]`.
 */
export function tarAtFar(roc: RocCurve, far: number): TarAtFar {
  if (!(far >= 0 && far <= 1)) throw new Error(`tarAtFar: FAR target must be in [0, 1], got ${far}`);
  // Point 0 is (0, 0), so some point always qualifies.
  let bestK = 0;
  for (let k = 1; k < roc.fpr.length; k++) {
    if (roc.fpr[k]! <= far && roc.tpr[k]! > roc.tpr[bestK]!) bestK = k;
  }
  return { far, tar: roc.tpr[bestK]!, threshold: roc.thresholds[bestK]!, achievedFar: roc.fpr[bestK]! };
}

/** {@link tarAtFar} for each target, by default {@link DEFAULT_FAR_TARGETS}. */
export function tarAtFars(roc: RocCurve, fars: readonly number[] = DEFAULT_FAR_TARGETS): TarAtFar[] {
  return fars.map((far) => tarAtFar(roc, far));
}
