// Reads and writes the safetensors tensor-file format, validating every header field on load.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write.ts';

/** Element types this layer supports (a subset of the safetensors dtypes). */
export type SafeDtype = 'F32' | 'F64' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** One tensor: element type, shape (row-major, `[]` = scalar) and its raw little-endian bytes. */
export interface TensorRecord {
  dtype: SafeDtype;
  shape: number[];
  data: Uint8Array;
}

/** Typed-array view per dtype; F16/BF16 have no JS float type, so they are exposed as raw 16-bit words. */
export interface TypedArrayByDtype {
  F32: Float32Array;
  F64: Float64Array;
  F16: Uint16Array;
  BF16: Uint16Array;
  I64: BigInt64Array;
  I32: Int32Array;
  I16: Int16Array;
  I8: Int8Array;
  U8: Uint8Array;
  BOOL: Uint8Array;
}

/** Typed arrays accepted by {@link recordFromTyped}. */
export type TensorTypedArray = TypedArrayByDtype[SafeDtype];

/** Result of {@link decodeSafetensors}. */
export interface DecodedSafetensors {
  tensors: Map<string, TensorRecord>;
  metadata: Record<string, string>;
}

/** Bytes per element for each supported dtype. */
export const DTYPE_SIZE: Readonly<Record<SafeDtype, number>> = {
  F32: 4,
  F64: 8,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** Largest header accepted, matching the reference implementation's guard against hostile files. */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

// Typed-array views reinterpret bytes in host order, which is only the file's order on LE hosts.
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isSafeDtype(value: unknown): value is SafeDtype {
  return typeof value === 'string' && Object.hasOwn(DTYPE_SIZE, value);
}

function isNonNegativeInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function numel(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

function dtypeOfTyped(typed: TensorTypedArray): SafeDtype {
  if (typed instanceof Float32Array) return 'F32';
  if (typed instanceof Float64Array) return 'F64';
  if (typed instanceof BigInt64Array) return 'I64';
  if (typed instanceof Int32Array) return 'I32';
  if (typed instanceof Int16Array) return 'I16';
  if (typed instanceof Int8Array) return 'I8';
  if (typed instanceof Uint16Array) return 'F16';
  if (typed instanceof Uint8Array) return 'U8';
  throw new Error(`safetensors: unsupported typed array ${Object.prototype.toString.call(typed)}`);
}

// Explicit dtypes may only relabel arrays whose elements are raw bits of that dtype.
function typedFitsDtype(natural: SafeDtype, dtype: SafeDtype): boolean {
  if (natural === dtype) return true;
  if (dtype === 'F16' || dtype === 'BF16') return natural === 'F16' || natural === 'I16';
  if (dtype === 'BOOL') return natural === 'U8' || natural === 'I8';
  return false;
}

function assertLittleEndianHost(): void {
  if (!HOST_LITTLE_ENDIAN) throw new Error('safetensors: typed-array conversion requires a little-endian host');
}

/**
 * Wraps a typed array as a record without copying (the record shares the array's memory).
 * `dtype` defaults from the array type; pass `'F16'`/`'BF16'` for raw 16-bit words
 * (Uint16Array/Int16Array) and `'BOOL'` for Uint8Array/Int8Array.
 */
export function recordFromTyped(typed: TensorTypedArray, shape: number[], dtype?: SafeDtype): TensorRecord {
  assertLittleEndianHost();
  const natural = dtypeOfTyped(typed);
  const chosen = dtype ?? natural;
  if (!typedFitsDtype(natural, chosen)) {
    throw new Error(`safetensors: cannot store ${typed.constructor.name} as dtype ${chosen}`);
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInt)) {
    throw new Error(`safetensors: shape ${JSON.stringify(shape)} is not an array of non-negative integers`);
  }
  if (numel(shape) !== typed.length) {
    throw new Error(`safetensors: shape ${JSON.stringify(shape)} needs ${numel(shape)} elements, array has ${typed.length}`);
  }
  return {
    dtype: chosen,
    shape: [...shape],
    data: new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength),
  };
}

/**
 * Views a record's bytes as the matching typed array (see {@link TypedArrayByDtype}).
 * Zero-copy when the bytes are aligned for the element size; otherwise returns an aligned copy.
 */
export function typedFromRecord<D extends SafeDtype>(r: { dtype: D; shape: number[]; data: Uint8Array }): TypedArrayByDtype[D] {
  assertLittleEndianHost();
  if (!isSafeDtype(r.dtype)) throw new Error(`safetensors: unknown dtype ${JSON.stringify(r.dtype)}`);
  const size = DTYPE_SIZE[r.dtype];
  const count = numel(r.shape);
  if (r.data.byteLength !== count * size) {
    throw new Error(
      `safetensors: ${r.dtype} shape ${JSON.stringify(r.shape)} needs ${count * size} bytes, record has ${r.data.byteLength}`,
    );
  }
  // new Uint8Array(view) always copies; Buffer#slice would return another misaligned view.
  const bytes = r.data.byteOffset % size === 0 ? r.data : new Uint8Array(r.data);
  const { buffer, byteOffset } = bytes;
  const views: { [K in SafeDtype]: () => TypedArrayByDtype[K] } = {
    F32: () => new Float32Array(buffer, byteOffset, count),
    F64: () => new Float64Array(buffer, byteOffset, count),
    F16: () => new Uint16Array(buffer, byteOffset, count),
    BF16: () => new Uint16Array(buffer, byteOffset, count),
    I64: () => new BigInt64Array(buffer, byteOffset, count),
    I32: () => new Int32Array(buffer, byteOffset, count),
    I16: () => new Int16Array(buffer, byteOffset, count),
    I8: () => new Int8Array(buffer, byteOffset, count),
    U8: () => new Uint8Array(buffer, byteOffset, count),
    BOOL: () => new Uint8Array(buffer, byteOffset, count),
  };
  return views[r.dtype]();
}

function entriesOf(tensors: Map<string, TensorRecord> | Record<string, TensorRecord>): [string, TensorRecord][] {
  return tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
}

// Code-unit order is locale-independent, so the same tensors always produce the same bytes.
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkRecord(name: string, r: TensorRecord): void {
  const where = `safetensors: tensor ${JSON.stringify(name)}`;
  if (name === METADATA_KEY) throw new Error(`safetensors: tensor name ${METADATA_KEY} is reserved`);
  if (!isSafeDtype(r.dtype)) throw new Error(`${where} has unknown dtype ${JSON.stringify(r.dtype)}`);
  if (!Array.isArray(r.shape) || !r.shape.every(isNonNegativeInt)) {
    throw new Error(`${where} shape ${JSON.stringify(r.shape)} is not an array of non-negative integers`);
  }
  if (!(r.data instanceof Uint8Array)) throw new Error(`${where} data is not a Uint8Array`);
  const need = numel(r.shape) * DTYPE_SIZE[r.dtype];
  if (r.data.byteLength !== need) {
    throw new Error(`${where} ${r.dtype} shape ${JSON.stringify(r.shape)} needs ${need} bytes, data has ${r.data.byteLength}`);
  }
}

/**
 * Serializes tensors to safetensors as chunks (header, then each tensor's bytes) so callers can
 * write without concatenating. Tensors are ordered by element size then name, metadata keys are sorted, so equal
 * input always gives identical bytes; `__metadata__` is emitted only when it has entries.
 */
export function encodeSafetensors(
  tensors: Map<string, TensorRecord> | Record<string, TensorRecord>,
  metadata?: Record<string, string>,
): Uint8Array[] {
  // Widest dtype first, then by name: every tensor then starts at a multiple of its element size,
  // so readers can view the data in place instead of copying misaligned tensors.
  const entries = entriesOf(tensors).sort(
    ([a, ra], [b, rb]) => (DTYPE_SIZE[rb.dtype] ?? 0) - (DTYPE_SIZE[ra.dtype] ?? 0) || byCodeUnit(a, b),
  );
  // JSON is assembled by hand because JS objects would reorder integer-like keys such as "0".
  const fields: string[] = [];
  const metaKeys = metadata ? Object.keys(metadata).sort(byCodeUnit) : [];
  if (metadata && metaKeys.length > 0) {
    const parts = metaKeys.map((k) => {
      const v = metadata[k];
      if (typeof v !== 'string') throw new Error(`safetensors: metadata ${JSON.stringify(k)} is not a string`);
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    fields.push(`${JSON.stringify(METADATA_KEY)}:{${parts.join(',')}}`);
  }
  let offset = 0;
  for (const [name, r] of entries) {
    checkRecord(name, r);
    const end = offset + r.data.byteLength;
    fields.push(
      `${JSON.stringify(name)}:{"dtype":${JSON.stringify(r.dtype)},"shape":${JSON.stringify(r.shape)},"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = new TextEncoder().encode(`{${fields.join(',')}}`);
  // Padding keeps the data section 8-byte aligned so typed views over it need no copy.
  const headerLen = Math.ceil(json.byteLength / 8) * 8;
  if (headerLen > MAX_HEADER_BYTES) {
    throw new Error(`safetensors: header is ${headerLen} bytes, above the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const head = new Uint8Array(8 + headerLen).fill(0x20);
  new DataView(head.buffer).setBigUint64(0, BigInt(headerLen), true);
  head.set(json, 8);
  return [head, ...entries.map(([, r]) => r.data)];
}

interface ParsedEntry {
  name: string;
  record: Omit<TensorRecord, 'data'>;
  begin: number;
  end: number;
}

function parseEntry(source: string, name: string, raw: unknown): ParsedEntry {
  const where = `${source}: tensor ${JSON.stringify(name)}`;
  if (!isPlainObject(raw)) throw new Error(`${where} header entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (!isSafeDtype(dtype)) throw new Error(`${where} has unknown or unsupported dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInt)) {
    throw new Error(`${where} shape ${JSON.stringify(shape)} is not an array of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    throw new Error(`${where} data_offsets ${JSON.stringify(offsets)} is not a [begin, end] pair`);
  }
  const [begin, end] = offsets as unknown[];
  if (!isNonNegativeInt(begin) || !isNonNegativeInt(end)) {
    throw new Error(`${where} data_offsets ${JSON.stringify(offsets)} are not non-negative integers`);
  }
  if (end < begin) throw new Error(`${where} data_offsets [${begin},${end}] end before begin`);
  const need = numel(shape) * DTYPE_SIZE[dtype];
  if (end - begin !== need) {
    throw new Error(`${where} ${dtype} shape ${JSON.stringify(shape)} needs ${need} bytes, data_offsets span ${end - begin}`);
  }
  return { name, record: { dtype, shape: [...shape] }, begin, end };
}

function parseMetadata(source: string, raw: unknown): Record<string, string> {
  if (!isPlainObject(raw)) throw new Error(`${source}: ${METADATA_KEY} is not an object of strings`);
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') throw new Error(`${source}: ${METADATA_KEY} value for ${JSON.stringify(k)} is not a string`);
  }
  // fromEntries defines own properties, so a "__proto__" key cannot alter the prototype.
  return Object.fromEntries(Object.entries(raw)) as Record<string, string>;
}

// Offsets must tile the data section exactly: any gap, overlap or leftover means a corrupt or tampered file.
function checkCoverage(source: string, entries: ParsedEntry[], dataLen: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let prev: ParsedEntry | undefined;
  for (const e of sorted) {
    if (e.begin < cursor) {
      throw new Error(
        `${source}: tensor ${JSON.stringify(e.name)} data_offsets [${e.begin},${e.end}] overlap tensor ${JSON.stringify(prev?.name)}`,
      );
    }
    if (e.begin > cursor) {
      const after = prev ? `after tensor ${JSON.stringify(prev.name)}` : 'at start of data section';
      throw new Error(`${source}: ${e.begin - cursor}-byte gap ${after} before tensor ${JSON.stringify(e.name)}`);
    }
    cursor = e.end;
    prev = e;
  }
  if (dataLen < cursor) {
    throw new Error(`${source}: truncated data section (tensors need ${cursor} bytes, file has ${dataLen})`);
  }
  if (dataLen > cursor) {
    throw new Error(`${source}: ${dataLen - cursor} unexpected trailing bytes after the last tensor`);
  }
}

/**
 * Parses and fully validates a safetensors buffer. Tensor data are zero-copy subarrays of `bytes`.
 * Throws a one-line Error naming `source` on any malformed, truncated or tampered input.
 */
export function decodeSafetensors(bytes: Uint8Array, source = '<buffer>'): DecodedSafetensors {
  if (bytes.byteLength < 8) {
    throw new Error(`${source}: too short for a safetensors header (needs 8 bytes, has ${bytes.byteLength})`);
  }
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new Error(`${source}: safetensors header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const headerLen = Number(n);
  if (8 + headerLen > bytes.byteLength) {
    throw new Error(`${source}: truncated safetensors header (needs ${8 + headerLen} bytes, file has ${bytes.byteLength})`);
  }
  // The spec requires the header to open with '{'; leading padding would hint at a shifted or forged header.
  if (headerLen > 0 && bytes[8] !== 0x7b) throw new Error(`${source}: safetensors header does not start with '{'`);
  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
    header = JSON.parse(text);
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ');
    throw new Error(`${source}: safetensors header is not valid UTF-8 JSON (${reason})`);
  }
  if (!isPlainObject(header)) throw new Error(`${source}: safetensors header is not a JSON object`);

  let metadata: Record<string, string> = {};
  const entries: ParsedEntry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === METADATA_KEY) metadata = parseMetadata(source, raw);
    else entries.push(parseEntry(source, name, raw));
  }
  const dataStart = 8 + headerLen;
  checkCoverage(source, entries, bytes.byteLength - dataStart);

  const tensors = new Map<string, TensorRecord>();
  for (const e of entries) {
    tensors.set(e.name, {
      ...e.record,
      data: bytes.subarray(dataStart + e.begin, dataStart + e.end),
    });
  }
  return { tensors, metadata };
}

/** Reads and validates a safetensors file; errors name `path`. */
export async function readSafetensors(path: string): Promise<DecodedSafetensors> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ');
    throw new Error(`${path}: cannot read safetensors file (${reason})`, {
      cause: err,
    });
  }
  return decodeSafetensors(bytes, path);
}

/** Writes tensors (and optional string metadata) to `path` atomically; see {@link encodeSafetensors}. */
export async function writeSafetensors(
  path: string,
  tensors: Map<string, TensorRecord> | Record<string, TensorRecord>,
  metadata?: Record<string, string>,
): Promise<void> {
  let chunks: Uint8Array[];
  try {
    chunks = encodeSafetensors(tensors, metadata);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`${path}: ${reason}`, { cause: err });
  }
  await writeFileAtomic(path, chunks);
}
