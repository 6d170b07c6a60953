// Half conversion: hand-derived edge cases (zeros, subnormals, ties, overflow, NaN), every half pattern round-trips,
// and libtorch's own float32 → float16 cast agrees on many random float32 values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, tidy } from '../../src/engine/index.ts';
import { fromHalf, HALF_MAX, toHalf } from '../../src/io/float16.ts';

const hex = (h: number): string => `0x${h.toString(16).padStart(4, '0')}`;

test('toHalf rounds the edge cases to nearest, ties to even, and never loses the sign', () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [HALF_MAX, 0x7bff],
    [65519, 0x7bff], // just under the midpoint to 2^16: still the largest finite half
    [65520, 0x7c00], // the midpoint ties to the even pattern, which is infinity
    [1e6, 0x7c00],
    [-1e6, 0xfc00],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [1023 * 2 ** -24, 0x03ff], // largest subnormal
    [2 ** -25, 0x0000], // half the smallest subnormal: ties to the even 0
    [-(2 ** -25), 0x8000],
    [1.5 * 2 ** -25, 0x0001],
    [3 * 2 ** -25, 0x0002], // 1.5 subnormal steps: ties to the even 2
    [2 ** -26, 0x0000],
    [1.401298464324817e-45, 0x0000], // the smallest float32 subnormal
    [(2047 / 2048) * 2 ** -14, 0x0400], // rounds up out of the subnormals into the smallest normal
    [1 + 2 ** -11, 0x3c00], // tie between 1 (even) and 1 + 2^-10
    [1 + 3 * 2 ** -11, 0x3c02], // tie between 1 + 2^-10 (odd) and 1 + 2^-9 (even)
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above the tie
    [2 - 2 ** -12, 0x4000], // rounds up past 0x3fff: the carry out of the mantissa bumps the exponent
    [0.1, 0x2e66],
  ];
  for (const [x, h] of cases) assert.equal(hex(toHalf(x)), hex(h), `toHalf(${x})`);
  assert.equal(toHalf(NaN) & 0x7c00, 0x7c00, 'NaN keeps an all-ones exponent');
  assert.notEqual(toHalf(NaN) & 0x3ff, 0, 'NaN keeps a nonzero mantissa');
});

test('fromHalf gives the exact value of every pattern, and toHalf(fromHalf(h)) is h for every non-NaN pattern', () => {
  assert.equal(fromHalf(0x3c00), 1);
  assert.equal(fromHalf(0x7bff), HALF_MAX);
  assert.equal(fromHalf(0x0001), 2 ** -24);
  assert.equal(fromHalf(0x03ff), 1023 * 2 ** -24);
  assert.equal(fromHalf(0x0400), 2 ** -14);
  assert.equal(fromHalf(0xc000), -2);
  assert.ok(Object.is(fromHalf(0x8000), -0));
  assert.equal(fromHalf(0x7c00), Infinity);
  assert.equal(fromHalf(0xfc00), -Infinity);
  assert.ok(Number.isNaN(fromHalf(0x7e00)));
  let checked = 0;
  for (let h = 0; h < 0x10000; h++) {
    if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue; // NaN payloads are not preserved
    if (toHalf(fromHalf(h)) !== h) assert.fail(`pattern ${hex(h)} → ${fromHalf(h)} → ${hex(toHalf(fromHalf(h)))}`);
    checked++;
  }
  assert.equal(checked, 0x10000 - 2 * 1023);
});

test("toHalf agrees with libtorch's float16 cast on 200000 random float32 values around the half range", () => {
  // Random bit patterns with exponents from 2^-30 (below the subnormals) to 2^17 (beyond the largest half).
  const n = 200_000;
  const bits = new Uint32Array(n);
  let seed = 12345;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let i = 0; i < n; i++) {
    const exponent = 127 - 30 + (next() % 48);
    bits[i] = ((next() & 1) << 31) | (exponent << 23) | (next() & 0x7fffff);
  }
  const values = new Float32Array(bits.buffer);
  const torchHalves = tidy(() => Uint16Array.from(tensor(values, [n]).to('float16').data() as Uint16Array));
  let differ = 0;
  let first = '';
  for (let i = 0; i < n; i++) {
    if (toHalf(values[i]!) !== torchHalves[i]) {
      if (differ++ === 0) first = `${values[i]}: ${hex(toHalf(values[i]!))} vs libtorch ${hex(torchHalves[i]!)}`;
    }
  }
  assert.equal(differ, 0, `${differ} of ${n} differ, first ${first}`);
});
