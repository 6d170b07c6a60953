// The shared number formats: percent and megabytes, their units, and the one mark for a missing value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { megabytes, MISSING, percent } from '../../src/metrics/format.ts';

test('percent: a fraction with two decimals, a chosen precision and unit, and a mark for missing values', () => {
  assert.equal(percent(0.12345), '12.35');
  assert.equal(percent(0.5, { unit: '%' }), '50.00%');
  assert.equal(percent(0.987, { digits: 0, unit: ' %' }), '99 %');
  assert.equal(percent(1 / 3, { digits: 1 }), '33.3');
  for (const x of [null, undefined, Number.NaN]) assert.equal(percent(x, { unit: '%' }), MISSING);
});

test('megabytes: bytes in units of 2^20 with three decimals', () => {
  assert.equal(megabytes(3 * 2 ** 20), '3.000');
  assert.equal(megabytes(1536 * 1024, { unit: ' MB' }), '1.500 MB');
  assert.equal(megabytes(1000, { digits: 5 }), '0.00095');
});
