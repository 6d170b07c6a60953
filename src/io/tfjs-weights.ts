// Reads TensorFlow.js weights manifests and their binary shards without tfjs, so pretrained face-api weights can seed our modules.
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** One tensor decoded from a tfjs weights manifest. */
export interface TfjsWeight {
  name: string;
  shape: number[];
  /** float32 values, row-major in tfjs layout */
  data: Float32Array;
  /** how it was stored */
  stored: 'float32' | 'uint8' | 'uint16' | 'float16' | 'int32';
}

type StoredDtype = TfjsWeight['stored'];

/** A manifest entry after validation, with its byte range inside its group's concatenated shards. */
interface WeightSpec {
  name: string;
  shape: number[];
  numel: number;
  /** Logical tfjs dtype: decides rounding of dequantised values (tfjs rounds int32, not float32). */
  dtype: 'float32' | 'int32';
  stored: StoredDtype;
  scale: number;
  min: number;
  offset: number;
  byteLength: number;
}

interface GroupSpec {
  paths: string[];
  weights: WeightSpec[];
  byteLength: number;
}

// Byte widths as in tfjs's DTYPE_VALUE_SIZE_MAP; the layout has no padding, so these alone fix every offset.
const STORED_BYTES: Readonly<Record<StoredDtype, number>> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 };

// Typed-array views use host byte order; shards are little-endian, so only LE hosts may view them in place.
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const NOT_A_MANIFEST = 'not a tfjs weights manifest (expected a JSON array of {paths, weights})';

/** Quotes a name for an error message, escaping control characters so every message stays on one line. */
export function quote(name: string): string {
  return `'${JSON.stringify(name).slice(1, -1)}'`;
}

/** Collapses whitespace (V8's JSON errors quote source text, which may span lines) so messages stay single-line. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Throws the one-line error every tfjs reader uses: the offending file's path, then the problem. */
export function fail(path: string, problem: string): never {
  throw new Error(`${path}: ${oneLine(problem)}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses a tfjs JSON file (a weights manifest, a model.json); `what` names the kind of file in errors. */
export function loadTfjsJson(manifestPath: string, what = 'weights manifest'): unknown {
  let text: string;
  try {
    text = readFileSync(manifestPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') fail(manifestPath, `no such ${what}`);
    fail(manifestPath, `cannot read ${what} (${code ?? (err as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    fail(manifestPath, `invalid JSON (${(err as Error).message})`);
  }
}

/** Validates one manifest entry; `offset` is where it starts in its group's concatenated shards. */
function parseWeight(manifestPath: string, entry: unknown, offset: number): WeightSpec {
  if (!isRecord(entry) || typeof entry.name !== 'string') fail(manifestPath, NOT_A_MANIFEST);
  const name = entry.name;
  const shape = entry.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(manifestPath, `weight ${quote(name)} has invalid shape`);
  }
  const numel = shape.reduce((a: number, d: number) => a * d, 1);
  if (!Number.isSafeInteger(numel)) fail(manifestPath, `weight ${quote(name)} has invalid shape`);

  const dtype = entry.dtype;
  if (dtype !== 'float32' && dtype !== 'int32') {
    fail(manifestPath, `weight ${quote(name)} has unsupported dtype ${quote(String(dtype))} (expected float32 or int32)`);
  }

  let stored: StoredDtype = dtype;
  let scale = 1;
  let min = 0;
  // tfjs tests `'quantization' in spec`, so an explicit null is as malformed as a wrong dtype.
  if ('quantization' in entry) {
    const q = entry.quantization;
    const qDtype = isRecord(q) ? q.dtype : undefined;
    if (qDtype !== 'uint8' && qDtype !== 'uint16' && qDtype !== 'float16') {
      fail(
        manifestPath,
        `weight ${quote(name)} has unknown quantization dtype ${quote(String(qDtype))} (expected uint8, uint16 or float16)`,
      );
    }
    const quant = q as Record<string, unknown>;
    if (qDtype === 'float16') {
      // tfjs has no int32 decoding for float16, and silently guessing a rounding rule would hide a broken file.
      if (dtype !== 'float32') fail(manifestPath, `weight ${quote(name)} is float16-quantised but has dtype ${dtype}`);
    } else {
      if (typeof quant.scale !== 'number' || typeof quant.min !== 'number' || !isFinite(quant.scale) || !isFinite(quant.min)) {
        fail(manifestPath, `weight ${quote(name)} is ${qDtype}-quantised without a finite numeric scale and min`);
      }
      scale = quant.scale;
      min = quant.min;
    }
    stored = qDtype;
  }
  const byteLength = numel * STORED_BYTES[stored];
  if (!Number.isSafeInteger(byteLength)) fail(manifestPath, `weight ${quote(name)} has invalid shape`);
  return { name, shape: [...shape], numel, dtype, stored, scale, min, offset, byteLength };
}

function parseManifest(manifestPath: string, json: unknown): GroupSpec[] {
  if (!Array.isArray(json)) fail(manifestPath, NOT_A_MANIFEST);
  const seen = new Set<string>();
  return json.map((group: unknown): GroupSpec => {
    if (!isRecord(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) fail(manifestPath, NOT_A_MANIFEST);
    const paths = group.paths;
    if (!paths.every((p): p is string => typeof p === 'string' && p.length > 0)) fail(manifestPath, NOT_A_MANIFEST);
    let offset = 0;
    const weights = group.weights.map((entry: unknown) => {
      const spec = parseWeight(manifestPath, entry, offset);
      // Names key the result map, so a repeat would silently drop a tensor.
      if (seen.has(spec.name)) fail(manifestPath, `weight ${quote(spec.name)} appears more than once`);
      seen.add(spec.name);
      offset += spec.byteLength;
      return spec;
    });
    if (!Number.isSafeInteger(offset)) fail(manifestPath, NOT_A_MANIFEST);
    return { paths, weights, byteLength: offset };
  });
}

/** Reads a group's shards back to back into one buffer, after checking their total size against the manifest. */
function readGroup(manifestPath: string, group: GroupSpec, groupIndex: number, groupCount: number): Uint8Array {
  const shardPaths = group.paths.map((p) => join(dirname(manifestPath), p));
  const sizes = shardPaths.map((shardPath) => {
    let st;
    try {
      st = statSync(shardPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') fail(shardPath, 'missing shard file');
      fail(shardPath, `cannot read shard file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (!st.isFile()) fail(shardPath, 'shard is not a regular file');
    return st.size;
  });
  const total = sizes.reduce((a, b) => a + b, 0);
  // Sizes are compared before reading so a mismatched manifest costs no large allocation; extra bytes are
  // rejected too, since they mean the manifest and shards come from different exports.
  const where = groupCount > 1 ? ` (group ${groupIndex + 1} of ${groupCount})` : '';
  if (total !== group.byteLength) fail(manifestPath, `shards hold ${total} bytes, the manifest describes ${group.byteLength}${where}`);

  const bytes = new Uint8Array(total);
  let at = 0;
  shardPaths.forEach((shardPath, i) => {
    const size = sizes[i]!;
    const fd = openSync(shardPath, 'r');
    try {
      let got = 0;
      while (got < size) {
        const n = readSync(fd, bytes, at + got, size - got, null);
        if (n === 0) break;
        got += n;
      }
      // A shard that shrank between stat and read would leave zeros that look like real weights.
      if (got !== size) fail(shardPath, `shard changed while reading (expected ${size} bytes, read ${got})`);
    } finally {
      closeSync(fd);
    }
    at += size;
  });
  return bytes;
}

/** Copies `count` little-endian 4-byte words into a fresh buffer in host order, keeping every bit (NaN payloads included). */
function copyWords32(bytes: Uint8Array, offset: number, count: number): ArrayBuffer {
  const out = bytes.slice(offset, offset + count * 4);
  if (!HOST_LITTLE_ENDIAN) {
    for (let i = 0; i < out.length; i += 4) {
      const a = out[i]!;
      const b = out[i + 1]!;
      out[i] = out[i + 3]!;
      out[i + 1] = out[i + 2]!;
      out[i + 2] = b;
      out[i + 3] = a;
    }
  }
  return out.buffer;
}

/**
 * Converts IEEE 754 half-precision bits to float32 bits. Every half value, subnormals included, is exact in float32,
 * so this is built on bits rather than arithmetic to keep -0 and NaN payloads as tfjs's table decoder does.
 */
function halfToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // Subnormal half: shift the leading 1 into the implicit position, lowering the exponent to match.
  let e = 113;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

function decodeWeight(spec: WeightSpec, bytes: Uint8Array): Float32Array {
  const { numel, offset } = spec;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (spec.stored) {
    case 'float32':
      return new Float32Array(copyWords32(bytes, offset, numel));
    case 'int32': {
      // Values beyond 2^24 lose precision in float32; tfjs weights that are int32 are small (indices, shapes).
      const ints = new Int32Array(copyWords32(bytes, offset, numel));
      return Float32Array.from(ints);
    }
    case 'uint8':
    case 'uint16': {
      const { scale, min } = spec;
      const wide = spec.stored === 'uint16';
      // tfjs rounds dequantised int32 weights to integers and keeps float32 ones as computed.
      const round = spec.dtype === 'int32';
      const out = new Float32Array(numel);
      for (let i = 0; i < numel; i++) {
        const v = wide ? view.getUint16(offset + 2 * i, true) : bytes[offset + i]!;
        // Computed in doubles and rounded once on store, exactly as tfjs writes `v * scale + min` into a Float32Array.
        const x = v * scale + min;
        out[i] = round ? Math.round(x) : x;
      }
      return out;
    }
    case 'float16': {
      const out = new Float32Array(numel);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < numel; i++) bits[i] = halfToFloatBits(view.getUint16(offset + 2 * i, true));
      return out;
    }
  }
}

/**
 * Reads a tfjs weights manifest and its shards (paths relative to the manifest's folder).
 *
 * The manifest is a JSON array of groups `{paths, weights}`; each group's shard files are concatenated in `paths`
 * order and its weights lie back to back in manifest order, each taking numel × the byte width of its stored dtype.
 * Quantised weights are dequantised as tfjs does (uint8/uint16: `v * scale + min`, float16: IEEE half decoding).
 * The whole manifest is validated before any shard is read; every problem is reported as one-line `Error` whose
 * message starts with the offending file's path.
 */
export function readTfjsWeights(manifestPath: string): Map<string, TfjsWeight> {
  return decodeTfjsWeightsManifest(manifestPath, loadTfjsJson(manifestPath));
}

/**
 * Decodes an already parsed weights manifest (a graph model's `weightsManifest` lives inside its model.json) the
 * same way: shard paths resolve against `sourcePath`'s folder and every error names `sourcePath`.
 */
export function decodeTfjsWeightsManifest(sourcePath: string, manifest: unknown): Map<string, TfjsWeight> {
  const groups = parseManifest(sourcePath, manifest);
  const out = new Map<string, TfjsWeight>();
  groups.forEach((group, gi) => {
    const bytes = readGroup(sourcePath, group, gi, groups.length);
    for (const spec of group.weights) {
      out.set(spec.name, { name: spec.name, shape: spec.shape, data: decodeWeight(spec, bytes), stored: spec.stored });
    }
  });
  return out;
}
