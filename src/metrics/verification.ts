// LFW-style 10-fold face verification: per-fold thresholds chosen on the other folds, mean ± std accuracy.
import { summarizeFolds, type FoldSummary } from './kfold-summary.ts';
import { samePerson, selectThreshold } from './threshold.ts';

export { cosineDistance, flipConcatEmbedding, l2normalize, pairCosineDistances, rowCosineDistance } from './embedding.ts';
export { samePerson, selectThreshold, type ThresholdChoice } from './threshold.ts';
export { auc, DEFAULT_FAR_TARGETS, rocCurve, tarAtFar, tarAtFars, type RocCurve, type TarAtFar } from './roc.ts';

/** Outcome of one held-out fold. */
export interface FoldResult {
  readonly fold: number;
  /** Threshold chosen on all other folds. */
  readonly threshold: number;
  /** Accuracy of that threshold on this fold. */
  readonly accuracy: number;
  readonly numPairs: number;
}

/** Result of the k-fold verification protocol. */
export interface VerificationResult {
  /** Per held-out fold, in fold-index order. */
  readonly folds: FoldResult[];
  /** Mean, population std (FaceNet's `np.std`), min and max of the fold accuracies. */
  readonly summary: FoldSummary;
  /**
   * Threshold chosen on all pairs, for deployment. Not an unbiased accuracy estimate: use `summary` for that.
   * Decided with {@link samePerson}, the one rule the CLI, the API and the HTTP service use too.
   */
  readonly threshold: number;
  /** Accuracy of `threshold` on all pairs (optimistic: chosen and measured on the same pairs). */
  readonly calibratedAccuracy: number;
}

/**
 * Fold index per pair for folds of consecutive pairs, the layout of LFW's pairs.txt
 * (6000 pairs -> 10 folds of 600). Pair `i` gets fold `floor(i * numFolds / numPairs)`.
 *
 * @throws if there are fewer pairs than folds.
 */
export function consecutiveFolds(numPairs: number, numFolds = 10): Int32Array {
  if (!Number.isInteger(numFolds) || numFolds < 1 || !Number.isInteger(numPairs) || numPairs < numFolds) {
    throw new Error(`consecutiveFolds: cannot split ${numPairs} pairs into ${numFolds} folds`);
  }
  const out = new Int32Array(numPairs);
  for (let i = 0; i < numPairs; i++) out[i] = Math.floor((i * numFolds) / numPairs);
  return out;
}

/**
 * Run the k-fold verification protocol with folds given per pair (as LFW's pairs.txt defines them).
 * For each fold, the threshold is chosen on the remaining folds with {@link selectThreshold} and accuracy is
 * measured on the held-out fold.
 *
 * @param distances - one distance per pair; smaller means more alike (e.g. {@link cosineDistance}).
 * @param issame - whether each pair shows the same identity.
 * @param folds - fold index per pair, integers `0..k-1`, every fold non-empty, `k >= 2`.
 * @throws on mismatched lengths, a bad fold index, an empty fold, or fewer than two folds.
 */
export function evaluateVerification(
  distances: ArrayLike<number>,
  issame: ArrayLike<boolean>,
  folds: ArrayLike<number>,
): VerificationResult {
  const n = distances.length;
  if (issame.length !== n || folds.length !== n) {
    throw new Error(`evaluateVerification: ${n} distances, ${issame.length} labels and ${folds.length} fold indices differ`);
  }
  let numFolds = 0;
  for (let i = 0; i < n; i++) {
    const f = folds[i]!;
    if (!Number.isInteger(f) || f < 0) throw new Error(`evaluateVerification: fold index of pair ${i} is ${f}`);
    if (f + 1 > numFolds) numFolds = f + 1;
  }
  if (numFolds < 2) throw new Error(`evaluateVerification: need at least 2 folds, got ${numFolds}`);

  const members: number[][] = Array.from({ length: numFolds }, () => []);
  for (let i = 0; i < n; i++) members[folds[i]!]!.push(i);
  const empty = members.findIndex((m) => m.length === 0);
  if (empty >= 0) throw new Error(`evaluateVerification: fold ${empty} has no pairs`);

  const results: FoldResult[] = [];
  for (let f = 0; f < numFolds; f++) {
    const train: number[] = [];
    for (let i = 0; i < n; i++) if (folds[i] !== f) train.push(i);
    const { threshold } = selectThreshold(distances, issame, train);
    const test = members[f]!;
    let correct = 0;
    for (const i of test) if (samePerson(distances[i]!, threshold) === Boolean(issame[i])) correct++;
    results.push({ fold: f, threshold, accuracy: correct / test.length, numPairs: test.length });
  }

  const overall = selectThreshold(distances, issame);
  return {
    folds: results,
    summary: summarizeFolds(results.map((r) => r.accuracy)),
    threshold: overall.threshold,
    calibratedAccuracy: overall.accuracy,
  };
}
