// Hand-computed checks of normalisation, cosine distance and flip-concatenation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cosineDistance,
  flipConcatEmbedding,
  l2normalize,
  pairCosineDistances,
  rowCosineDistance,
} from '../../src/metrics/verification.ts';

test('l2normalize scales a 3-4-5 vector', () => {
  assert.deepEqual(Array.from(l2normalize([3, 4])), [Math.fround(0.6), Math.fround(0.8)]);
  assert.deepEqual([...l2normalize([0, 0])], [0, 0], 'a zero vector stays zero');
  assert.throws(() => l2normalize([NaN, 1]), /cannot normalise/);
  assert.equal(cosineDistance([0, 0], [1, 0]), 1, 'a zero embedding has nothing in common with any other');
});

test('cosine distance: orthogonal 1, opposite 2, same direction 0', () => {
  assert.equal(cosineDistance([1, 0], [0, 1]), 1);
  assert.equal(cosineDistance([1, 0], [-2, 0]), 2);
  assert.equal(cosineDistance([1, 1], [2, 2]), 0);
  assert.throws(() => cosineDistance([1], [1, 2]), /lengths differ/);
});

test('flip-concatenation normalises each half, concatenates, then normalises the whole', () => {
  // [3, 0] -> [1, 0] and [0, 400] -> [0, 1]: equal weight whatever the raw norms, then / sqrt(2).
  const h = Math.fround(Math.SQRT1_2);
  assert.deepEqual(Array.from(flipConcatEmbedding([3, 0], [0, 400])), [h, 0, 0, h]);
  // Raw embeddings (the libtorch forward) and unit ones (the ONNX graph) give the same descriptor.
  const raw = flipConcatEmbedding([3, 4], [-10, 0]);
  const unit = flipConcatEmbedding([0.6, 0.8], [-1, 0]);
  raw.forEach((v, i) => assert.ok(Math.abs(v - unit[i]!) < 1e-7, `${i}: ${v} vs ${unit[i]}`));
  assert.throws(() => flipConcatEmbedding([1, 2], [1]), /lengths differ/);
  const half = flipConcatEmbedding([1, 2], [0, 0]);
  assert.ok(Math.abs(half[0]! - 1 / Math.sqrt(5)) < 1e-7 && half[2] === 0 && half[3] === 0, 'a zero mirror half stays zero');
});

test('row distances read two rows of one matrix, whatever their norms', () => {
  const m = [1, 0, 0, 2, 3, 3];
  assert.equal(rowCosineDistance(m, 2, 0, 1), 1);
  assert.equal(rowCosineDistance(m, 2, 1, 1), 0);
  assert.ok(Math.abs(rowCosineDistance(m, 2, 0, 2) - (1 - Math.SQRT1_2)) < 1e-15);
  assert.throws(() => rowCosineDistance(m, 2, 0, 3), /rows 0, 3 of a 3-row matrix/);
});

test('pair distances read row p of left against row p of right', () => {
  const left = Float32Array.from([1, 0, 1, 1]);
  const right = Float32Array.from([0, 1, 2, 2]);
  assert.deepEqual(Array.from(pairCosineDistances(left, right, 2)), [1, 0]);
  assert.throws(() => pairCosineDistances(left, new Float32Array(2), 2), /not \[numPairs, 2\]/);
});
