// Hand-computed checks of normalisation, cosine distance and flip-concatenation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cosineDistance, flipConcatEmbedding, l2normalize, pairCosineDistances } from '../../src/metrics/verification.ts';

test('l2normalize scales a 3-4-5 vector', () => {
  assert.deepEqual(Array.from(l2normalize([3, 4])), [Math.fround(0.6), Math.fround(0.8)]);
  assert.throws(() => l2normalize([0, 0]), /cannot normalise/);
});

test('cosine distance: orthogonal 1, opposite 2, same direction 0', () => {
  assert.equal(cosineDistance([1, 0], [0, 1]), 1);
  assert.equal(cosineDistance([1, 0], [-2, 0]), 2);
  assert.equal(cosineDistance([1, 1], [2, 2]), 0);
  assert.throws(() => cosineDistance([1], [1, 2]), /lengths differ/);
});

test('flip-concatenation concatenates then normalises the whole', () => {
  // [3, 0] ++ [0, 4] has norm 5.
  assert.deepEqual(Array.from(flipConcatEmbedding([3, 0], [0, 4])), [Math.fround(0.6), 0, 0, Math.fround(0.8)]);
});

test('pair distances read row p of left against row p of right', () => {
  const left = Float32Array.from([1, 0, 1, 1]);
  const right = Float32Array.from([0, 1, 2, 2]);
  assert.deepEqual(Array.from(pairCosineDistances(left, right, 2)), [1, 0]);
  assert.throws(() => pairCosineDistances(left, new Float32Array(2), 2), /not \[numPairs, 2\]/);
});
