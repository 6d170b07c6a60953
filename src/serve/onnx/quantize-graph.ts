// Rewrites an fp32 graph into QDQ form from a plan and calibrated ranges: each int8 op reads
// DequantizeLinear(int8 weights, one scale per output channel, axis = the output-channel axis) and, for its bias,
// DequantizeLinear(int32, scale = input scale × that channel's weight scale: the bias QLinearConv and QGemm add
// to their int32 accumulators); each planned activation passes QuantizeLinear→DequantizeLinear (uint8, per tensor).
// onnxruntime fuses these groups into QLinearConv / QGemm when it loads the graph; an op it cannot fuse still runs
// the same arithmetic in float, so the graph's numbers never depend on which fusions a build makes.
import type { AttributeValue, OnnxGraph, OnnxInitializer, OnnxNode } from './onnx-model.ts';
import { correctedBias } from './bias-correction.ts';
import type { QuantizationPlan } from './quantize-plan.ts';

/** An activation's calibrated range. */
export interface Range {
  min: number;
  max: number;
}

/** uint8 quantization of one tensor: real = (q − zeroPoint) · scale. */
export interface ActivationQuant {
  scale: number;
  zeroPoint: number;
}

const INT8_MAX = 127;
const INT32_MAX = 2 ** 31 - 1;

/** ONNX QuantizeLinear rounds half to even; so does every rounding here, so a value lands where ORT would put it. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // `+ 0` turns Math.round's −0 (of small negatives) into 0: an int8 weight has no sign of zero.
  return (Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r) + 0;
}

/**
 * uint8 parameters of a range, widened to hold 0 exactly (zero padding, and ReLU's floor: with zero point 0
 * onnxruntime drops a ReLU or ReLU6 before the Q, as the uint8 range already clips there).
 */
export function activationQuant(r: Range): ActivationQuant {
  const lo = Math.min(r.min, 0);
  const hi = Math.max(r.max, 0);
  if (!(hi > lo)) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround((hi - lo) / 255);
  return { scale, zeroPoint: Math.min(255, Math.max(0, roundHalfEven(-lo / scale))) };
}

/** Symmetric int8 weights, one scale per slice along `axis` (the output channels). */
export interface ChannelQuant {
  q: Int8Array;
  scale: Float32Array;
}

/**
 * Per-channel symmetric int8 (−127..127, zero point 0): scale_c = max|w_c| / 127. A channel's scale is raised, if
 * need be, until its bias fits in int32 at scale inputScale·scale_c (only a near-zero channel with a large bias
 * needs it); an all-zero channel (pruned away) gets scale 1.
 */
export function quantizePerChannel(w: Float32Array, dims: number[], axis: number, bias?: Float32Array, inputScale = 1): ChannelQuant {
  const channels = dims[axis]!;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const at = (k: number): number => Math.floor(k / inner) % channels;
  const peak = new Float64Array(channels);
  for (let k = 0; k < w.length; k++) peak[at(k)] = Math.max(peak[at(k)]!, Math.abs(w[k]!));
  const scale = Float32Array.from(peak, (m, c) => {
    const s = Math.max(m / INT8_MAX, bias ? Math.abs(bias[c]!) / (inputScale * 2 ** 30) : 0);
    return s > 0 ? s : 1;
  });
  const q = Int8Array.from(w, (v, k) => Math.max(-INT8_MAX, Math.min(INT8_MAX, roundHalfEven(v / scale[at(k)]!))));
  return { q, scale };
}

/** int32 bias at scale inputScale·weightScale_c per channel, and that scale (float32, as the fused kernel uses it). */
export function quantizeBias(b: Float32Array, inputScale: number, weightScale: Float32Array): { q: Int32Array; scale: Float32Array } {
  const scale = Float32Array.from(weightScale, (s) => Math.fround(inputScale) * s);
  const q = Int32Array.from(b, (v, c) => Math.max(-INT32_MAX, Math.min(INT32_MAX, roundHalfEven(v / scale[c]!))));
  return { q, scale };
}

/**
 * The QDQ graph of `g`: `ranges` has each planned tensor's calibrated range (shared tensors take their source's);
 * `means`, each int8 op input's per-channel mean where known, corrects that op's bias for its weights' rounding.
 */
export function quantizeGraph(
  g: OnnxGraph,
  plan: QuantizationPlan,
  ranges: ReadonlyMap<string, Range>,
  means: ReadonlyMap<string, Float64Array> = new Map(),
): OnnxGraph {
  const constants = new Map(g.initializers.map((i) => [i.name, i]));
  const added: OnnxInitializer[] = [];
  const constant = (name: string, data: OnnxInitializer['data'], dims: number[]): string => {
    added.push({ name, dims, data });
    return name;
  };
  const quant = new Map<string, ActivationQuant>();
  for (const t of plan.tensors) {
    const source = plan.shared.get(t) ?? t;
    const r = ranges.get(source);
    if (!r) throw new Error(`paenet: no calibrated range for the ONNX value '${source}'`);
    quant.set(t, activationQuant(r));
  }
  // Each planned tensor is read through its DQ by every node (its Q alone reads the float value).
  const dq = (t: string): string => (quant.has(t) ? `${t}/dq` : t);
  const pairOf = (t: string): OnnxNode[] => {
    const p = quant.get(t)!;
    const io = [constant(`${t}/scale`, Float32Array.of(p.scale), []), constant(`${t}/zero`, Uint8Array.of(p.zeroPoint), [])];
    return [
      { op: 'QuantizeLinear', inputs: [t, ...io], outputs: [`${t}/q`], name: `${t}/q_node` },
      { op: 'DequantizeLinear', inputs: [`${t}/q`, ...io], outputs: [`${t}/dq`], name: `${t}/dq_node` },
    ];
  };
  /** DQ nodes of an op's weight (per output channel) and bias (int32); the op then reads them. */
  const weightNodes = (n: OnnxNode): { nodes: OnnxNode[]; inputs: string[]; attributes?: Record<string, AttributeValue> } => {
    const w = constants.get(n.inputs[1]!)!;
    const b = n.inputs[2] === undefined ? undefined : constants.get(n.inputs[2]);
    if (!(w.data instanceof Float32Array) || (b && !(b.data instanceof Float32Array)))
      throw new Error(`paenet: '${n.name}' has non-float weights; quantize the fp32 graph`);
    const s = quant.get(n.inputs[0]!)!.scale;
    // Named after the op, not the constant: a weight two ops shared would get two quantized forms (their biases'
    // scales follow each op's input scale), never one name twice.
    const [wn, bn] = [`${n.name}.w`, `${n.name}.b`];
    // Gemm's B is [N, K] with transB = 1 (the exporter's layout), [K, N] otherwise; a conv's is [O, I/group, k, k].
    const axis = n.op === 'Gemm' && n.attributes?.transB !== 1 ? 1 : 0;
    const wq = quantizePerChannel(w.data, w.dims, axis, b?.data as Float32Array | undefined, s);
    const channels = w.dims[axis]!;
    const nodes: OnnxNode[] = [
      {
        op: 'DequantizeLinear',
        inputs: [
          constant(`${wn}/q`, wq.q, w.dims),
          constant(`${wn}/scale`, wq.scale, [channels]),
          constant(`${wn}/zero`, new Int8Array(channels), [channels]),
        ],
        outputs: [`${wn}/dq`],
        name: `${wn}/dq_node`,
        attributes: { axis },
      },
    ];
    const inputs = [dq(n.inputs[0]!), `${wn}/dq`];
    if (b) {
      const mean = means.get(n.inputs[0]!);
      const a = n.attributes?.alpha;
      const alpha = typeof a === 'object' && !Array.isArray(a) ? a.float : 1;
      const group = typeof n.attributes?.group === 'number' ? n.attributes.group : 1;
      const fb = b.data as Float32Array;
      // Gemm's per-channel axis is 0 only with transB = 1; correct only that layout (the exporter's).
      const bias = mean && axis === 0 ? correctedBias(fb, w.data, wq.q, wq.scale, w.dims, mean, group, alpha) : fb;
      const bq = quantizeBias(bias, s, wq.scale);
      nodes.push({
        op: 'DequantizeLinear',
        inputs: [
          constant(`${bn}/q`, bq.q, b.dims),
          constant(`${bn}/scale`, bq.scale, [channels]),
          constant(`${bn}/zero`, new Int32Array(channels), [channels]),
        ],
        outputs: [`${bn}/dq`],
        name: `${bn}/dq_node`,
        attributes: { axis: 0 },
      });
      inputs.push(`${bn}/dq`);
    }
    // onnxruntime's QGemm fusion reads Gemm's beta, which it must find set (1 is ONNX's default: same graph).
    return { nodes, inputs, ...(n.op === 'Gemm' && b ? { attributes: { ...n.attributes, beta: { float: 1 } } } : {}) };
  };
  const int8 = new Set(plan.ops.map((o) => o.node));
  const nodes: OnnxNode[] = [];
  for (const t of g.inputs) if (quant.has(t.name)) nodes.push(...pairOf(t.name));
  for (const n of g.nodes) {
    if (int8.has(n)) {
      const { nodes: pre, inputs, attributes } = weightNodes(n);
      nodes.push(...pre, { ...n, inputs, ...(attributes ? { attributes } : {}) });
    } else if (n.op === 'Conv' || n.op === 'Gemm') {
      // A float conv or Gemm reads the float value: fed by a DequantizeLinear, onnxruntime would quantize its
      // weights per tensor itself (WeightBiasQuantization), which is not the precision asked for.
      nodes.push(n);
    } else nodes.push({ ...n, inputs: n.inputs.map(dq) });
    for (const o of n.outputs) if (quant.has(o)) nodes.push(...pairOf(o));
  }
  // The float weights and biases of int8 ops are read by no node now: only the constants still read stay.
  const read = new Set(nodes.flatMap((n) => n.inputs));
  return { ...g, nodes, initializers: [...g.initializers.filter((i) => read.has(i.name)), ...added] };
}
