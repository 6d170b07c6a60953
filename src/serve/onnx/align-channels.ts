// Pads conv channel counts to a multiple of 16 with zero filters, for the int8 graph. onnxruntime's CPU conv
// kernels work in blocks of 16 channels: a packed task's widths after an expansion (35, 70, 140, … channels) fall
// off them, and a 35-channel depthwise conv ran 5× slower than a 48-channel one (measured, int8 and fp32 alike).
// The padding is exact: a zero filter with a zero bias gives 0, ReLU / ReLU6 keep it 0, and every reader's weights
// for the added input channels are 0. Only chains of convs are widened (a value read by anything else, a pooling,
// a sum, a graph output, keeps its width), so the graph's outputs are unchanged.
import type { OnnxGraph, OnnxInitializer, OnnxNode } from './onnx-model.ts';

export const CHANNEL_BLOCK = 16;

const ACTIVATION = new Set(['Relu', 'Clip']);

const groupOf = (n: OnnxNode): number => (typeof n.attributes?.group === 'number' ? n.attributes.group : 1);

/** `data` ([rows, ...inner]) with rows and the axis-1 extent grown to `rows` × `cols`, new entries 0. */
function grow(t: OnnxInitializer, rows: number, cols: number): OnnxInitializer {
  const [r0, c0 = 1, ...rest] = t.dims;
  const inner = rest.reduce((a, b) => a * b, 1);
  const src = t.data as Float32Array;
  const out = new Float32Array(rows * cols * inner);
  for (let r = 0; r < r0!; r++)
    for (let c = 0; c < c0; c++) out.set(src.subarray((r * c0 + c) * inner, (r * c0 + c + 1) * inner), (r * cols + c) * inner);
  return { ...t, dims: t.dims.length === 1 ? [rows] : [rows, cols, ...rest], data: out };
}

/** `g` with conv chains widened to multiples of `block` channels (see the file comment); the input is not changed. */
export function alignChannels(g: OnnxGraph, block = CHANNEL_BLOCK): OnnxGraph {
  const constants = new Map(g.initializers.map((i) => [i.name, i]));
  const readersOf = new Map<string, OnnxNode[]>();
  for (const n of g.nodes) for (const i of n.inputs) readersOf.set(i, [...(readersOf.get(i) ?? []), n]);
  const readers = (v: string): OnnxNode[] => readersOf.get(v) ?? [];
  const outputs = new Set(g.outputs.map((o) => o.name));
  const isConv = (n: OnnxNode): boolean => n.op === 'Conv' && constants.has(n.inputs[1]!) && !constants.has(n.inputs[0]!);
  const depthwise = (n: OnnxNode): boolean => isConv(n) && groupOf(n) > 1 && groupOf(n) === constants.get(n.inputs[1]!)!.dims[0];
  /** The value after the ReLU / clip run that alone reads `v`; the run's values in order. */
  const chain = (v: string): string[] => {
    const next = readers(v);
    return next.length === 1 && ACTIVATION.has(next[0]!.op) ? [v, ...chain(next[0]!.outputs[0]!)] : [v];
  };
  const end = (v: string): string => chain(v).at(-1)!;
  /** Whether the value `v` (a conv's output) may carry extra zero channels: only convs read it, as their data. */
  const widenable = (v: string): boolean => {
    const e = end(v);
    const rs = readers(e);
    if (rs.length === 0 || chain(v).some((x) => outputs.has(x))) return false;
    return rs.every((r) => isConv(r) && r.inputs[0] === e && (depthwise(r) ? widenable(r.outputs[0]!) : groupOf(r) === 1));
  };
  const width = new Map<string, number>(); // conv (by output) → its padded output channels
  for (const n of g.nodes) {
    if (!isConv(n) || depthwise(n) || groupOf(n) !== 1) continue;
    const o = constants.get(n.inputs[1]!)!.dims[0]!;
    if (o % block === 0 || !widenable(n.outputs[0]!)) continue;
    const padded = Math.ceil(o / block) * block;
    // The width runs on through depthwise readers (one filter per channel) to the next regular convs.
    const spread = (conv: OnnxNode): void => {
      width.set(conv.outputs[0]!, padded);
      for (const r of readers(end(conv.outputs[0]!))) if (depthwise(r)) spread(r);
    };
    spread(n);
  }
  if (width.size === 0) return g;
  const producer = new Map(g.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  /** The padded channels of the conv output a value comes from through activations, if widened. */
  const widthOf = (v: string): number | undefined => {
    let p = producer.get(v);
    while (p && ACTIVATION.has(p.op)) p = producer.get(p.inputs[0]!);
    return p && isConv(p) ? width.get(p.outputs[0]!) : undefined;
  };
  const replaced = new Map<string, OnnxInitializer>();
  const nodes = g.nodes.map((n): OnnxNode => {
    if (!isConv(n)) return n;
    const w = constants.get(n.inputs[1]!)!;
    const out = width.get(n.outputs[0]!) ?? w.dims[0]!;
    const inWidth = depthwise(n) ? 1 : (widthOf(n.inputs[0]!) ?? w.dims[1]!);
    if (out === w.dims[0] && inWidth === w.dims[1]) return n;
    const name = (t: OnnxInitializer): string => `${t.name}/aligned`;
    replaced.set(name(w), { ...grow(w, out, inWidth), name: name(w) });
    const inputs = [n.inputs[0]!, name(w)];
    const b = n.inputs[2] === undefined ? undefined : constants.get(n.inputs[2]);
    if (b) {
      replaced.set(name(b), { ...grow(b, out, 1), name: name(b) });
      inputs.push(name(b));
    }
    return { ...n, inputs, ...(depthwise(n) ? { attributes: { ...n.attributes, group: out } } : {}) };
  });
  const read = new Set(nodes.flatMap((n) => n.inputs));
  return { ...g, nodes, initializers: [...g.initializers.filter((i) => read.has(i.name)), ...replaced.values()] };
}
