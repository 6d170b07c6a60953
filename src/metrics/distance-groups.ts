// Groups verification pairs by distinct distance, the shared sweep input of threshold selection and ROC.

/** Pairs grouped by distinct distance, in increasing distance order. */
export interface DistanceGroups {
  /** Distinct distances, strictly increasing. */
  readonly values: Float64Array;
  /** `sameCount[j]`: genuine (same-identity) pairs at distance `values[j]`. */
  readonly sameCount: Int32Array;
  /** `diffCount[j]`: impostor (different-identity) pairs at distance `values[j]`. */
  readonly diffCount: Int32Array;
  /** Total genuine pairs. */
  readonly positives: number;
  /** Total impostor pairs. */
  readonly negatives: number;
}

/**
 * Sort the selected pairs by distance and merge equal distances, so a sweep over thresholds visits each
 * distinct distance once and tied pairs always switch decision together.
 *
 * @param indices - pairs to include; all pairs when omitted.
 * @throws on length mismatch, an out-of-range index, or a non-finite distance (NaN would break the ordering).
 */
export function groupByDistance(distances: ArrayLike<number>, issame: ArrayLike<boolean>, indices?: ArrayLike<number>): DistanceGroups {
  if (distances.length !== issame.length) {
    throw new Error(`verification: ${distances.length} distances but ${issame.length} same/different labels`);
  }
  const n = indices === undefined ? distances.length : indices.length;
  const order = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const i = indices === undefined ? k : indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= distances.length) throw new Error(`verification: pair index ${i} out of range`);
    if (!Number.isFinite(distances[i]!)) throw new Error(`verification: distance of pair ${i} is not finite (${distances[i]})`);
    order[k] = i;
  }
  order.sort((x, y) => distances[x]! - distances[y]!);

  const values: number[] = [];
  const same: number[] = [];
  const diff: number[] = [];
  let positives = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const d = distances[i]!;
    if (values.length === 0 || values[values.length - 1] !== d) {
      values.push(d);
      same.push(0);
      diff.push(0);
    }
    const last = values.length - 1;
    if (issame[i]) {
      same[last]!++;
      positives++;
    } else {
      diff[last]!++;
    }
  }
  return {
    values: Float64Array.from(values),
    sameCount: Int32Array.from(same),
    diffCount: Int32Array.from(diff),
    positives,
    negatives: n - positives,
  };
}
