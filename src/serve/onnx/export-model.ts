// ONNX export of a packed model: each task's forward with its own masked weights baked in and its BatchNorm
// folded into the preceding conv/linear; inputs = RGB pixels 0..255, NCHW float, one per distinct task input size
// (each task reads the crops of its own side); outputs = class probabilities (classify) or the L2-normalised
// embedding (identity, head dropped).
import { noGrad, tidy } from '../../engine/index.ts';
import { BN_EPS, padsOf, type PackableLayer, type PaeModel, type TaskRecord, type TrunkOps } from '../../pae/index.ts';
import { NORM_MEAN, NORM_SCALE } from '../../data/index.ts';
import { GraphBuilder } from './graph-builder.ts';
import { encodeModel, type OnnxGraph, type OnnxValue } from './onnx-model.ts';

export const ONNX_INPUT = 'pixels';

/** A graph input: crops of one side (`size`×`size`), and the tasks whose subgraphs read it. */
export interface OnnxInput extends OnnxValue {
  size: number;
  tasks: string[];
}

/**
 * The graph's inputs for `tasks`: one per distinct task input size. The main one (the only size; else the backbone's
 * own size when a task uses it; else the largest) keeps the name {@link ONNX_INPUT}, so a single-size graph is the
 * graph every earlier export wrote; each other size is `${ONNX_INPUT}_${size}`. Main input first, then larger sides first.
 */
export function graphInputs(model: PaeModel, tasks: readonly TaskRecord[]): OnnxInput[] {
  const sizes = [...new Set(tasks.map((t) => model.inputSizeOf(t)))];
  const main = sizes.length === 1 || !sizes.includes(model.config.inputSize) ? Math.max(...sizes) : model.config.inputSize;
  return [main, ...sizes.filter((s) => s !== main).sort((a, b) => b - a)].map((size) => ({
    name: size === main ? ONNX_INPUT : `${ONNX_INPUT}_${size}`,
    shape: ['batch', 3, size, size],
    size,
    tasks: tasks.filter((t) => model.inputSizeOf(t) === size).map((t) => t.name),
  }));
}

/** Output size of a conv or pool along one axis with `pad` pixels in all (floor mode, as libtorch's defaults). */
const outSize = (n: number, k: number, s: number, pad: number): number => Math.floor((n + pad - k) / s) + 1;

/** Task `id`'s effective weight of a layer, narrowed to the task's width and masked, with its BN folded in. */
function foldedLayer(model: PaeModel, l: PackableLayer, id: number): { weight: Float32Array; bias: Float32Array; dims: number[] } {
  const slot = model.net.slot(id);
  const [o, i] = model.net.width(l.spec, slot.level);
  return noGrad(() =>
    tidy(() => {
      const w = l.weight.narrow(0, 0, o).narrow(1, 0, i);
      const mask = l.useMask(id, slot.sharing).narrow(0, 0, o).narrow(1, 0, i);
      const n = l.norm(id);
      const k = n.weight.mul(n.runningVar.add(BN_EPS).rsqrt());
      const shape = l.spec.kind === 'conv' ? [o, 1, 1, 1] : [o, 1];
      const weight = w.mul(mask).mul(k.reshape(shape)).contiguous().data() as Float32Array;
      const bias = n.bias.sub(n.runningMean.mul(k)).contiguous().data() as Float32Array;
      return { weight: Float32Array.from(weight), bias: Float32Array.from(bias), dims: [...w.shape] };
    }),
  );
}

/** A graph value and its shape without the batch (the backbone's down blocks compare shapes). */
interface GraphValue {
  name: string;
  shape: number[];
}

/** The backbone operations as ONNX nodes for task `t`: each packable layer with the task's folded weights. */
function graphOps(g: GraphBuilder, model: PaeModel, t: TaskRecord): TrunkOps<GraphValue> {
  const pool = (op: string, x: GraphValue, k: number, s: number): GraphValue => {
    const [c, h, w] = x.shape as [number, number, number];
    return { name: g.op(op, [x.name], { kernel_shape: [k, k], strides: [s, s] }), shape: [c, outSize(h, k, s, 0), outSize(w, k, s, 0)] };
  };
  /** Zero padding of a feature map, [begin N, C, H, W, end N, C, H, W] as Pad takes it. */
  const padded = (x: GraphValue, pads: number[]): GraphValue => ({
    name: g.op('Pad', [x.name, padsConst(g, pads)]),
    shape: x.shape.map((n, d) => n + pads[d + 1]! + pads[d + 5]!),
  });
  return {
    layer(name, x) {
      const l = model.net.layer(name);
      const s = l.spec;
      const f = foldedLayer(model, l, t.id);
      const out = f.dims[0]!;
      const w = g.constant(`${t.name}.${name}.w`, f.weight, f.dims);
      const b = g.constant(`${t.name}.${name}.b`, f.bias, [out]);
      if (s.kind === 'linear') return { name: g.op('Gemm', [x.name, w, b], { transB: 1 }), shape: [out] };
      const p = padsOf(s);
      const [, h, wd] = x.shape as [number, number, number];
      const attributes = {
        kernel_shape: [s.kernel, s.kernel],
        strides: [s.stride, s.stride],
        pads: [p.top, p.left, p.bottom, p.right],
        ...(s.depthwise ? { group: out } : {}),
      };
      return {
        name: g.op('Conv', [x.name, w, b], attributes, `${t.name}.${name}`),
        shape: [out, outSize(h, s.kernel, s.stride, p.top + p.bottom), outSize(wd, s.kernel, s.stride, p.left + p.right)],
      };
    },
    relu: (x) => ({ name: g.op('Relu', [x.name]), shape: x.shape }),
    clamp: (x, lo, hi) => ({
      name: g.op('Clip', [x.name, g.constant('clip.min', Float32Array.of(lo), []), g.constant('clip.max', Float32Array.of(hi), [])]),
      shape: x.shape,
    }),
    add: (a, b) => ({ name: g.op('Add', [a.name, b.name]), shape: a.shape }),
    maxPool: (x, k, s) => pool('MaxPool', x, k, s),
    avgPool: (x, k, s) => pool('AveragePool', x, k, s),
    pad: (x, p) => padded(x, [0, 0, p.top, p.left, 0, 0, p.bottom, p.right]),
    padChannels: (x, extra) => padded(x, [0, 0, 0, 0, 0, extra, 0, 0]),
    globalMeanPool: (x) => ({ name: g.op('Flatten', [g.op('GlobalAveragePool', [x.name])], { axis: 1 }), shape: [x.shape[0]!] }),
    // Inference graph: dropout is the identity.
    dropout: (x) => x,
    shape: (x) => x.shape,
  };
}

/** Appends task `t`'s whole forward on `normalised` (its `size`×`size` input) to the graph; returns its output value name. */
function taskForward(g: GraphBuilder, model: PaeModel, t: TaskRecord, normalised: string, size: number): string {
  const net = model.net;
  const slot = net.slot(t.id);
  let input = normalised;
  if (slot.input) {
    const c = slot.input.scale.length;
    input = g.op('Mul', [input, g.constant(`${t.name}.input.scale`, Float32Array.from(slot.input.scale), [1, c, 1, 1])]);
    input = g.op('Add', [input, g.constant(`${t.name}.input.shift`, Float32Array.from(slot.input.shift), [1, c, 1, 1])]);
  }
  const x: GraphValue = { name: input, shape: [3, size, size] };
  let h = net.architecture.embed(graphOps(g, model, t), x, model.config).name;
  const head = net.heads.get(t.id);
  if (!head) return g.op('LpNormalization', [h], { axis: 1, p: 2 }, `${t.name}.embedding`);
  const hw2 = head.weight.data() as Float32Array;
  const [classes, dim] = head.weight.shape as [number, number];
  if (slot.head.kind === 'linear') {
    const bias = head.bias ? Float32Array.from(head.bias.data() as Float32Array) : new Float32Array(classes);
    h = g.op(
      'Gemm',
      [h, g.constant(`${t.name}.head.w`, Float32Array.from(hw2), [classes, dim]), g.constant(`${t.name}.head.b`, bias, [classes])],
      { transB: 1 },
    );
  } else {
    // Cosine heads at inference: scale · cos(embedding, class centre), no margin.
    const unit = Float32Array.from(hw2);
    for (let r = 0; r < classes; r++) {
      const row = unit.subarray(r * dim, (r + 1) * dim);
      const norm = Math.max(Math.hypot(...row), 1e-12);
      for (let j = 0; j < dim; j++) row[j]! /= norm;
    }
    const e = g.op('LpNormalization', [h], { axis: 1, p: 2 });
    h = g.op('Gemm', [e, g.constant(`${t.name}.head.w`, unit, [classes, dim])], { transB: 1, alpha: { float: slot.head.scale ?? 30 } });
  }
  return g.op('Softmax', [h], { axis: 1 }, `${t.name}.probabilities`);
}

function padsConst(g: GraphBuilder, pads: number[]): string {
  // Pad takes its pads as an int64 input from opset 11; an int64 initializer is encoded as float here, so build it with Constant.
  return g.op('Constant', [], { value_ints: pads }, 'pads');
}

export interface ExportOptions {
  /** Task names to include. @default every task */
  tasks?: string[];
  producerVersion?: string;
}

/** A built (not yet encoded) export: the graph, its inputs and outputs, and the model's metadata_props. */
export interface ExportedGraph {
  graph: OnnxGraph;
  outputs: OnnxValue[];
  inputs: OnnxInput[];
  metadata: Record<string, string>;
}

/** The graph of `o.tasks` (default: every task), before encoding: what the int8 exporter rewrites. */
export function buildOnnxGraph(model: PaeModel, o: ExportOptions = {}): ExportedGraph {
  const names = o.tasks ?? model.tasks.map((t) => t.name);
  if (names.length === 0) throw new Error('paenet: the model has no task to export');
  const tasks = names.map((n) => model.task(n));
  const inputs = graphInputs(model, tasks);
  for (const i of inputs)
    if (names.includes(i.name)) throw new Error(`paenet: task '${i.name}' has the name of a graph input; rename the task to export it`);
  const g = new GraphBuilder('paenet', new Set([...inputs.map((i) => i.name), ...names]));
  // Normalisation per input, with shared constants (a single-input graph keeps its initializer and node order).
  const mean = g.constant('norm.mean', Float32Array.of(NORM_MEAN), []);
  const scale = g.constant('norm.scale', Float32Array.of(NORM_SCALE), []);
  const normalised = new Map(inputs.map((i) => [i.size, g.op('Div', [g.op('Sub', [i.name, mean]), scale])]));
  const outputs: OnnxValue[] = tasks.map((t) => {
    const size = model.inputSizeOf(t);
    const y = taskForward(g, model, t, normalised.get(size)!, size);
    const width = model.net.heads.get(t.id) ? model.net.slot(t.id).head.classes : model.config.embedDim;
    return { name: g.output(y, t.name), shape: ['batch', width] };
  });
  // `size` is the main input's; a graph with several inputs also lists each, its side and the tasks reading it.
  const several = inputs.length > 1 ? { inputs: inputs.map((i) => ({ name: i.name, size: i.size, tasks: i.tasks })) } : {};
  const metadata = {
    tasks: JSON.stringify(tasks.map((t) => ({ name: t.name, kind: t.kind, labels: t.labels, threshold: t.extra.threshold ?? null }))),
    input: JSON.stringify({ layout: 'NCHW', channels: 'RGB', range: [0, 255], size: inputs[0]!.size, ...several }),
  };
  const graph = g.graph(
    inputs.map((i) => ({ name: i.name, shape: i.shape })),
    outputs,
  );
  return { graph, outputs, inputs, metadata };
}

/** The producer written into every export. */
export const producerOf = (o: ExportOptions): { name: string; version: string } => ({ name: 'paenet', version: o.producerVersion ?? '' });

/** The ONNX bytes, the graph's inputs (one per distinct task input size) and its outputs (one per task, named after it). */
export function exportOnnx(model: PaeModel, o: ExportOptions = {}): { bytes: Uint8Array; outputs: OnnxValue[]; inputs: OnnxInput[] } {
  const { graph, outputs, inputs, metadata } = buildOnnxGraph(model, o);
  return { bytes: encodeModel(graph, producerOf(o), metadata), outputs, inputs };
}
