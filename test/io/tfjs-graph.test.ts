// Tests the tfjs graph-model reader: Human's real faceres graph against tfjs's own loading of it, a hand-built graph
// with every attribute form the importer needs, and one-line errors naming the file for malformed models.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/io/packages.ts';
import { readTfjsGraph, type TfjsGraphNode } from '../../src/io/tfjs-graph.ts';
import { loadGraphModelFile } from '../../src/peers/human.ts';
import { tfjs } from '../../src/peers/tfjs-runtime.ts';

const FACERES = join(packageRoot('@vladmandic/human'), 'models', 'faceres.json');

/** Float32 bits, so -0 and NaN payloads count as differences. */
function bitsOf(data: Float32Array | Int32Array): number[] {
  return [...new Uint32Array(Float32Array.from(data).buffer)];
}

function node(graph: { nodes: TfjsGraphNode[] }, name: string): TfjsGraphNode {
  const n = graph.nodes.find((x) => x.name === name);
  assert.ok(n, `no node ${name}`);
  return n;
}

test('faceres.json: 283 nodes of a MobileNet v1, the ops, attributes and heads as the file declares them', () => {
  const g = readTfjsGraph(FACERES);
  assert.equal(g.nodes.length, 283);
  const ops: Record<string, number> = {};
  for (const n of g.nodes) ops[n.op] = (ops[n.op] ?? 0) + 1;
  assert.deepEqual(ops, {
    Const: 128,
    Placeholder: 1,
    Conv2D: 14,
    DepthwiseConv2dNative: 13,
    Mul: 13,
    Add: 27,
    Relu: 27,
    Minimum: 27,
    Maximum: 27,
    Mean: 1,
    _FusedMatMul: 3,
    Sigmoid: 1,
    Softmax: 1,
  });
  assert.equal(g.weights.size, 128);
  assert.deepEqual(g.inputs, ['input_1']);
  assert.deepEqual(g.outputs, ['gender_pred/Sigmoid', 'global_pooling/Mean', 'age_pred/Softmax']);

  const stem = node(g, 'conv1_bn/batchnorm_1/mul_1');
  assert.equal(stem.op, 'Conv2D');
  assert.deepEqual(stem.inputs, ['input_1', 'conv1/convolution/merged_input']);
  assert.deepEqual(stem.conv, { strides: [2, 2], dilations: [1, 1], padding: 'SAME', explicitPaddings: [0, 0, 0, 0], dataFormat: 'NHWC' });
  assert.equal(stem.attrs.use_cudnn_on_gpu, true);
  assert.deepEqual(stem.attrs.explicit_paddings, []);
  assert.deepEqual(node(g, 'conv_dw_2/depthwise').conv!.strides, [2, 2]);
  assert.deepEqual(node(g, 'conv_dw_3/depthwise').conv!.strides, [1, 1]);

  const feats = node(g, 'feats/Relu');
  assert.deepEqual(feats.fusedOps, ['BiasAdd', 'Relu']);
  assert.equal(feats.attrs.transpose_b, false);
  assert.deepEqual(node(g, 'gender_pred/BiasAdd').fusedOps, ['BiasAdd']);
  assert.equal(node(g, 'global_pooling/Mean').attrs.keep_dims, false);
  assert.deepEqual(node(g, 'input_1').attrs.shape, [-1, 224, 224, 3]);
  assert.deepEqual(node(g, 'feats/kernel').attrs.value, { dtype: 'DT_FLOAT', shape: [1024, 256] });

  const kernel = g.weights.get('conv1/convolution/merged_input')!;
  assert.deepEqual(kernel.shape, [3, 3, 3, 32]);
  assert.equal(kernel.stored, 'float16');
  assert.deepEqual([...g.weights.get('global_pooling/Mean/reduction_indices')!.data], [1, 2]);
  // ReLU6 as Minimum(Relu(x), 6) then Maximum(·, 0).
  assert.deepEqual([...g.weights.get('conv1_relu/Cast')!.data], [6]);
  assert.deepEqual([...g.weights.get('conv1_relu/Const_1')!.data], [0]);
});

test('faceres.json: every weight is bit-identical to what tfjs loads from the same files', async () => {
  const g = readTfjsGraph(FACERES);
  const tf = await tfjs();
  const { model } = await loadGraphModelFile(tf, FACERES);
  try {
    const theirs = model.weights;
    assert.deepEqual(Object.keys(theirs).sort(), [...g.weights.keys()].sort());
    let values = 0;
    for (const [name, w] of g.weights) {
      const t = theirs[name]![0]!;
      assert.deepEqual(t.shape, w.shape, name);
      assert.deepEqual(bitsOf(w.data), bitsOf(t.dataSync() as Float32Array | Int32Array), name);
      values += w.data.length;
    }
    // Every value the file stores: MobileNet v1 filters, the unfolded BatchNorm vectors, the ReLU6 bounds and the heads.
    assert.equal(values, 3_489_405);
  } finally {
    model.dispose();
  }
});

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'paenet-graph-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const ints = (...v: number[]) => ({ list: { i: v.map(String) } });
const dims = (...v: number[]) => ({ dim: v.map((size) => ({ size: String(size) })) });
const constNode = (name: string, ...shape: number[]) => ({
  name,
  op: 'Const',
  attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims(...shape) } } },
});

/** A small NCHW graph: an EXPLICIT-padded fused conv (uint8 filter), a max pool, a fused matmul and a control edge. */
function smallModel(): { json: Record<string, unknown>; shard: Uint8Array } {
  const nodes = [
    { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: dims(-1, 2, 5, 5) } } },
    constNode('w', 3, 3, 2, 4),
    constNode('b', 4),
    {
      name: 'conv',
      op: '_FusedConv2D',
      input: ['x', 'w', 'b', '^x'],
      attr: {
        data_format: { s: b64('NCHW') },
        strides: ints(1, 1, 2, 1),
        dilations: ints(1, 1, 1, 3),
        padding: { s: b64('EXPLICIT') },
        explicit_paddings: ints(0, 0, 0, 0, 1, 2, 3, 4),
        fused_ops: { list: { s: [b64('BiasAdd'), b64('Relu6')] } },
        num_args: { i: '1' },
        epsilon: { f: 0 },
      },
    },
    {
      name: 'pool',
      op: 'MaxPool',
      input: ['conv:0'],
      attr: { ksize: ints(1, 1, 3, 2), strides: ints(1, 1, 2, 2), padding: { s: b64('VALID') }, data_format: { s: b64('NCHW') } },
    },
    constNode('k', 4, 1),
    {
      name: 'fc',
      op: '_FusedMatMul',
      input: ['pool', 'k'],
      attr: { fused_ops: { list: {} }, num_args: { i: 0 }, transpose_a: { b: false } },
    },
  ];
  const weights = [
    { name: 'w', shape: [3, 3, 2, 4], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } },
    { name: 'b', shape: [4], dtype: 'float32' },
    { name: 'k', shape: [4, 1], dtype: 'float32', quantization: { dtype: 'float16' } },
  ];
  const w = Buffer.from(Array.from({ length: 72 }, (_, i) => i));
  const b = Buffer.from(new Float32Array([1, -2, 0.25, 8]).buffer);
  const k = Buffer.from(new Uint16Array([0x3c00, 0xc000, 0x3555, 0x8000]).buffer);
  return {
    json: { format: 'graph-model', modelTopology: { node: nodes, library: {} }, weightsManifest: [{ paths: ['g.bin'], weights }] },
    shard: Buffer.concat([w, b, k]),
  };
}

function writeModel(dir: string, json: unknown, shard?: Uint8Array): string {
  const path = join(dir, 'model.json');
  writeFileSync(path, typeof json === 'string' ? json : JSON.stringify(json));
  if (shard) writeFileSync(join(dir, 'g.bin'), shard);
  return path;
}

test('a hand-built NCHW graph: explicit paddings, dilations, pooling window, fused ops, control inputs and weights', () => {
  withDir((dir) => {
    const { json, shard } = smallModel();
    const g = readTfjsGraph(writeModel(dir, json, shard));
    const conv = node(g, 'conv');
    assert.deepEqual(conv.inputs, ['x', 'w', 'b']);
    assert.deepEqual(conv.controlInputs, ['x']);
    // NCHW: H and W are the last two of each 4-list; explicit pairs (top, bottom, left, right) are entries 4..7.
    assert.deepEqual(conv.conv, {
      strides: [2, 1],
      dilations: [1, 3],
      padding: 'EXPLICIT',
      explicitPaddings: [1, 2, 3, 4],
      dataFormat: 'NCHW',
    });
    assert.deepEqual(conv.fusedOps, ['BiasAdd', 'Relu6']);
    assert.equal(conv.attrs.epsilon, 0);
    assert.deepEqual(node(g, 'pool').conv, {
      strides: [2, 2],
      dilations: [1, 1],
      padding: 'VALID',
      explicitPaddings: [0, 0, 0, 0],
      dataFormat: 'NCHW',
      window: [3, 2],
    });
    assert.deepEqual(node(g, 'fc').fusedOps, []);
    assert.deepEqual(g.outputs, ['fc']);
    assert.deepEqual(g.weights.get('w')!.data.slice(0, 4), Float32Array.from([-1, -0.5, 0, 0.5]));
    assert.deepEqual([...g.weights.get('b')!.data], [1, -2, 0.25, 8]);
    assert.deepEqual(bitsOf(g.weights.get('k')!.data), bitsOf(Float32Array.from([1, -2, 0.333251953125, -0])));
  });
});

type Mutate = (json: Record<string, unknown>, nodes: Record<string, unknown>[]) => unknown;
const withNode =
  (name: string, patch: (n: Record<string, unknown>) => void): Mutate =>
  (json, nodes) => {
    patch(nodes.find((n) => n.name === name)!);
    return json;
  };
const convAttr = (key: string, value: unknown): Mutate => withNode('conv', (n) => ((n.attr as Record<string, unknown>)[key] = value));

const malformed: [label: string, mutate: Mutate, message: RegExp][] = [
  ['not JSON', () => '{"format": "graph-model",\n', /: invalid JSON \(/],
  ['a JSON array', () => [], /: not a tfjs model\.json \(expected a JSON object\)$/],
  ['a layers model', (j) => ({ ...j, format: 'layers-model' }), /: is a tfjs 'layers-model', not a graph model$/],
  ['no node list', (j) => ({ ...j, modelTopology: {} }), /: not a tfjs graph model \(no modelTopology\.node list\)$/],
  ['no weights manifest', (j) => ({ ...j, weightsManifest: undefined }), /: not a tfjs graph model \(no weightsManifest list\)$/],
  [
    'a function library',
    (j) => ({ ...j, modelTopology: { ...(j.modelTopology as object), library: { function: [{}] } } }),
    /: the graph has a function library/,
  ],
  ['a node without op', withNode('b', (n) => delete n.op), /: node 3 has no name or op$/],
  ['a duplicate node', (j, nodes) => (nodes.push(constNode('b', 4)), j), /: node 'b' appears more than once$/],
  [
    'an input to no node',
    withNode('fc', (n) => (n.input = ['pool', 'nope:1'])),
    /: node 'fc' reads 'nope:1', which is no node of the graph$/,
  ],
  ['a Const without weight', (j, nodes) => (nodes.push(constNode('z', 1)), j), /: Const node 'z' has no weight in the weightsManifest$/],
  ['a weight without Const', withNode('k', (n) => (n.op = 'Identity')), /: weight 'k' belongs to no Const node of the graph$/],
  [
    'a shape mismatch',
    withNode('b', (n) => (n.attr = constNode('b', 2, 2).attr)),
    /: Const node 'b' declares shape \[2, 2\] but its weight has \[4\]$/,
  ],
  ['an unknown padding', convAttr('padding', { s: b64('FULL') }), /: node 'conv' \(_FusedConv2D\) has unsupported padding 'FULL'$/],
  ['EXPLICIT without pads', convAttr('explicit_paddings', ints(1, 1)), /: node 'conv' \(_FusedConv2D\) has EXPLICIT padding without 8/],
  ['a batch stride', convAttr('strides', ints(2, 1, 1, 1)), /: node 'conv' \(_FusedConv2D\) has invalid strides \[2,1,1,1\]$/],
  [
    'an unknown data format',
    convAttr('data_format', { s: b64('NDHWC') }),
    /: node 'conv' \(_FusedConv2D\) has unsupported data_format 'NDHWC'$/,
  ],
  [
    'a fused op short of its bias',
    withNode('conv', (n) => (n.input = ['x', 'w'])),
    /: node 'conv' \(_FusedConv2D\) has 2 inputs, expected 2 \+ num_args \(1\)$/,
  ],
  [
    'a pool without ksize',
    withNode('pool', (n) => delete (n.attr as Record<string, unknown>).ksize),
    /: node 'pool' \(MaxPool\) has no ksize$/,
  ],
  ['an undecodable attribute', convAttr('epsilon', { f: 'big' }), /: node 'conv' has an undecodable attribute 'epsilon'$/],
  ['an int64 beyond 2^53', convAttr('num_args', { i: '9007199254740993' }), /: node 'conv' has an undecodable attribute 'num_args'$/],
];

for (const [label, mutate, message] of malformed) {
  test(`rejects ${label} with one line naming the model.json`, () => {
    withDir((dir) => {
      const { json, shard } = smallModel();
      const nodes = (json.modelTopology as { node: Record<string, unknown>[] }).node;
      const path = writeModel(dir, mutate(json, nodes), shard);
      assert.throws(
        () => readTfjsGraph(path),
        (e: Error) => {
          assert.ok(e.message.startsWith(`${path}: `), e.message);
          assert.match(e.message, message);
          assert.ok(!e.message.includes('\n'), e.message);
          return true;
        },
      );
    });
  });
}

test('a missing model.json and a short shard are named by the weights reader it shares', () => {
  withDir((dir) => {
    const missing = join(dir, 'none.json');
    assert.throws(() => readTfjsGraph(missing), { message: `${missing}: no such tfjs model.json` });
    const { json, shard } = smallModel();
    const path = writeModel(dir, json, shard.subarray(0, shard.length - 2));
    assert.throws(() => readTfjsGraph(path), { message: `${path}: shards hold 94 bytes, the manifest describes 96` });
  });
});
