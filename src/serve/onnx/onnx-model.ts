// ONNX ModelProto encoding (field numbers from onnx/onnx.proto, IR version 8, default-domain opset 13: the first
// opset whose QuantizeLinear/DequantizeLinear take an `axis`, so the int8 graphs' per-channel weights need no other).
import { ProtoWriter } from './protobuf.ts';

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 13;
const FLOAT = 1;

/** A constant's values; the array type is the tensor's element type (float, uint8, int8 or int32). */
export type TensorData = Float32Array | Uint8Array | Int8Array | Int32Array;

/** TensorProto.DataType of each element type. */
function dataType(d: TensorData): number {
  if (d instanceof Float32Array) return FLOAT;
  if (d instanceof Uint8Array) return 2;
  if (d instanceof Int8Array) return 3;
  return 6;
}

export type AttributeValue = number | number[] | string | { float: number };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attributes?: Record<string, AttributeValue>;
}

export interface OnnxInitializer {
  name: string;
  dims: number[];
  data: TensorData;
}

/** A graph input or output: float tensor; a string dimension is symbolic (e.g. the batch). */
export interface OnnxValue {
  name: string;
  shape: (number | string)[];
}

/** A graph output whose shape may be left to the runtime (the calibration graph reads inner values of any rank). */
export type GraphOutput = OnnxValue | { name: string; shape?: undefined };

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxInitializer[];
  inputs: OnnxValue[];
  outputs: GraphOutput[];
}

function attribute(name: string, v: AttributeValue): ProtoWriter {
  const a = new ProtoWriter().string(1, name);
  // AttributeProto: f=2, i=3, s=4, ints=8, type=20 (FLOAT=1, INT=2, STRING=3, INTS=7).
  if (typeof v === 'string') return a.string(4, v).int(20, 3);
  if (Array.isArray(v)) return a.packedInts(8, v).int(20, 7);
  if (typeof v === 'object') return a.float(2, v.float).int(20, 1);
  return a.int(3, v).int(20, 2);
}

function valueInfo(v: GraphOutput): ProtoWriter {
  const tensorType = new ProtoWriter().int(1, FLOAT);
  if (v.shape) {
    const shape = new ProtoWriter();
    for (const d of v.shape) shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
    tensorType.message(2, shape);
  }
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

function tensor(t: OnnxInitializer): ProtoWriter {
  const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  // TensorProto: dims=1, data_type=2, name=8, raw_data=9 (little-endian, as on every platform paenet runs on).
  return new ProtoWriter().packedInts(1, t.dims).int(2, dataType(t.data)).string(8, t.name).bytes(9, raw);
}

/** The serialized ModelProto. `metadata` becomes metadata_props (string key/value pairs). */
export function encodeModel(g: OnnxGraph, producer: { name: string; version: string }, metadata: Record<string, string> = {}): Uint8Array {
  const graph = new ProtoWriter();
  for (const n of g.nodes) {
    const node = new ProtoWriter();
    for (const i of n.inputs) node.string(1, i);
    for (const o of n.outputs) node.string(2, o);
    node.string(3, n.name).string(4, n.op);
    for (const [k, v] of Object.entries(n.attributes ?? {})) node.message(5, attribute(k, v));
    graph.message(1, node);
  }
  graph.string(2, g.name);
  for (const t of g.initializers) graph.message(5, tensor(t));
  for (const v of g.inputs) graph.message(11, valueInfo(v));
  for (const v of g.outputs) graph.message(12, valueInfo(v));
  const model = new ProtoWriter()
    .int(1, ONNX_IR_VERSION)
    .string(2, producer.name)
    .string(3, producer.version)
    .message(7, graph)
    .message(8, new ProtoWriter().string(1, '').int(2, ONNX_OPSET));
  for (const [k, v] of Object.entries(metadata)) model.message(14, new ProtoWriter().string(1, k).string(2, v));
  return model.finish();
}
