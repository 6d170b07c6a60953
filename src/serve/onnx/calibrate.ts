// Calibration of activation ranges: the fp32 graph, with the tensors to quantize added as outputs, run by
// onnxruntime on calibration crops (real faces of the model's own data), keeping each tensor's min and max (and,
// for the inputs of int8 ops, each channel's mean: what bias correction needs).
// Min/max, not a percentile: the MobileNet family's activations end in ReLU6, so their max is bounded and an
// outlier cannot stretch the range; and every value seen is then representable, so no calibrated face saturates.
import * as ort from 'onnxruntime-node';
import { unlabelledSet, type ImageSet } from '../../tasks/index.ts';
import { encodeModel, type OnnxGraph } from './onnx-model.ts';
import { graphInputSizes, runGraph } from './parity.ts';
import type { Range } from './quantize-graph.ts';

/** Crops per calibration run: all of a run's inner tensors are held at once, four faces of every task. */
const BATCH = 4;

/** Adds a [N, C, ...] tensor's values into per-channel sums (channel = axis 1). */
function addChannelSums(sums: Map<string, { sum: Float64Array; count: number }>, t: string, v: ort.Tensor): void {
  const [n, c] = v.dims as [number, number];
  const inner = v.dims.slice(2).reduce((a, b) => a * b, 1);
  const acc = sums.get(t) ?? { sum: new Float64Array(c), count: 0 };
  const data = v.data as Float32Array;
  for (let k = 0; k < data.length; k++) acc.sum[Math.floor(k / inner) % c]! += data[k]!;
  acc.count += n * inner;
  sums.set(t, acc);
}

/** The first `n` crops of a set from `start`. */
function slice(set: ImageSet, start: number, n: number): ImageSet {
  const px = set.size * set.size * 3;
  return unlabelledSet(set.pixels.subarray(start * px, (start + n) * px), set.size, set.source);
}

/**
 * Min and max of each of `tensors` over the calibration crops (side → crops), and the per-channel mean of each of
 * `meansOf`. Every run feeds every graph input the same number of faces, so the crops used are the first n of each
 * side, n = the smallest set; returns n too.
 */
export async function calibrateRanges(
  g: OnnxGraph,
  tensors: readonly string[],
  calibration: ReadonlyMap<number, ImageSet>,
  meansOf: readonly string[] = [],
): Promise<{ ranges: Map<string, Range>; means: Map<string, Float64Array>; images: number }> {
  const extra = [...new Set([...tensors, ...meansOf])];
  const probe: OnnxGraph = { ...g, outputs: [...g.outputs, ...extra.map((name) => ({ name }))] };
  const session = await ort.InferenceSession.create(encodeModel(probe, { name: 'paenet-calibration', version: '' }));
  try {
    const sides = [...graphInputSizes(session).values()];
    for (const s of sides) if (!calibration.get(s)?.labels.length) throw new Error(`paenet: int8 calibration needs crops at ${s}×${s}`);
    const images = Math.min(...sides.map((s) => calibration.get(s)!.labels.length));
    const ranges = new Map(tensors.map((t) => [t, { min: Infinity, max: -Infinity }]));
    const sums = new Map<string, { sum: Float64Array; count: number }>();
    for (let start = 0; start < images; start += BATCH) {
      const n = Math.min(BATCH, images - start);
      const out = await runGraph(session, new Map(sides.map((s) => [s, slice(calibration.get(s)!, start, n)])));
      for (const [t, r] of ranges) {
        const data = out[t]!.data as Float32Array;
        for (let i = 0; i < data.length; i++) {
          const v = data[i]!;
          if (v < r.min) r.min = v;
          if (v > r.max) r.max = v;
        }
      }
      for (const t of meansOf) addChannelSums(sums, t, out[t]!);
    }
    const means = new Map([...sums].map(([t, s]) => [t, s.sum.map((v) => v / s.count)]));
    return { ranges, means, images };
  } finally {
    await session.release();
  }
}
