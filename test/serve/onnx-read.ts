// Reads an ONNX ModelProto back (independently of the writer in src/serve/onnx): its graph's nodes, initializers
// and metadata, so the tests check what a runtime would load, not the exporter's own view of it.

/** One decoded protobuf field: a varint, or the bytes of a length-delimited field (32/64-bit fields skipped). */
type Field = { n: number; v: bigint } | { n: number; b: Uint8Array };

function fields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let p = 0;
  const varint = (): bigint => {
    let x = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = buf[p++]!;
      x |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return x;
    }
  };
  while (p < buf.length) {
    const key = Number(varint());
    const [n, wire] = [key >>> 3, key & 7];
    if (wire === 0) out.push({ n, v: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      out.push({ n, b: buf.subarray(p, p + len) });
      p += len;
    } else if (wire === 5) p += 4;
    else if (wire === 1) p += 8;
    else throw new Error(`protobuf wire type ${wire} at ${p}`);
  }
  return out;
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const bytesOf = (fs: Field[], n: number): Uint8Array[] => fs.flatMap((f) => (f.n === n && 'b' in f ? [f.b] : []));
const intOf = (fs: Field[], n: number): number | undefined => {
  const f = fs.find((x) => x.n === n && 'v' in x);
  return f && 'v' in f ? Number(BigInt.asIntN(64, f.v)) : undefined;
};
/** The varints packed in one length-delimited field. */
function packed(b: Uint8Array): number[] {
  const out: number[] = [];
  let x = 0n;
  let shift = 0n;
  for (const byte of b) {
    x |= BigInt(byte & 0x7f) << shift;
    shift += 7n;
    if (byte < 0x80) {
      out.push(Number(BigInt.asIntN(64, x)));
      [x, shift] = [0n, 0n];
    }
  }
  return out;
}

/** A repeated int64 field, packed or not. */
function ints(fs: Field[], n: number): number[] {
  return fs.filter((f) => f.n === n).flatMap((f) => ('v' in f ? [Number(BigInt.asIntN(64, f.v))] : packed(f.b)));
}

export interface ReadTensor {
  name: string;
  dims: number[];
  /** TensorProto.DataType: 1 float, 2 uint8, 3 int8, 6 int32. */
  type: number;
  data: Float32Array | Uint8Array | Int8Array | Int32Array;
}

export interface ReadNode {
  op: string;
  inputs: string[];
  outputs: string[];
  /** Integer attributes (e.g. axis, group). */
  ints: Record<string, number>;
}

export interface ReadModel {
  opset: number;
  nodes: ReadNode[];
  initializers: Map<string, ReadTensor>;
  metadata: Record<string, string>;
}

function tensor(b: Uint8Array): ReadTensor {
  const fs = fields(b);
  const type = intOf(fs, 2)!;
  const raw = Uint8Array.from(bytesOf(fs, 9)[0] ?? new Uint8Array());
  const view = { 1: Float32Array, 2: Uint8Array, 3: Int8Array, 6: Int32Array }[type as 1 | 2 | 3 | 6];
  if (!view) throw new Error(`tensor type ${type} not read here`);
  return { name: text(bytesOf(fs, 8)[0]!), dims: ints(fs, 1), type, data: new view(raw.buffer, 0, raw.length / view.BYTES_PER_ELEMENT) };
}

function node(b: Uint8Array): ReadNode {
  const fs = fields(b);
  const attrs: Record<string, number> = {};
  for (const a of bytesOf(fs, 5)) {
    const af = fields(a);
    const i = intOf(af, 3);
    if (i !== undefined) attrs[text(bytesOf(af, 1)[0]!)] = i;
  }
  return { op: text(bytesOf(fs, 4)[0]!), inputs: bytesOf(fs, 1).map(text), outputs: bytesOf(fs, 2).map(text), ints: attrs };
}

/** The model's default-domain opset, its graph's nodes and initializers (raw_data ones), and its metadata. */
export function readOnnx(bytes: Uint8Array): ReadModel {
  const model = fields(bytes);
  const graph = fields(bytesOf(model, 7)[0]!);
  const opsets = bytesOf(model, 8).map(fields);
  const main = opsets.find((o) => text(bytesOf(o, 1)[0] ?? new Uint8Array()) === '') ?? opsets[0]!;
  const initializers = new Map<string, ReadTensor>();
  for (const t of bytesOf(graph, 5)) {
    const fs = fields(t);
    if (bytesOf(fs, 9).length === 0) continue;
    const r = tensor(t);
    initializers.set(r.name, r);
  }
  const metadata: Record<string, string> = {};
  for (const m of bytesOf(model, 14).map(fields)) metadata[text(bytesOf(m, 1)[0]!)] = text(bytesOf(m, 2)[0] ?? new Uint8Array());
  return { opset: intOf(main, 2)!, nodes: bytesOf(graph, 1).map(node), initializers, metadata };
}
