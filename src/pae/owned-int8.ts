// Symmetric int8 storage of a layer's owned weights, one scale per group = (output channel, owner task).
//
// Why groups per owner task: a task added later owns other weights, so it never changes the scale of an earlier
// task's group; when a model loaded from an int8 file grows a task and is saved as int8 again, every earlier task's
// bytes stay identical (PAE's promise that old tasks never change survives compaction).
// Why the file stores m = max|w| and not the step m/127: the weight at ±m then dequantizes to exactly ±m
// ((127·m)/127 is exact in float64), so quantizing a dequantized group finds the same m and, every other value being
// within 127·2^−24 of its q, the same q: save → load → save reproduces the file bit for bit.
//
// Layout: q (I8) follows the owned weights' row-major order (owned-weights.ts); the scales (F32) list, channel by
// channel, one m per task owning at least one weight in that channel, in ascending task id.

/** The largest |q|: −128 is never written, so the range is symmetric. */
export const Q_MAX = 127;

/** q for weight w in a group of scale m > 0: w·127/m in float64, rounded half away from zero (symmetric). */
export function quantize(w: number, m: number): number {
  const x = (w * Q_MAX) / m;
  return Math.sign(x) * Math.round(Math.abs(x));
}

/** The float32 weight q stands for in a group of scale m: q·m/127 in float64, rounded once to float32. */
export function dequantize(q: number, m: number): number {
  return Math.fround((q * m) / Q_MAX);
}

/** Weights per output channel (the first dimension); a problem as text when the owner map does not split evenly. */
function rowLength(owner: Uint8Array, channels: number): number {
  const per = owner.length / channels;
  if (!Number.isInteger(per) || channels < 1) throw new Error(`paenet: ${owner.length} owner tags do not split into ${channels} channels`);
  return per;
}

/** The task ids owning weights in channel c, ascending (the order of that channel's scales). */
function tasksIn(owner: Uint8Array, from: number, to: number, seen: Uint8Array): number[] {
  seen.fill(0);
  for (let i = from; i < to; i++) seen[owner[i]!] = 1;
  const ids: number[] = [];
  for (let t = 1; t < seen.length; t++) if (seen[t]) ids.push(t);
  return ids;
}

/** Groups per task id (index = id; index 0 unused): channels in which the task owns at least one weight. */
export function groupCounts(owner: Uint8Array, channels: number): number[] {
  const per = rowLength(owner, channels);
  const counts = new Array<number>(256).fill(0);
  const seen = new Uint8Array(256);
  for (let c = 0; c < channels; c++) for (const t of tasksIn(owner, c * per, (c + 1) * per, seen)) counts[t]!++;
  return counts;
}

/** A layer's owned weights as int8 codes and group scales; a problem as text for a weight that is not finite. */
export function quantizeOwned(weight: Float32Array, owner: Uint8Array, channels: number): { q: Int8Array; scales: Float32Array } | string {
  const per = rowLength(owner, channels);
  let owned = 0;
  for (const t of owner) if (t !== 0) owned++;
  const q = new Int8Array(owned);
  const scales: number[] = [];
  const seen = new Uint8Array(256);
  const max = new Float64Array(256);
  for (let c = 0, j = 0; c < channels; c++) {
    const from = c * per;
    const to = from + per;
    max.fill(0);
    for (let i = from; i < to; i++) {
      if (owner[i] === 0) continue;
      const w = weight[i]!;
      if (!Number.isFinite(w)) return `has weight ${w} at index ${i}, which int8 cannot store`;
      max[owner[i]!] = Math.max(max[owner[i]!]!, Math.abs(w));
    }
    for (const t of tasksIn(owner, from, to, seen)) scales.push(max[t]!);
    for (let i = from; i < to; i++) {
      if (owner[i] === 0) continue;
      const m = max[owner[i]!]!;
      q[j++] = m === 0 ? 0 : quantize(weight[i]!, m);
    }
  }
  return { q, scales: Float32Array.from(scales) };
}

/**
 * The owned weights (row-major, as packOwned gives them) from int8 codes and group scales. Returns the problem as
 * one line naming the tensor (`names`) when a count disagrees with the owner map, a scale is negative or not finite, or a code is −128.
 */
export function dequantizeOwned(
  q: Int8Array,
  scales: Float32Array,
  owner: Uint8Array,
  channels: number,
  names: { codes: string; scales: string },
): Float32Array | string {
  const per = rowLength(owner, channels);
  const groups = groupCounts(owner, channels).reduce((a, b) => a + b, 0);
  if (scales.length !== groups)
    return `tensor ${names.scales} has ${scales.length} scales, the owner map has ${groups} (channel, task) groups`;
  for (const m of scales)
    if (!(m >= 0 && m < Infinity)) return `tensor ${names.scales} has scale ${m}, scales must be finite and not negative`;
  let owned = 0;
  for (const t of owner) if (t !== 0) owned++;
  if (q.length !== owned) return `tensor ${names.codes} has ${q.length} codes, its owner map tags ${owned} owned weights`;
  const out = new Float32Array(owned);
  const scaleOf = new Float64Array(256);
  const seen = new Uint8Array(256);
  for (let c = 0, j = 0, k = 0; c < channels; c++) {
    const from = c * per;
    const to = from + per;
    for (const t of tasksIn(owner, from, to, seen)) scaleOf[t] = scales[k++]!;
    for (let i = from; i < to; i++) {
      if (owner[i] === 0) continue;
      if (q[j] === -128) return `tensor ${names.codes} has code -128 at ${j} (codes lie in -127..127)`;
      out[j] = dequantize(q[j]!, scaleOf[owner[i]!]!);
      j++;
    }
  }
  return out;
}
