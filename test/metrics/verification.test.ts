// Hand-computed checks of threshold selection and the k-fold verification protocol.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consecutiveFolds, evaluateVerification, samePerson, selectThreshold } from '../../src/metrics/verification.ts';

// Distances are multiples of 1/16 so midpoints are exact and can be compared with ===.

test('threshold: widest best range wins, threshold in its middle', () => {
  // 0.125 S, 0.25 D, 0.5 S, 0.875 D. Correct per accepted prefix: none 2, <=0.125 3, <=0.25 2, <=0.5 3, all 2.
  // Best ranges [0.125, 0.25) (width 0.125) and [0.5, 0.875) (width 0.375) -> middle of the wider: 0.6875.
  const c = selectThreshold([0.125, 0.25, 0.5, 0.875], [true, false, true, false]);
  assert.equal(c.threshold, 0.6875);
  assert.equal(c.correct, 3);
  assert.equal(c.accuracy, 0.75);
});

test('threshold: touching best intervals merge into one range', () => {
  // 0.125 S, 0.25 S+D (tied), 0.75 D. Correct: none 2, <=0.125 3, <=0.25 3, all 2 -> range [0.125, 0.75).
  const c = selectThreshold([0.125, 0.25, 0.25, 0.75], [true, true, false, false]);
  assert.equal(c.threshold, 0.4375);
});

test('threshold: equal-width best ranges go to the lower one', () => {
  // 0.25 S, 0.5 D, 0.75 S, 1.0 D: best [0.25, 0.5) and [0.75, 1.0), both width 0.25.
  assert.equal(selectThreshold([0.25, 0.5, 0.75, 1.0], [true, false, true, false]).threshold, 0.375);
});

test('threshold: one-class sets get a threshold half a mean gap outside the data', () => {
  // Distinct distances 0.25, 0.75 -> mean gap 0.5.
  assert.equal(selectThreshold([0.25, 0.75], [false, false]).threshold, 0);
  assert.equal(selectThreshold([0.25, 0.75], [true, true]).threshold, 1);
});

test('threshold: only the given indices are used', () => {
  // Pairs 1 and 3 alone: 0.25 D, 0.875 D -> accept nothing; threshold 0.25 - 0.625/2.
  const d = [0.125, 0.25, 0.5, 0.875];
  assert.equal(selectThreshold(d, [true, false, true, false], [1, 3]).threshold, -0.0625);
});

test('3 interleaved folds: per-fold thresholds and accuracies by hand', () => {
  // fold 0: S 0.125, D 0.5 | fold 1: S 0.25, D 0.75 | fold 2: S 0.625, D 0.375
  const distances = [0.125, 0.25, 0.625, 0.5, 0.75, 0.375];
  const issame = [true, true, true, false, false, false];
  const folds = [0, 1, 2, 0, 1, 2];
  const r = evaluateVerification(distances, issame, folds);
  // Hold out 0 -> train 0.25 S, 0.375 D, 0.625 S, 0.75 D: best [0.25,0.375) and [0.625,0.75) tie in width,
  //   lower wins -> 0.3125; fold 0: 0.125 accepted (S ok), 0.5 rejected (D ok) -> 1.
  // Hold out 1 -> train 0.125 S, 0.375 D, 0.5 D, 0.625 S: best [0.125, 0.375) -> 0.25;
  //   fold 1: 0.25 <= 0.25 accepted (S ok), 0.75 rejected -> 1.
  // Hold out 2 -> train 0.125 S, 0.25 S, 0.5 D, 0.75 D: best [0.25, 0.5) -> 0.375;
  //   fold 2: 0.625 rejected (S wrong), 0.375 accepted (D wrong) -> 0.
  assert.deepEqual(
    r.folds.map((f) => [f.fold, f.threshold, f.accuracy, f.numPairs]),
    [
      [0, 0.3125, 1, 2],
      [1, 0.25, 1, 2],
      [2, 0.375, 0, 2],
    ],
  );
  assert.equal(r.summary.mean, 2 / 3);
  // Population std of [1, 1, 0] = sqrt(((1/3)^2 * 2 + (2/3)^2) / 3) = sqrt(2/9).
  assert.ok(Math.abs(r.summary.std - Math.sqrt(2) / 3) < 1e-12);
  // All six: correct per prefix 3,4,5,4,3,4,3 -> best [0.25, 0.375) -> 0.3125, 5 of 6 right.
  assert.equal(r.threshold, 0.3125);
  assert.equal(r.calibratedAccuracy, 5 / 6);
});

test('10 consecutive folds of 2 pairs: one hard fold', () => {
  // Folds 0-8: S at 0.25, D at 0.75. Fold 9: S at 0.875, D at 0.125 (both on the wrong side).
  const distances: number[] = [];
  const issame: boolean[] = [];
  for (let f = 0; f < 10; f++) {
    distances.push(f < 9 ? 0.25 : 0.875, f < 9 ? 0.75 : 0.125);
    issame.push(true, false);
  }
  const r = evaluateVerification(distances, issame, consecutiveFolds(20, 10));
  // Every training set puts most S at 0.25 and most D at 0.75, so the best range is [0.25, 0.75) -> 0.5.
  assert.deepEqual(
    r.folds.map((f) => f.threshold),
    new Array(10).fill(0.5),
  );
  assert.deepEqual(
    r.folds.map((f) => f.accuracy),
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 0],
  );
  assert.ok(Math.abs(r.summary.mean - 0.9) < 1e-12);
  // Population std: sqrt((9 * 0.1^2 + 0.9^2) / 10) = sqrt(0.09) = 0.3.
  assert.ok(Math.abs(r.summary.std - 0.3) < 1e-12);
  assert.equal(r.threshold, 0.5);
  assert.equal(r.calibratedAccuracy, 18 / 20);
});

test('consecutiveFolds matches the LFW pairs.txt layout', () => {
  const f = consecutiveFolds(6000, 10);
  assert.equal(f[0], 0);
  assert.equal(f[599], 0);
  assert.equal(f[600], 1);
  assert.equal(f[5999], 9);
  assert.throws(() => consecutiveFolds(5, 10), /cannot split/);
});

test('protocol rejects bad folds and bad distances', () => {
  assert.throws(() => evaluateVerification([0.1, 0.2], [true, false], [0, 0]), /at least 2 folds/);
  assert.throws(() => evaluateVerification([0.1, 0.2], [true, false], [0, 2]), /fold 1 has no pairs/);
  assert.throws(() => evaluateVerification([0.1, 0.2], [true, false], [0]), /differ/);
  assert.throws(() => evaluateVerification([0.1, NaN], [true, false], [0, 1]), /not finite/);
});

test('samePerson: a distance equal to the threshold is the same person, one float above it is not', () => {
  const t = 0.3;
  const above = t + Number.EPSILON / 4; // the next double after 0.3
  assert.ok(above > t);
  assert.equal(samePerson(t, t), true);
  assert.equal(samePerson(above, t), false);
  assert.equal(samePerson(t, above), true);
});

test('the calibration scores by samePerson: a threshold on a data point accepts that pair', () => {
  // Two adjacent doubles: the best range [a, b) has no midpoint strictly inside it, so the threshold lands on a
  // itself. The pair at distance a then counts as correct only under the rule's `<=`.
  const a = 0.5;
  const b = a + Number.EPSILON / 2;
  const distances = [a, b];
  const issame = [true, false];
  const c = selectThreshold(distances, issame);
  assert.equal(c.threshold, a);
  assert.equal(c.correct, 2);
  const counted = distances.filter((d, i) => samePerson(d, c.threshold) === issame[i]).length;
  assert.equal(counted, c.correct);
});
