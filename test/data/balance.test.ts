// Tests of class counts and class weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { balanceReport, classCounts, inverseFrequencyWeights, paeClassWeights } from '../../src/data/balance.ts';

test('counts, PAE weights (N - n_c) / n_c and mean-1 inverse frequency', () => {
  const counts = classCounts([0, 0, 0, 1, 2, 2, 0, 0], 4);
  assert.deepEqual(counts, [5, 1, 2, 0]);
  assert.deepEqual(paeClassWeights(counts), [3 / 5, 7, 3, 0]);
  const inv = inverseFrequencyWeights(counts);
  const mean = (1 / 5 + 1 + 1 / 2) / 3;
  [1 / 5 / mean, 1 / mean, 1 / 2 / mean, 0].forEach((w, c) => assert.ok(Math.abs(inv[c]! - w) < 1e-12));
  assert.deepEqual(inverseFrequencyWeights([4, 4, 4]), [1, 1, 1]);
  assert.throws(() => classCounts([0, 4], 4), /label 4 at 1 outside 0..3/);
});

test('report has one line per class plus header and total', () => {
  const r = balanceReport([3, 1], ['happy', 'disgust']).split('\n');
  assert.equal(r.length, 4);
  assert.match(r[2]!, /^disgust\s+1\s+25\.0%\s+3\.000\s+1\.500$/);
  assert.match(r[3]!, /^total\s+4$/);
});
