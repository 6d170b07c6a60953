// Hand-computed checks of fold summaries and their formatting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMeanStd, summarizeFolds } from '../../src/metrics/kfold-summary.ts';

test('summary uses the population standard deviation', () => {
  // mean 0.625; deviations ±0.125, ±0.375; variance (2*0.015625 + 2*0.140625)/4 = 0.078125.
  const s = summarizeFolds([0.5, 0.75, 1.0, 0.25]);
  assert.equal(s.n, 4);
  assert.equal(s.mean, 0.625);
  assert.equal(s.std, Math.sqrt(0.078125));
  assert.equal(s.min, 0.25);
  assert.equal(s.max, 1.0);
  // Sample std of [0, 1] would be 0.7071...; population std is 0.5.
  assert.equal(summarizeFolds([0, 1]).std, 0.5);
});

test('summary rejects empty and non-finite input', () => {
  assert.throws(() => summarizeFolds([]), /no fold values/);
  assert.throws(() => summarizeFolds([0.5, NaN]), /fold 1/);
});

test('format renders mean ± std with two decimals', () => {
  assert.equal(formatMeanStd({ mean: 0.573, std: 0.0341 }, { scale: 100 }), '57.30 ± 3.41');
  assert.equal(formatMeanStd({ mean: 0.5, std: 0.25 }), '0.50 ± 0.25');
  assert.equal(formatMeanStd({ mean: 0.5, std: 0.25 }, { digits: 3 }), '0.500 ± 0.250');
});
