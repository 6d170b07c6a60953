// Which parts of an exported fp32 graph run in int8, read off the graph itself: every Conv and Gemm with constant
// weights is a candidate (by role: the RGB stem conv, depthwise convs, other convs, the class head, other linear
// layers), and the activation tensors that get a uint8 QuantizeLinear→DequantizeLinear pair are the ones onnxruntime
// needs to fuse each chosen op into QLinearConv / QGemm: its input, and its output after the ReLU / ReLU6 clip that
// follows it (onnxruntime then drops them as redundant: the uint8 range [0, max] with zero point 0 already clips).
import type { OnnxGraph, OnnxNode } from './onnx-model.ts';

/**
 * What an op is in the network: 'stem' = the conv reading the RGB input, 'depthwise' = a conv with one group per
 * channel, 'conv' = any other conv, 'head' = a Gemm whose output is a task's class scores (read by Softmax),
 * 'linear' = any other Gemm.
 */
export type OpRole = 'stem' | 'depthwise' | 'conv' | 'head' | 'linear';

/**
 * The roles a caller may keep in float: the two ends of each task's chain, which read float values anyway (the
 * pixels; the pooled features). An op inside the chain cannot stay float: its neighbours' uint8 outputs would have
 * nowhere to go but a dequantize, so they would not fuse either, and onnxruntime quantizes any float Conv/Gemm that
 * reads a DequantizeLinear per tensor on its own (its WeightBiasQuantization pass), which ruins depthwise convs
 * whose BatchNorm scales are folded per channel (measured: embedding cosine to fp32 0.19).
 */
export type FloatRole = 'stem' | 'head';

export interface QuantizedOp {
  node: OnnxNode;
  role: OpRole;
}

export interface QuantizationPlan {
  /** The Conv/Gemm nodes to run in int8, in graph order. */
  ops: QuantizedOp[];
  /** Activation tensors that get a Q→DQ pair, in graph order; each needs a calibrated range unless it shares one. */
  tensors: string[];
  /**
   * Tensors whose range is another tensor's: the outputs of MaxPool, zero Pad and Flatten of a quantized tensor
   * (their values are a subset of the input's), so onnxruntime can run them on the uint8 data unchanged.
   */
  shared: Map<string, string>;
}

/** Ops that only select or move values: their output takes its input's quantization. */
const VALUE_PRESERVING = new Set(['MaxPool', 'Pad', 'Flatten']);

/** Activation ops onnxruntime folds into the preceding quantized op when a uint8 Q follows them. */
const FUSED_ACTIVATION = new Set(['Relu', 'Clip']);

function roleOf(n: OnnxNode, weightDims: number[], readers: (value: string) => OnnxNode[]): OpRole {
  if (n.op === 'Gemm') return readers(n.outputs[0]!).some((r) => r.op === 'Softmax') ? 'head' : 'linear';
  const group = n.attributes?.group;
  if (typeof group === 'number' && group > 1) return 'depthwise';
  return weightDims[1] === 3 ? 'stem' : 'conv';
}

/** The int8 plan of `g` with the roles in `float` left in float. */
export function planQuantization(g: OnnxGraph, float: ReadonlySet<FloatRole> = new Set()): QuantizationPlan {
  const constants = new Map(g.initializers.map((i) => [i.name, i]));
  const readersOf = new Map<string, OnnxNode[]>();
  for (const n of g.nodes) for (const i of n.inputs) readersOf.set(i, [...(readersOf.get(i) ?? []), n]);
  const readers = (v: string): OnnxNode[] => readersOf.get(v) ?? [];
  const outputs = new Set(g.outputs.map((o) => o.name));
  const ops: QuantizedOp[] = [];
  const floatOps = new Set<OnnxNode>();
  for (const node of g.nodes) {
    if (node.op !== 'Conv' && node.op !== 'Gemm') continue;
    const w = constants.get(node.inputs[1]!);
    if (!w || constants.has(node.inputs[0]!)) continue;
    const role = roleOf(node, w.dims, readers);
    if ((role === 'stem' || role === 'head') && float.has(role)) floatOps.add(node);
    else ops.push({ node, role });
  }
  /**
   * The value after the run of ReLU / clip ops that alone read it (ReLU6 is exported as Relu then Clip): where the
   * op's output is quantized. Quantizing before the clip would spend the uint8 range on values the clip discards.
   */
  const chainEnd = (value: string): string => {
    const next = readers(value);
    return next.length === 1 && FUSED_ACTIVATION.has(next[0]!.op) ? chainEnd(next[0]!.outputs[0]!) : value;
  };
  const chosen = new Set<string>();
  for (const { node, role } of ops) {
    chosen.add(node.inputs[0]!);
    // A head's scores go on in float to Softmax, and so does a value only float ops read (they read it before the
    // Q, which would then block the producer's fusion): QGemm writes float when no Q follows.
    const end = chainEnd(node.outputs[0]!);
    if (role !== 'head' && readers(end).some((r) => !floatOps.has(r))) chosen.add(end);
  }
  // Residual sums of quantized values (ResNets) stay uint8 too, so the Add fuses into QLinearAdd.
  for (const node of g.nodes)
    if (node.op === 'Add' && node.inputs.every((i) => chosen.has(i)) && readers(node.outputs[0]!).length > 0)
      chosen.add(chainEnd(node.outputs[0]!));
  for (const o of outputs) chosen.delete(o);
  const producer = new Map(g.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const shared = new Map<string, string>();
  const tensors: string[] = [];
  // Graph order (inputs first), so a shared tensor always comes after the one whose range it takes.
  const order = [...g.inputs.map((i) => i.name), ...g.nodes.flatMap((n) => n.outputs)];
  for (const t of order) {
    if (!chosen.has(t)) continue;
    tensors.push(t);
    const p = producer.get(t);
    if (p && VALUE_PRESERVING.has(p.op) && chosen.has(p.inputs[0]!)) shared.set(t, shared.get(p.inputs[0]!) ?? p.inputs[0]!);
  }
  return { ops, tensors, shared };
}
