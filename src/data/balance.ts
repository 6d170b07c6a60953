// Class counts and class weights for imbalanced tasks (e.g. FER2013 "disgust").

/** Number of samples of each class 0..numClasses-1. Throws for a label outside that range. */
export function classCounts(labels: ArrayLike<number>, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (!(Number.isInteger(l) && l >= 0 && l < numClasses)) throw new Error(`classCounts: label ${l} at ${i} outside 0..${numClasses - 1}`);
    counts[l]!++;
  }
  return counts;
}

/**
 * The PAE paper's expression weighting: w_c = (N - n_c) / n_c, with N the total and n_c the
 * class count. A rare class gets a large weight; with balanced K classes every w_c = K - 1.
 * A class with no samples gets weight 0 (it cannot occur in the loss anyway).
 */
export function paeClassWeights(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((n) => (n > 0 ? (total - n) / n : 0));
}

/**
 * Inverse-frequency weights normalised to mean 1 over the classes that have samples:
 * w_c = (1 / n_c) / mean_k(1 / n_k). Balanced classes all get 1; empty classes get 0.
 */
export function inverseFrequencyWeights(counts: readonly number[]): number[] {
  const inv = counts.map((n) => (n > 0 ? 1 / n : 0));
  const present = counts.filter((n) => n > 0).length;
  const mean = inv.reduce((a, b) => a + b, 0) / Math.max(1, present);
  return inv.map((v) => (mean > 0 ? v / mean : 0));
}

/** A plain-text table of per-class counts, shares and both weightings, one line per class. */
export function balanceReport(counts: readonly number[], names?: readonly string[]): string {
  const total = counts.reduce((a, b) => a + b, 0);
  const pae = paeClassWeights(counts);
  const inv = inverseFrequencyWeights(counts);
  const label = (c: number): string => names?.[c] ?? String(c);
  const width = Math.max(5, ...counts.map((_, c) => label(c).length));
  const lines = [
    `${'class'.padEnd(width)}  ${'count'.padStart(7)}  ${'share'.padStart(6)}  ${'w_pae'.padStart(8)}  ${'w_inv'.padStart(6)}`,
  ];
  counts.forEach((n, c) => {
    const share = total > 0 ? ((100 * n) / total).toFixed(1) + '%' : '-';
    lines.push(
      `${label(c).padEnd(width)}  ${String(n).padStart(7)}  ${share.padStart(6)}  ${pae[c]!.toFixed(3).padStart(8)}  ${inv[c]!.toFixed(3).padStart(6)}`,
    );
  });
  lines.push(`${'total'.padEnd(width)}  ${String(total).padStart(7)}`);
  return lines.join('\n');
}
