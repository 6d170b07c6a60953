// ONNX export of a packed model: each task's forward with its own masked weights baked in and its BatchNorm
// folded into the preceding conv/linear; input = RGB pixels 0..255, NCHW float; outputs = class probabilities
// (classify) or the L2-normalised embedding (identity, head dropped).
import { noGrad, tidy } from '../../engine/index.ts';
import { BN_EPS, padsOf, type PackableLayer, type PaeModel, type TaskRecord, type TrunkOps } from '../../pae/index.ts';
import { NORM_MEAN, NORM_SCALE } from '../../data/index.ts';
import { GraphBuilder } from './graph-builder.ts';
import { encodeModel, type OnnxValue } from './onnx-model.ts';

export const ONNX_INPUT = 'pixels';

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

/** Appends task `t`'s whole forward to the graph; returns its output value name. */
function taskForward(g: GraphBuilder, model: PaeModel, t: TaskRecord, normalised: string): string {
  const net = model.net;
  const slot = net.slot(t.id);
  const size = model.config.inputSize;
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

/** The ONNX bytes and the graph's outputs (one per task, named after it). */
export function exportOnnx(model: PaeModel, o: ExportOptions = {}): { bytes: Uint8Array; outputs: OnnxValue[]; input: OnnxValue } {
  const names = o.tasks ?? model.tasks.map((t) => t.name);
  if (names.length === 0) throw new Error('paenet: the model has no task to export');
  const tasks = names.map((n) => model.task(n));
  const g = new GraphBuilder('paenet', new Set([ONNX_INPUT, ...names]));
  const s = model.config.inputSize;
  const input: OnnxValue = { name: ONNX_INPUT, shape: ['batch', 3, s, s] };
  const normalised = g.op('Div', [
    g.op('Sub', [ONNX_INPUT, g.constant('norm.mean', Float32Array.of(NORM_MEAN), [])]),
    g.constant('norm.scale', Float32Array.of(NORM_SCALE), []),
  ]);
  const outputs: OnnxValue[] = tasks.map((t) => {
    const y = taskForward(g, model, t, normalised);
    const width = model.net.heads.get(t.id) ? model.net.slot(t.id).head.classes : model.config.embedDim;
    return { name: g.output(y, t.name), shape: ['batch', width] };
  });
  const metadata = {
    tasks: JSON.stringify(tasks.map((t) => ({ name: t.name, kind: t.kind, labels: t.labels, threshold: t.extra.threshold ?? null }))),
    input: JSON.stringify({ layout: 'NCHW', channels: 'RGB', range: [0, 255], size: s }),
  };
  return { bytes: encodeModel(g.graph([input], outputs), { name: 'paenet', version: o.producerVersion ?? '' }, metadata), outputs, input };
}
