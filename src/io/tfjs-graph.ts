// Reads TensorFlow.js graph models (model.json + weight shards) without tfjs: every node with its attributes decoded
// and every constant's values, so a converted TensorFlow network (e.g. Human's faceres) can be rebuilt natively.
import { decodeTfjsWeightsManifest, fail, loadTfjsJson, quote, type TfjsWeight } from './tfjs-weights.ts';

/** The shape and dtype a Const node declares; its values are in {@link TfjsGraphModel.weights}. */
export interface TfjsTensorAttr {
  dtype: string;
  shape: number[];
}

/**
 * One decoded attribute: `s` → string (base64 decoded), `i`/`f` → number, `b` → boolean, `type` → 'DT_FLOAT'…,
 * `shape` → dims (-1 unknown; null for unknown rank), `tensor` → {dtype, shape}, `list` → an array, `func` → its name.
 */
export type TfjsAttrValue = string | number | boolean | number[] | string[] | number[][] | TfjsTensorAttr | null;

/** Geometry of a convolution or pooling node, in [height, width] order whatever the data format. */
export interface TfjsConvAttrs {
  strides: [number, number];
  dilations: [number, number];
  padding: 'SAME' | 'VALID' | 'EXPLICIT';
  /** [top, bottom, left, right]; zeros unless `padding` is EXPLICIT. */
  explicitPaddings: [number, number, number, number];
  dataFormat: 'NHWC' | 'NCHW';
  /** Pooling window (MaxPool, AvgPool); absent for convolutions, whose window is the filter's shape. */
  window?: [number, number];
}

export interface TfjsGraphNode {
  name: string;
  op: string;
  /** Data inputs as the graph names them: 'node' (its first output) or 'node:k'. */
  inputs: string[];
  /** Control dependencies ('^node' in the graph), without the caret. */
  controlInputs: string[];
  attrs: Record<string, TfjsAttrValue>;
  /** Convolution and pooling ops only. */
  conv?: TfjsConvAttrs;
  /** Fused ops only (_FusedConv2D, FusedDepthwiseConv2dNative, _FusedMatMul): what follows the op, in order, e.g. ['BiasAdd', 'Relu']. */
  fusedOps?: string[];
}

export interface TfjsGraphModel {
  /** The model.json read. */
  source: string;
  generatedBy?: string;
  convertedBy?: string;
  /** In file order (a converter's order is topological, but nothing here relies on it). */
  nodes: TfjsGraphNode[];
  /** Every Const node's values by node name, dequantised to float32. */
  weights: Map<string, TfjsWeight>;
  /** Placeholder nodes. */
  inputs: string[];
  /** The signature's outputs when the file has one (':0' dropped), else the nodes no other node reads. */
  outputs: string[];
}

const CONV_OPS = new Set(['Conv2D', '_FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative']);
const POOL_OPS = new Set(['MaxPool', 'AvgPool']);
const FUSED_OPS = new Set(['_FusedConv2D', 'FusedDepthwiseConv2dNative', '_FusedMatMul']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** protobuf's JSON form writes int64 as strings; anything but a safe integer would silently lose digits. */
function toInt(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) ? n : undefined;
}

function toFloat(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  // protobuf's JSON form spells non-finite floats as strings.
  if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return Number(value);
  return undefined;
}

function toText(value: unknown): string | undefined {
  return typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : undefined;
}

function dimsOf(shape: unknown): number[] | null | undefined {
  if (!isRecord(shape)) return undefined;
  if (shape.unknownRank === true) return null;
  if (shape.dim === undefined) return [];
  if (!Array.isArray(shape.dim)) return undefined;
  const dims = shape.dim.map((d: unknown) => (isRecord(d) ? toInt(d.size ?? '0') : undefined));
  return dims.every((d): d is number => d !== undefined && d >= -1) ? dims : undefined;
}

function listOf<T>(items: unknown, decode: (v: unknown) => T | undefined): T[] | undefined {
  if (!Array.isArray(items)) return undefined;
  const out = items.map(decode);
  return out.every((v): v is T => v !== undefined) ? out : undefined;
}

/** One AttrValue of TensorFlow's protobuf JSON; undefined when it is none of the forms a graph model uses. */
function decodeAttr(value: unknown): TfjsAttrValue | undefined {
  if (!isRecord(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const kind = keys[0]!;
  const v = value[kind];
  switch (kind) {
    case 's':
      return toText(v);
    case 'i':
      return toInt(v);
    case 'f':
      return toFloat(v);
    case 'b':
      return typeof v === 'boolean' ? v : undefined;
    case 'type':
      return typeof v === 'string' ? v : undefined;
    case 'shape':
      return dimsOf(v);
    case 'func':
      return isRecord(v) && typeof v.name === 'string' ? v.name : undefined;
    case 'tensor': {
      if (!isRecord(v) || typeof v.dtype !== 'string') return undefined;
      const shape = dimsOf(v.tensorShape ?? {});
      return shape ? { dtype: v.dtype, shape } : undefined;
    }
    case 'list': {
      if (!isRecord(v)) return undefined;
      const kinds = Object.keys(v).filter((k) => Array.isArray(v[k]) && (v[k] as unknown[]).length > 0);
      if (kinds.length === 0) return Object.values(v).every((x) => Array.isArray(x)) ? [] : undefined;
      if (kinds.length > 1) return undefined;
      const items = v[kinds[0]!];
      switch (kinds[0]) {
        case 'i':
          return listOf(items, toInt);
        case 'f':
          return listOf(items, toFloat);
        case 's':
          return listOf(items, toText);
        case 'type':
          return listOf(items, (x) => (typeof x === 'string' ? x : undefined));
        case 'shape':
          return listOf(items, (x) => dimsOf(x) ?? undefined);
        default:
          return undefined;
      }
    }
    default:
      return undefined;
  }
}

/** Reads one node's attribute as a [height, width] pair from its 4-entry NHWC/NCHW form, checking batch and channel are 1. */
function spatialPair(source: string, node: TfjsGraphNode, key: string, nchw: boolean, fallback: number): [number, number] {
  const v = node.attrs[key];
  if (v === undefined) return [fallback, fallback];
  const [h, w, n, c] = Array.isArray(v) && v.length === 4 ? (nchw ? [v[2], v[3], v[0], v[1]] : [v[1], v[2], v[0], v[3]]) : [];
  if (typeof h !== 'number' || typeof w !== 'number' || n !== 1 || c !== 1 || h < 1 || w < 1) {
    fail(source, `node ${quote(node.name)} (${node.op}) has invalid ${key} ${JSON.stringify(v)}`);
  }
  return [h, w];
}

function convAttrs(source: string, node: TfjsGraphNode): TfjsConvAttrs {
  const format = node.attrs.data_format ?? 'NHWC';
  if (format !== 'NHWC' && format !== 'NCHW')
    fail(source, `node ${quote(node.name)} (${node.op}) has unsupported data_format ${quote(String(format))}`);
  const nchw = format === 'NCHW';
  const padding = node.attrs.padding;
  if (padding !== 'SAME' && padding !== 'VALID' && padding !== 'EXPLICIT') {
    fail(source, `node ${quote(node.name)} (${node.op}) has unsupported padding ${quote(String(padding))}`);
  }
  let explicitPaddings: TfjsConvAttrs['explicitPaddings'] = [0, 0, 0, 0];
  if (padding === 'EXPLICIT') {
    // Eight numbers, a (before, after) pair per dimension in data_format order.
    const p = node.attrs.explicit_paddings;
    const at = nchw ? 4 : 2;
    if (!Array.isArray(p) || p.length !== 8 || !p.every((x) => typeof x === 'number' && x >= 0)) {
      fail(source, `node ${quote(node.name)} (${node.op}) has EXPLICIT padding without 8 non-negative explicit_paddings`);
    }
    const q = p as number[];
    explicitPaddings = [q[at]!, q[at + 1]!, q[at + 2]!, q[at + 3]!];
  }
  const conv: TfjsConvAttrs = {
    strides: spatialPair(source, node, 'strides', nchw, 1),
    dilations: spatialPair(source, node, 'dilations', nchw, 1),
    padding,
    explicitPaddings,
    dataFormat: format,
  };
  if (POOL_OPS.has(node.op)) {
    if (node.attrs.ksize === undefined) fail(source, `node ${quote(node.name)} (${node.op}) has no ksize`);
    conv.window = spatialPair(source, node, 'ksize', nchw, 1);
  }
  return conv;
}

function fusedOpsOf(source: string, node: TfjsGraphNode): string[] {
  const ops = node.attrs.fused_ops ?? [];
  if (!Array.isArray(ops) || !ops.every((o) => typeof o === 'string'))
    fail(source, `node ${quote(node.name)} (${node.op}) has invalid fused_ops`);
  // The first two inputs are the op's own; num_args more follow (the bias, PReLU's alpha).
  const extra = node.attrs.num_args ?? 0;
  if (typeof extra !== 'number' || node.inputs.length !== 2 + extra) {
    fail(source, `node ${quote(node.name)} (${node.op}) has ${node.inputs.length} inputs, expected 2 + num_args (${String(extra)})`);
  }
  return ops as string[];
}

function parseNode(source: string, raw: unknown, index: number): TfjsGraphNode {
  if (!isRecord(raw) || typeof raw.name !== 'string' || raw.name === '' || typeof raw.op !== 'string' || raw.op === '') {
    fail(source, `node ${index + 1} has no name or op`);
  }
  const name = raw.name;
  const rawInputs = raw.input ?? [];
  if (!Array.isArray(rawInputs) || !rawInputs.every((s): s is string => typeof s === 'string' && s !== '')) {
    fail(source, `node ${quote(name)} has invalid inputs`);
  }
  const rawAttrs = raw.attr ?? {};
  if (!isRecord(rawAttrs)) fail(source, `node ${quote(name)} has invalid attributes`);
  const attrs: Record<string, TfjsAttrValue> = {};
  for (const [key, value] of Object.entries(rawAttrs)) {
    const decoded = decodeAttr(value);
    if (decoded === undefined) fail(source, `node ${quote(name)} has an undecodable attribute ${quote(key)}`);
    attrs[key] = decoded;
  }
  const node: TfjsGraphNode = {
    name,
    op: raw.op,
    inputs: rawInputs.filter((s) => !s.startsWith('^')),
    controlInputs: rawInputs.filter((s) => s.startsWith('^')).map((s) => s.slice(1)),
    attrs,
  };
  if (CONV_OPS.has(node.op) || POOL_OPS.has(node.op)) node.conv = convAttrs(source, node);
  if (FUSED_OPS.has(node.op)) node.fusedOps = fusedOpsOf(source, node);
  return node;
}

/** The producing node of an input reference ('node', 'node:k'). */
function producer(input: string): string {
  const colon = input.lastIndexOf(':');
  return colon > 0 && /^\d+$/.test(input.slice(colon + 1)) ? input.slice(0, colon) : input;
}

/** Every input names a node, and Const nodes and weights match one to one with equal shapes. */
function checkGraph(source: string, nodes: TfjsGraphNode[], weights: Map<string, TfjsWeight>): void {
  const byName = new Map<string, TfjsGraphNode>();
  for (const n of nodes) {
    if (byName.has(n.name)) fail(source, `node ${quote(n.name)} appears more than once`);
    byName.set(n.name, n);
  }
  for (const n of nodes) {
    for (const input of [...n.inputs, ...n.controlInputs]) {
      if (!byName.has(producer(input))) fail(source, `node ${quote(n.name)} reads ${quote(input)}, which is no node of the graph`);
    }
    if (n.op !== 'Const') continue;
    const w = weights.get(n.name);
    if (!w) fail(source, `Const node ${quote(n.name)} has no weight in the weightsManifest`);
    const declared = n.attrs.value;
    if (isRecord(declared)) {
      const shape = (declared as TfjsTensorAttr).shape;
      if (shape.join(',') !== w.shape.join(',')) {
        fail(source, `Const node ${quote(n.name)} declares shape [${shape.join(', ')}] but its weight has [${w.shape.join(', ')}]`);
      }
    }
  }
  for (const name of weights.keys()) {
    if (byName.get(name)?.op !== 'Const') fail(source, `weight ${quote(name)} belongs to no Const node of the graph`);
  }
}

function outputsOf(signature: unknown, nodes: TfjsGraphNode[]): string[] {
  const declared = isRecord(signature) && isRecord(signature.outputs) ? Object.values(signature.outputs) : [];
  const named = declared.flatMap((o) => (isRecord(o) && typeof o.name === 'string' ? [o.name.replace(/:0$/, '')] : []));
  if (named.length > 0) return named;
  const read = new Set(nodes.flatMap((n) => n.inputs.map(producer)));
  return nodes.filter((n) => n.op !== 'Const' && !read.has(n.name)).map((n) => n.name);
}

/**
 * Reads a tfjs graph model: `model.json` (format 'graph-model': `modelTopology.node` and `weightsManifest`) and its
 * shards beside it. Weights are decoded by the weights-manifest reader (float32, int32, uint8/uint16-quantised and
 * float16 all become float32). Attributes are decoded to plain values, and convolution, pooling and fused nodes get
 * their geometry and fused ops checked and spelt out. Graphs with a function library (control flow) are refused.
 * Every problem is one line naming the file.
 */
export function readTfjsGraph(modelPath: string): TfjsGraphModel {
  const json = loadTfjsJson(modelPath, 'tfjs model.json');
  if (!isRecord(json)) fail(modelPath, 'not a tfjs model.json (expected a JSON object)');
  if (json.format !== undefined && json.format !== 'graph-model') {
    fail(modelPath, `is a tfjs ${quote(String(json.format))}, not a graph model`);
  }
  const topology = json.modelTopology;
  if (!isRecord(topology) || !Array.isArray(topology.node)) fail(modelPath, 'not a tfjs graph model (no modelTopology.node list)');
  const library = topology.library;
  if (isRecord(library) && Array.isArray(library.function) && library.function.length > 0) {
    fail(modelPath, 'the graph has a function library (control flow), which this reader does not support');
  }
  if (!Array.isArray(json.weightsManifest)) fail(modelPath, 'not a tfjs graph model (no weightsManifest list)');
  const nodes = topology.node.map((raw: unknown, i: number) => parseNode(modelPath, raw, i));
  const weights = decodeTfjsWeightsManifest(modelPath, json.weightsManifest);
  checkGraph(modelPath, nodes, weights);
  return {
    source: modelPath,
    ...(typeof json.generatedBy === 'string' ? { generatedBy: json.generatedBy } : {}),
    ...(typeof json.convertedBy === 'string' ? { convertedBy: json.convertedBy } : {}),
    nodes,
    weights,
    inputs: nodes.filter((n) => n.op === 'Placeholder').map((n) => n.name),
    outputs: outputsOf(json.signature, nodes),
  };
}
