// ONNX export of a packed model: each task's forward with its own masked weights baked in and its BatchNorm
// folded into the preceding conv/linear; input = RGB pixels 0..255, NCHW float; outputs = class probabilities
// (classify) or the L2-normalised embedding (identity, head dropped).
import { noGrad, tidy } from '../../engine/index.ts';
import { BN_EPS, DLIB_BLOCKS, type LayerSpec, type PackableLayer, type PaeModel, type TaskRecord } from '../../pae/index.ts';
import { NORM_MEAN, NORM_SCALE } from '../../data/index.ts';
import { GraphBuilder } from './graph-builder.ts';
import { encodeModel, type OnnxValue } from './onnx-model.ts';

export const ONNX_INPUT = 'pixels';

/** Output spatial size of a conv or pool along one axis (floor mode, as libtorch's defaults). */
const outSize = (n: number, k: number, s: number, p: number): number => Math.floor((n + 2 * p - k) / s) + 1;

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

/** Appends task `t`'s whole forward to the graph; returns its output value name. */
function taskForward(g: GraphBuilder, model: PaeModel, t: TaskRecord, normalised: string): string {
  const net = model.net;
  const slot = net.slot(t.id);
  const size = model.config.inputSize;
  const byName = new Map(net.layers.map((l) => [l.spec.name, l]));
  let h = normalised;
  let hw = size;
  if (slot.input) {
    const c = slot.input.scale.length;
    h = g.op('Mul', [h, g.constant(`${t.name}.input.scale`, Float32Array.from(slot.input.scale), [1, c, 1, 1])]);
    h = g.op('Add', [h, g.constant(`${t.name}.input.shift`, Float32Array.from(slot.input.shift), [1, c, 1, 1])]);
  }
  const conv = (name: string, x: string, spatial: number): { y: string; spatial: number } => {
    const l = byName.get(name)!;
    const s: LayerSpec = l.spec;
    const f = foldedLayer(model, l, t.id);
    const y = g.op(
      'Conv',
      [x, g.constant(`${t.name}.${name}.w`, f.weight, f.dims), g.constant(`${t.name}.${name}.b`, f.bias, [f.dims[0]!])],
      { kernel_shape: [s.kernel, s.kernel], strides: [s.stride, s.stride], pads: [s.padding, s.padding, s.padding, s.padding] },
      `${t.name}.${name}`,
    );
    return { y, spatial: outSize(spatial, s.kernel, s.stride, s.padding) };
  };
  const relu = (x: string): string => g.op('Relu', [x]);
  const channels = (name: string): number => net.width(byName.get(name)!.spec, slot.level)[0];
  if (model.config.arch === 'tiny') {
    for (const l of net.layers.filter((x) => x.spec.kind === 'conv')) {
      const c = conv(l.spec.name, h, hw);
      h = g.op('MaxPool', [relu(c.y)], { kernel_shape: [2, 2], strides: [2, 2] });
      hw = outSize(c.spatial, 2, 2, 0);
    }
  } else if (model.config.arch === 'resnet') {
    const stem = conv('stem', h, hw);
    h = relu(stem.y);
    hw = stem.spatial;
    model.config.stages.forEach((_, s) => {
      for (let b = 0; b < model.config.blocks; b++) {
        const p = `s${s}b${b}`;
        const c1 = conv(`${p}.conv1`, h, hw);
        const c2 = conv(`${p}.conv2`, relu(c1.y), c1.spatial);
        const short = byName.has(`${p}.short`) ? conv(`${p}.short`, h, hw).y : h;
        h = relu(g.op('Add', [c2.y, short]));
        hw = c2.spatial;
      }
    });
  } else {
    // dlib ResNet: see dlibTrunk in src/pae/network.ts (the two must stay in step; the export parity test checks it).
    const stem = conv('stem', h, hw);
    h = g.op('MaxPool', [relu(stem.y)], { kernel_shape: [3, 3], strides: [2, 2] });
    hw = outSize(stem.spatial, 3, 2, 0);
    let c = channels('stem');
    const residual = (p: string): void => {
      const c1 = conv(`${p}.conv1`, h, hw);
      h = relu(g.op('Add', [conv(`${p}.conv2`, relu(c1.y), c1.spatial).y, h]));
    };
    const down = (p: string): void => {
      const c1 = conv(`${p}.conv1`, h, hw);
      const c2 = conv(`${p}.conv2`, relu(c1.y), c1.spatial);
      const ph = Math.floor(hw / 2);
      let main = c2.y;
      if (c2.spatial !== ph) main = g.op('Pad', [main, padsConst(g, [0, 0, 0, 0, 0, 0, ph - c2.spatial, ph - c2.spatial])]);
      let pooled = g.op('AveragePool', [h], { kernel_shape: [2, 2], strides: [2, 2] });
      const mc = channels(`${p}.conv2`);
      if (mc > c) pooled = g.op('Pad', [pooled, padsConst(g, [0, 0, 0, 0, 0, mc - c, 0, 0])]);
      h = relu(g.op('Add', [main, pooled]));
      hw = ph;
      c = mc;
    };
    const stages = model.config.stages.length;
    for (let s = 0; s < stages; s++) {
      if (s > 0) down(`s${s}.down`);
      for (let b = 0; b < (DLIB_BLOCKS[s] ?? 2); b++) residual(`s${s}b${b}`);
      if (s === stages - 1) down(`s${s}.out`);
    }
  }
  h = g.op('Flatten', [g.op('GlobalAveragePool', [h])], { axis: 1 });
  const embed = foldedLayer(model, byName.get('embed')!, t.id);
  h = g.op(
    'Gemm',
    [h, g.constant(`${t.name}.embed.w`, embed.weight, embed.dims), g.constant(`${t.name}.embed.b`, embed.bias, [embed.dims[0]!])],
    {
      transB: 1,
    },
  );
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
