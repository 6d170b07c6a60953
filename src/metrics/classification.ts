// Classification metrics (accuracy, per-class recall, confusion matrix, 1-off) and an exact fingerprint of predictions.
import { createHash } from 'node:crypto';

/** Integer class indices, e.g. an `Int32Array` or a `number[]`. */
export type ClassIndices = ArrayLike<number>;

function checkPair(fn: string, predictions: ClassIndices, labels: ClassIndices): number {
  const n = predictions.length;
  if (n !== labels.length) throw new Error(`${fn}: ${n} predictions but ${labels.length} labels`);
  if (n === 0) throw new Error(`${fn}: no predictions given`);
  return n;
}

function checkClass(fn: string, what: string, i: number, v: number, numClasses: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
    throw new Error(`${fn}: ${what}[${i}] = ${v} is not a class index in [0, ${numClasses})`);
  }
}

/** Fraction of samples whose prediction equals the label (top-1 accuracy). */
export function accuracy(predictions: ClassIndices, labels: ClassIndices): number {
  const n = checkPair('accuracy', predictions, labels);
  let correct = 0;
  for (let i = 0; i < n; i++) if (predictions[i] === labels[i]) correct++;
  return correct / n;
}

/**
 * Fraction of samples with `|prediction - label| <= tolerance`, for ordinal labels such as age
 * groups where predicting the neighbouring group is a near miss (the "1-off" accuracy of Adience).
 *
 * @param tolerance - allowed distance in class index; default 1.
 */
export function oneOffAccuracy(predictions: ClassIndices, labels: ClassIndices, tolerance = 1): number {
  const n = checkPair('oneOffAccuracy', predictions, labels);
  let correct = 0;
  for (let i = 0; i < n; i++) if (Math.abs(predictions[i]! - labels[i]!) <= tolerance) correct++;
  return correct / n;
}

/**
 * Confusion matrix with rows = true class and columns = predicted class:
 * `m[t][p]` counts samples of class `t` predicted as `p`.
 *
 * @throws if any label or prediction is not an integer in `[0, numClasses)`.
 */
export function confusionMatrix(predictions: ClassIndices, labels: ClassIndices, numClasses: number): number[][] {
  const n = checkPair('confusionMatrix', predictions, labels);
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new Error(`confusionMatrix: numClasses must be a positive integer, got ${numClasses}`);
  }
  const m: number[][] = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < n; i++) {
    const t = labels[i]!;
    const p = predictions[i]!;
    checkClass('confusionMatrix', 'labels', i, t, numClasses);
    checkClass('confusionMatrix', 'predictions', i, p, numClasses);
    m[t]![p]!++;
  }
  return m;
}

/**
 * Per-class accuracy (recall): for each true class, the fraction of its samples predicted correctly.
 * Classes with no samples get `NaN` (recall is undefined there, and 0 or 1 would both mislead).
 */
export function perClassAccuracy(predictions: ClassIndices, labels: ClassIndices, numClasses: number): number[] {
  const m = confusionMatrix(predictions, labels, numClasses);
  return m.map((row, t) => {
    let total = 0;
    for (const c of row) total += c;
    return total === 0 ? NaN : row[t]! / total;
  });
}

/**
 * Macro accuracy: the unweighted mean of per-class recall over the classes that have samples,
 * so a rare class counts as much as a frequent one.
 */
export function macroAccuracy(predictions: ClassIndices, labels: ClassIndices, numClasses: number): number {
  let sum = 0;
  let present = 0;
  for (const r of perClassAccuracy(predictions, labels, numClasses)) {
    if (Number.isNaN(r)) continue;
    sum += r;
    present++;
  }
  return sum / present;
}

/**
 * Index of the largest score in each row of a row-major `[n, c]` score matrix.
 * Ties go to the lowest index (as numpy and torch do), so results are deterministic.
 *
 * @throws if the shape does not match `scores.length` or a score is NaN (a NaN logit means a broken model,
 *   and silently picking a class would hide it).
 */
export function argmaxRows(scores: Float32Array, n: number, c: number): Int32Array {
  if (!Number.isInteger(n) || !Number.isInteger(c) || n < 0 || c < 1 || scores.length !== n * c) {
    throw new Error(`argmaxRows: shape [${n}, ${c}] does not match ${scores.length} scores`);
  }
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const base = r * c;
    let best = 0;
    let bestScore = scores[base]!;
    for (let k = 0; k < c; k++) {
      const s = scores[base + k]!;
      if (Number.isNaN(s)) throw new Error(`argmaxRows: NaN score at row ${r}, column ${k}`);
      if (s > bestScore) {
        best = k;
        bestScore = s;
      }
    }
    out[r] = best;
  }
  return out;
}

/** Domain tag hashed first, so a fingerprint of predictions can never collide with one of some other byte format. */
const PREDICTIONS_TAG = 'paenet/predictions/v1\n';

/**
 * SHA-256 (hex) of a canonical encoding of class predictions, so two evaluations can be compared exactly
 * regardless of array type or platform: the tag `paenet/predictions/v1\n`, the count as uint32
 * little-endian, then each prediction as int32 little-endian.
 *
 * @throws if a prediction is not an integer representable as int32.
 */
export function sha256OfPredictions(predictions: ClassIndices): string {
  const n = predictions.length;
  const buf = new ArrayBuffer(4 + 4 * n);
  const view = new DataView(buf);
  view.setUint32(0, n, true);
  for (let i = 0; i < n; i++) {
    const v = predictions[i]!;
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
      throw new Error(`sha256OfPredictions: predictions[${i}] = ${v} is not an int32`);
    }
    view.setInt32(4 + 4 * i, v, true);
  }
  return createHash('sha256').update(PREDICTIONS_TAG, 'utf8').update(new Uint8Array(buf)).digest('hex');
}
