// Hand-computed checks of the classification metrics and the predictions fingerprint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  accuracy,
  argmaxRows,
  confusionMatrix,
  macroAccuracy,
  oneOffAccuracy,
  perClassAccuracy,
  sha256OfPredictions,
} from '../../src/metrics/classification.ts';

// Seven samples, three classes. Per sample (true -> predicted):
// 0->0, 1->1, 1->2, 2->2, 2->1, 0->0, 0->2
const preds = Int32Array.from([0, 1, 2, 2, 1, 0, 2]);
const labels = [0, 1, 1, 2, 2, 0, 0];

test('top-1 accuracy counts exact matches', () => {
  // Correct: samples 0, 1, 3, 5.
  assert.equal(accuracy(preds, labels), 4 / 7);
});

test('confusion matrix has true classes as rows and predictions as columns', () => {
  assert.deepEqual(confusionMatrix(preds, labels, 3), [
    [2, 0, 1],
    [0, 1, 1],
    [0, 1, 1],
  ]);
});

test('per-class accuracy is recall, NaN for a class without samples', () => {
  const r = perClassAccuracy(preds, labels, 4);
  assert.equal(r[0], 2 / 3);
  assert.equal(r[1], 1 / 2);
  assert.equal(r[2], 1 / 2);
  assert.ok(Number.isNaN(r[3]));
});

test('macro accuracy averages recall over classes that have samples', () => {
  // (2/3 + 1/2 + 1/2) / 3 = 5/9; the empty fourth class must not pull it down.
  assert.ok(Math.abs(macroAccuracy(preds, labels, 3) - 5 / 9) < 1e-12);
  assert.ok(Math.abs(macroAccuracy(preds, labels, 4) - 5 / 9) < 1e-12);
});

test('1-off accuracy accepts neighbouring ordinal classes only', () => {
  // |diff| = 1, 0, 2, 4 -> two within one group.
  assert.equal(oneOffAccuracy([0, 2, 5, 3], [1, 2, 3, 7]), 0.5);
  assert.equal(oneOffAccuracy([0, 2, 5, 3], [1, 2, 3, 7], 2), 0.75);
});

test('argmaxRows picks the largest score per row, first index on ties', () => {
  const scores = Float32Array.from([0.1, 0.7, 0.2, 3, 3, 1, -1, -2, -0.5]);
  assert.deepEqual(Array.from(argmaxRows(scores, 3, 3)), [1, 0, 2]);
});

test('argmaxRows rejects a mismatched shape and NaN scores', () => {
  assert.throws(() => argmaxRows(new Float32Array(5), 2, 3), /shape/);
  assert.throws(() => argmaxRows(Float32Array.from([0, NaN]), 1, 2), /NaN/);
});

test('metrics reject mismatched lengths and out-of-range classes', () => {
  assert.throws(() => accuracy([0, 1], [0]), /2 predictions but 1 labels/);
  assert.throws(() => confusionMatrix([0, 3], [0, 1], 3), /predictions\[1\] = 3/);
});

test('sha256OfPredictions hashes the documented byte encoding', () => {
  // Tag, count 2 as uint32 LE, then 1 and -1 as int32 LE, written out by hand.
  const expected = createHash('sha256')
    .update('paenet/predictions/v1\n')
    .update(Uint8Array.from([2, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]))
    .digest('hex');
  assert.equal(sha256OfPredictions([1, -1]), expected);
  assert.equal(sha256OfPredictions(Int32Array.from([1, -1])), expected);
});

test('sha256OfPredictions is stable and sensitive to one changed prediction', () => {
  const a = sha256OfPredictions(preds);
  assert.equal(sha256OfPredictions(Int32Array.from(preds)), a);
  const changed = Int32Array.from(preds);
  changed[4] = 2;
  assert.notEqual(sha256OfPredictions(changed), a);
  // The count prefix keeps [] and [0] apart.
  assert.notEqual(sha256OfPredictions([]), sha256OfPredictions([0]));
  assert.throws(() => sha256OfPredictions([0.5]), /not an int32/);
});
