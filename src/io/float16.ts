// IEEE 754 binary16 ("half") conversion for the F16 tensors of safetensors files. JavaScript has no half type
// (Node 20 lacks Math.f16round), so values travel as their 16-bit patterns.

/** Largest finite half: (2 − 2^−10) · 2^15. */
export const HALF_MAX = 65504;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Drops the low `shift` bits of `value`, rounding to nearest, ties to even (the IEEE default). */
function roundShift(value: number, shift: number): number {
  const kept = value >>> shift;
  const rest = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rest > half || (rest === half && (kept & 1) === 1) ? kept + 1 : kept;
}

/**
 * The half nearest to `x` (ties to even), as its bit pattern. `x` is taken as a float32 first (weights are
 * float32; rounding a float64 twice could differ from one rounding). Out of range gives ±Infinity and NaN stays NaN,
 * as IEEE says: callers that cannot accept that check the result (see {@link fromHalf}).
 */
export function toHalf(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | (mantissa === 0 ? 0x7c00 : 0x7e00);
  const e = exponent - 127 + 15; // the half's biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // A half subnormal (m · 2^−24) or zero. Below 2^−25 (e < −10) everything rounds to zero; float32 subnormals
    // land there too.
    if (e < -10) return sign;
    return sign | roundShift(mantissa | 0x800000, 14 - e); // a carry into 0x400 is the smallest normal, correctly
  }
  // A carry out of the mantissa bumps the exponent, and from the top exponent into the infinity pattern: both right.
  return sign | ((e << 10) + roundShift(mantissa, 13));
}

/** The value of a half bit pattern (exact: every half is a float32 and a float64). */
export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (0x400 + mantissa) * 2 ** (exponent - 25);
}
