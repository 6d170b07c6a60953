// Chooses the verification distance threshold that maximises accuracy on a set of pairs.
import { groupByDistance } from './distance-groups.ts';

/** A chosen threshold and how it scores on the pairs it was chosen on. */
export interface ThresholdChoice {
  /** Decide "same identity" with {@link samePerson}. */
  readonly threshold: number;
  /** Pairs classified correctly at `threshold`. */
  readonly correct: number;
  /** Pairs the threshold was chosen on. */
  readonly total: number;
  /** `correct / total`. */
  readonly accuracy: number;
}

/**
 * The one "same person?" rule: a pair shows the same person iff its distance is at most the threshold. The threshold
 * calibration, the verification metrics, the CLI, the API and the HTTP service all decide with this function, so
 * they agree at the threshold itself. `selectThreshold` scores by the same rule: a threshold in `[u_{j-1}, u_j)` accepts
 * exactly the distances up to `u_{j-1}`.
 */
export function samePerson(distance: number, threshold: number): boolean {
  return distance <= threshold;
}

/**
 * Threshold maximising accuracy on the selected pairs.
 *
 * Candidates are exact, not a grid: with distinct distances `u_0 < … < u_{m-1}`, accuracy only changes at
 * those values, so the threshold line splits into m + 1 intervals `[u_{j-1}, u_j)` (j = 0 accepts nothing,
 * j = m accepts everything), each scored exactly with integer counts. A grid would miss gaps narrower than
 * its step and make the result depend on the step.
 *
 * Ties: maximal intervals that touch form a "best range"; the widest best range wins (the largest margin to
 * the nearest misclassification, ties between ranges going to the lower distance), and the threshold is the
 * middle of that range. The two unbounded end intervals are given a finite width of the mean gap between
 * distinct distances (1 when there is a single distinct distance), so "accept nothing" / "accept everything"
 * still yield a threshold just outside the data.
 *
 * @param indices - pairs to choose on (e.g. the training folds); all pairs when omitted.
 * @throws if no pairs are selected.
 */
export function selectThreshold(distances: ArrayLike<number>, issame: ArrayLike<boolean>, indices?: ArrayLike<number>): ThresholdChoice {
  const g = groupByDistance(distances, issame, indices);
  const m = g.values.length;
  const total = g.positives + g.negatives;
  if (total === 0) throw new Error('selectThreshold: no pairs to choose a threshold on');

  // correct[j] for interval j: genuine pairs among the first j distinct distances plus impostors after them.
  const correct = new Int32Array(m + 1);
  let tp = 0;
  let fp = 0;
  correct[0] = g.negatives;
  for (let j = 0; j < m; j++) {
    tp += g.sameCount[j]!;
    fp += g.diffCount[j]!;
    correct[j + 1] = tp + (g.negatives - fp);
  }
  let best = 0;
  for (let j = 0; j <= m; j++) if (correct[j]! > best) best = correct[j]!;

  const first = g.values[0]!;
  const last = g.values[m - 1]!;
  const pad = m > 1 ? (last - first) / (m - 1) : 1;
  const lower = (j: number): number => (j === 0 ? first - pad : g.values[j - 1]!);
  const upper = (j: number): number => (j === m ? last + pad : g.values[j]!);

  let bestLo = 0;
  let bestHi = 0;
  let bestWidth = -1;
  for (let j = 0; j <= m; j++) {
    if (correct[j] !== best) continue;
    let k = j;
    while (k + 1 <= m && correct[k + 1] === best) k++;
    const lo = lower(j);
    const hi = upper(k);
    if (hi - lo > bestWidth) {
      bestWidth = hi - lo;
      bestLo = lo;
      bestHi = hi;
    }
    j = k;
  }
  let threshold = bestLo + (bestHi - bestLo) / 2;
  // With adjacent floats the midpoint can round onto the open upper end, which lies outside the range.
  if (!(threshold < bestHi)) threshold = bestLo;
  return { threshold, correct: best, total, accuracy: best / total };
}
