// Summary statistics over per-fold results (mean, population std, min, max) and their "57.30 ± 3.41" rendering.

/** Mean, spread and range of one metric over folds. */
export interface FoldSummary {
  /** Number of folds summarised. */
  readonly n: number;
  readonly mean: number;
  /**
   * Population standard deviation (divide by n, not n - 1), matching FaceNet's
   * `np.std(accuracy)` so reported LFW numbers are comparable with the literature.
   */
  readonly std: number;
  readonly min: number;
  readonly max: number;
}

/** Options for {@link formatMeanStd}. */
export interface FormatOptions {
  /** Multiply mean and std by this before printing (100 turns a fraction into percent). Default 1. */
  readonly scale?: number;
  /** Digits after the decimal point. Default 2. */
  readonly digits?: number;
}

/**
 * Summarise per-fold values.
 *
 * @param values - one value per fold; must be non-empty and finite.
 * @throws if `values` is empty or contains a non-finite number.
 */
export function summarizeFolds(values: ArrayLike<number>): FoldSummary {
  const n = values.length;
  if (n === 0) throw new Error('summarizeFolds: no fold values given');
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new Error(`summarizeFolds: fold ${i} value is not finite (${v})`);
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  // Two-pass variance: summing squared deviations avoids the cancellation of E[x^2] - E[x]^2.
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i]! - mean;
    sq += d * d;
  }
  return { n, mean, std: Math.sqrt(sq / n), min, max };
}

/**
 * Render a summary as `mean ± std`, e.g. `formatMeanStd(s, { scale: 100 })` -> `"57.30 ± 3.41"`.
 */
export function formatMeanStd(summary: Pick<FoldSummary, 'mean' | 'std'>, options: FormatOptions = {}): string {
  const scale = options.scale ?? 1;
  const digits = options.digits ?? 2;
  return `${(summary.mean * scale).toFixed(digits)} ± ${(summary.std * scale).toFixed(digits)}`;
}
