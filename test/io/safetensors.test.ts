// Tests safetensors encoding/decoding: bit-exact round trips, determinism, spec conformance and rejection of bad files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DTYPE_SIZE,
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  recordFromTyped,
  typedFromRecord,
  writeSafetensors,
  type TensorRecord,
} from '../../src/io/safetensors.ts';

function concat(chunks: Uint8Array[]): Uint8Array {
  return Buffer.concat(chunks);
}

/** Builds a safetensors file by hand, straight from the spec, independent of the encoder. */
function handBuilt(header: string, data: Uint8Array = new Uint8Array(0), pad = true): Uint8Array {
  let json = Buffer.from(header, 'utf8');
  if (pad) json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

function f32Bytes(...values: number[]): Uint8Array {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeFloatLE(v, i * 4));
  return b;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'paenet-st-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One tensor of every dtype, with awkward float bit patterns and extreme integers. */
function everyDtype(): Map<string, TensorRecord> {
  // Floats are built from bit patterns so NaN payloads and -0 are checked bit for bit.
  const f32Bits = new Uint32Array([0x7fc00000, 0x7f800001, 0xffc12345, 0x80000000, 0x7f800000, 0xff800000, 0x3fc00000, 0x00000001]);
  const f64Bits = new BigUint64Array([
    0x7ff8000000000000n,
    0x7ff0000000000001n,
    0xfff8dead0000beefn,
    0x8000000000000000n,
    0x7ff0000000000000n,
    0xfff0000000000000n,
    0x0000000000000001n,
  ]);
  const m = new Map<string, TensorRecord>();
  m.set('f32', recordFromTyped(new Float32Array(f32Bits.buffer), [2, 4]));
  m.set('f64', recordFromTyped(new Float64Array(f64Bits.buffer), [7]));
  m.set('f16', recordFromTyped(new Uint16Array([0x7e00, 0x7c01, 0x8000, 0x7c00, 0xfc00, 0x3c00]), [3, 2], 'F16'));
  m.set('bf16', recordFromTyped(new Uint16Array([0x7fc1, 0xff80, 0x8000, 0x3f80]), [4], 'BF16'));
  m.set('i64', recordFromTyped(new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 9007199254740993n]), [5]));
  m.set('i32', recordFromTyped(new Int32Array([-2147483648, 2147483647, 0, -1]), [2, 2]));
  m.set('i16', recordFromTyped(new Int16Array([-32768, 32767, -1]), [3]));
  m.set('i8', recordFromTyped(new Int8Array([-128, 127, -1]), [3]));
  m.set('u8', recordFromTyped(new Uint8Array([0, 255, 128]), [3]));
  m.set('bool', recordFromTyped(new Uint8Array([0, 1, 1, 0, 1]), [5], 'BOOL'));
  m.set('empty', recordFromTyped(new Float32Array(0), [0, 3]));
  m.set('scalar', recordFromTyped(new BigInt64Array([42n]), []));
  m.set('10', recordFromTyped(new Int8Array([10]), [1]));
  m.set('2', recordFromTyped(new Int8Array([2]), [1]));
  m.set('naïve 🙂', recordFromTyped(new Uint8Array([7]), [1, 1, 1]));
  return m;
}

function assertSameTensors(got: Map<string, TensorRecord>, want: Map<string, TensorRecord>): void {
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
  for (const [name, w] of want) {
    const g = got.get(name);
    assert.ok(g, `missing tensor ${name}`);
    assert.equal(g.dtype, w.dtype, name);
    assert.deepEqual(g.shape, w.shape, name);
    assert.ok(Buffer.from(g.data).equals(Buffer.from(w.data)), `bytes differ for ${name}`);
  }
}

test('every dtype round-trips bit-exactly through a file, with metadata', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'all.safetensors');
    const tensors = everyDtype();
    const metadata = { format: 'pt', note: 'line1\nline2 "quoted" ✓' };
    await writeSafetensors(path, tensors, metadata);
    assert.deepEqual(await readdir(dir), ['all.safetensors']);
    const back = await readSafetensors(path);
    assertSameTensors(back.tensors, tensors);
    assert.deepEqual(back.metadata, metadata);

    const f32 = typedFromRecord(back.tensors.get('f32')!);
    assert.ok(f32 instanceof Float32Array);
    assert.ok(Number.isNaN(f32[0]));
    assert.ok(Object.is(f32[3], -0));
    assert.equal(f32[4], Infinity);
    assert.equal(f32[5], -Infinity);
    assert.equal(f32[6], 1.5);
    const f64 = typedFromRecord(back.tensors.get('f64')!);
    assert.ok(f64 instanceof Float64Array);
    assert.ok(Object.is(f64[3], -0));
    assert.equal(f64[6], Number.MIN_VALUE);
    const i64 = typedFromRecord(back.tensors.get('i64')!);
    assert.ok(i64 instanceof BigInt64Array);
    assert.deepEqual([...i64], [-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 9007199254740993n]);
    assert.deepEqual([...typedFromRecord(back.tensors.get('scalar')!)], [42n]);
    assert.deepEqual(back.tensors.get('scalar')!.shape, []);
    assert.equal(typedFromRecord(back.tensors.get('empty')!).length, 0);
    assert.deepEqual(back.tensors.get('empty')!.shape, [0, 3]);
    assert.ok(typedFromRecord(back.tensors.get('f16')!) instanceof Uint16Array);
    assert.deepEqual([...typedFromRecord(back.tensors.get('i32')!)], [-2147483648, 2147483647, 0, -1]);
  });
});

test('decoded tensor data are zero-copy views of the input buffer', () => {
  const bytes = concat(encodeSafetensors(everyDtype()));
  const { tensors } = decodeSafetensors(bytes);
  for (const [name, r] of tensors) assert.equal(r.data.buffer, bytes.buffer, name);
  const u8 = tensors.get('u8')!;
  bytes[u8.data.byteOffset - bytes.byteOffset] = 99;
  assert.equal(u8.data[0], 99);
});

test('encoding is deterministic regardless of insertion order or container type', () => {
  const forward = everyDtype();
  const reversed = new Map([...forward.entries()].reverse());
  const asRecord = Object.fromEntries([...forward.entries()].sort(() => 0.5 - Math.random()));
  const a = concat(encodeSafetensors(forward, { b: '2', a: '1' }));
  const b = concat(encodeSafetensors(forward, { b: '2', a: '1' }));
  const c = concat(encodeSafetensors(reversed, { a: '1', b: '2' }));
  const d = concat(encodeSafetensors(asRecord, { a: '1', b: '2' }));
  assert.ok(Buffer.from(a).equals(Buffer.from(b)));
  assert.ok(Buffer.from(a).equals(Buffer.from(c)));
  assert.ok(Buffer.from(a).equals(Buffer.from(d)));
  // Different content must give different bytes, or the comparisons above prove nothing.
  const e = concat(encodeSafetensors(forward, { a: '1', b: '3' }));
  assert.ok(!Buffer.from(a).equals(Buffer.from(e)));
});

test('header is space-padded so the data section starts 8-byte aligned', () => {
  const chunks = encodeSafetensors({
    x: recordFromTyped(new Uint8Array([1]), [1]),
  });
  const head = Buffer.from(chunks[0]!);
  const n = Number(head.readBigUInt64LE(0));
  assert.equal(n % 8, 0);
  assert.equal(head.length, 8 + n);
  const text = head.subarray(8).toString('utf8');
  assert.match(text, /^\{.*\} *$/);
});

test('a hand-built spec file decodes, and the encoder produces exactly those bytes', () => {
  const header = '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  const file = handBuilt(header, f32Bytes(1.5, -2));
  const { tensors, metadata } = decodeSafetensors(file, 'hand.safetensors');
  assert.deepEqual(metadata, {});
  const x = tensors.get('x')!;
  assert.equal(x.dtype, 'F32');
  assert.deepEqual(x.shape, [2]);
  assert.deepEqual([...typedFromRecord(x)], [1.5, -2]);

  const encoded = concat(encodeSafetensors({ x: recordFromTyped(new Float32Array([1.5, -2]), [2]) }));
  assert.ok(Buffer.from(encoded).equals(Buffer.from(file)), 'encoder output differs from the hand-built file');
});

test('hand-built file with metadata, unsorted entries, whitespace and no padding decodes', () => {
  // Header order differs from data order, and "b" precedes "a" in the data section.
  const header =
    '{ "a": {"dtype":"I8","shape":[3],"data_offsets":[4,7]},\n "__metadata__": {"format":"pt"},' +
    ' "b": {"shape":[],"data_offsets":[0,4],"dtype":"I32"} }';
  const data = Buffer.from([0x2a, 0, 0, 0, 0xff, 0x01, 0x80]);
  const { tensors, metadata } = decodeSafetensors(handBuilt(header, data, false), 'mixed.safetensors');
  assert.deepEqual(metadata, { format: 'pt' });
  assert.deepEqual([...typedFromRecord(tensors.get('a')!)], [-1, 1, -128]);
  assert.deepEqual([...typedFromRecord(tensors.get('b')!)], [42]);
});

test('typedFromRecord copies misaligned data and still reads the right values', () => {
  // An F32 tensor at data offset 3 cannot be viewed in place.
  const header = '{"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"b":{"dtype":"F32","shape":[1],"data_offsets":[3,7]}}';
  const file = handBuilt(header, Buffer.concat([Buffer.from([1, 2, 3]), f32Bytes(-0.25)]));
  const b = decodeSafetensors(file).tensors.get('b')!;
  assert.notEqual(b.data.byteOffset % 4, 0);
  const typed = typedFromRecord(b);
  assert.deepEqual([...typed], [-0.25]);
  assert.notEqual(typed.buffer, file.buffer);
  // Buffer-backed records too: Buffer#slice is a view, so the copy must not rely on it.
  const fromBuffer = typedFromRecord({
    dtype: 'F32',
    shape: [1],
    data: Buffer.from(Buffer.concat([Buffer.from([0]), f32Bytes(3.5)])).subarray(1),
  });
  assert.deepEqual([...fromBuffer], [3.5]);
});

test('metadata key "__proto__" is kept as a plain own entry', () => {
  const meta = Object.fromEntries([
    ['__proto__', 'x'],
    ['k', 'v'],
  ]) as Record<string, string>;
  const back = decodeSafetensors(concat(encodeSafetensors({}, meta))).metadata;
  assert.ok(Object.hasOwn(back, '__proto__'));
  assert.equal(back['__proto__'], 'x');
  assert.equal(Object.getPrototypeOf(back), Object.prototype);
});

const SOURCE = 'bad-case.safetensors';
const F32x2 = '"dtype":"F32","shape":[2]';

const invalid: [string, () => Uint8Array, RegExp][] = [
  ['file shorter than 8 bytes', () => new Uint8Array(4), /too short/],
  [
    'header length beyond the file',
    () => {
      const b = Buffer.alloc(18);
      b.writeBigUInt64LE(100n);
      b.write('{}', 8);
      return b;
    },
    /truncated safetensors header/,
  ],
  [
    'header larger than 100 MB',
    () => {
      const b = Buffer.alloc(16, 0x20);
      b.writeBigUInt64LE(100_000_001n);
      return b;
    },
    /exceeds/,
  ],
  [
    'absurd u64 header length',
    () => {
      const b = Buffer.alloc(16, 0x20);
      b.writeBigUInt64LE(2n ** 64n - 1n);
      return b;
    },
    /exceeds/,
  ],
  ['header not valid JSON', () => handBuilt('{"x":'), /not valid UTF-8 JSON/],
  ['header not valid UTF-8', () => handBuilt('{"x\uFFFD":1}').map((v) => (v === 0xef ? 0xff : v)), /not valid UTF-8/],
  ['empty header', () => handBuilt(''), /not valid UTF-8 JSON/],
  ['header a JSON array', () => handBuilt('[]'), /does not start with|not a JSON object/],
  ['header JSON null', () => handBuilt('null'), /does not start with|not a JSON object/],
  ['header with leading spaces', () => handBuilt('  {}'), /does not start with/],
  ['tensor entry not an object', () => handBuilt('{"x":5}'), /not an object/],
  ['unknown dtype', () => handBuilt('{"x":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}', new Uint8Array(1)), /dtype/],
  ['dtype not a string', () => handBuilt('{"x":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}', new Uint8Array(4)), /dtype/],
  ['missing dtype', () => handBuilt('{"x":{"shape":[1],"data_offsets":[0,4]}}', new Uint8Array(4)), /dtype/],
  ['shape not an array', () => handBuilt('{"x":{"dtype":"U8","shape":"2","data_offsets":[0,2]}}', new Uint8Array(2)), /shape/],
  ['missing shape', () => handBuilt('{"x":{"dtype":"U8","data_offsets":[0,2]}}', new Uint8Array(2)), /shape/],
  ['negative dimension', () => handBuilt('{"x":{"dtype":"U8","shape":[-2],"data_offsets":[0,0]}}'), /shape/],
  ['fractional dimension', () => handBuilt('{"x":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}', new Uint8Array(1)), /shape/],
  ['string dimension', () => handBuilt('{"x":{"dtype":"U8","shape":["2"],"data_offsets":[0,2]}}', new Uint8Array(2)), /shape/],
  ['data_offsets too short', () => handBuilt(`{"x":{${F32x2},"data_offsets":[0]}}`, new Uint8Array(8)), /data_offsets/],
  ['data_offsets too long', () => handBuilt(`{"x":{${F32x2},"data_offsets":[0,8,8]}}`, new Uint8Array(8)), /data_offsets/],
  ['missing data_offsets', () => handBuilt(`{"x":{${F32x2}}}`, new Uint8Array(8)), /data_offsets/],
  ['data_offsets not integers', () => handBuilt(`{"x":{${F32x2},"data_offsets":[0,"8"]}}`, new Uint8Array(8)), /data_offsets/],
  ['fractional data_offsets', () => handBuilt(`{"x":{${F32x2},"data_offsets":[0.5,8.5]}}`, new Uint8Array(8)), /data_offsets/],
  ['negative data_offsets', () => handBuilt(`{"x":{${F32x2},"data_offsets":[-1,7]}}`, new Uint8Array(8)), /data_offsets/],
  ['end before begin', () => handBuilt('{"x":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}', new Uint8Array(4)), /end before begin/],
  ['byte size does not match shape', () => handBuilt(`{"x":{${F32x2},"data_offsets":[0,4]}}`, new Uint8Array(4)), /needs 8 bytes/],
  [
    'overlapping offsets',
    () => handBuilt(`{"a":{${F32x2},"data_offsets":[0,8]},"b":{${F32x2},"data_offsets":[4,12]}}`, new Uint8Array(12)),
    /overlap/,
  ],
  [
    'duplicate offsets',
    () => handBuilt(`{"a":{${F32x2},"data_offsets":[0,8]},"b":{${F32x2},"data_offsets":[0,8]}}`, new Uint8Array(8)),
    /overlap/,
  ],
  [
    'gap between tensors',
    () =>
      handBuilt(
        `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`,
        new Uint8Array(12),
      ),
    /gap/,
  ],
  ['gap at start of data', () => handBuilt('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', new Uint8Array(8)), /gap/],
  ['trailing bytes after the last tensor', () => handBuilt(`{"x":{${F32x2},"data_offsets":[0,8]}}`, new Uint8Array(9)), /trailing/],
  ['data section missing bytes', () => handBuilt(`{"x":{${F32x2},"data_offsets":[0,8]}}`, new Uint8Array(7)), /truncated data section/],
  ['bytes after an empty header', () => handBuilt('{}', new Uint8Array(1)), /trailing/],
  ['metadata value not a string', () => handBuilt('{"__metadata__":{"epoch":3}}'), /__metadata__/],
  ['metadata an array', () => handBuilt('{"__metadata__":["a"]}'), /__metadata__/],
  ['metadata null', () => handBuilt('{"__metadata__":null}'), /__metadata__/],
];

for (const [name, build, pattern] of invalid) {
  test(`decode rejects: ${name}`, () => {
    assert.throws(
      () => decodeSafetensors(build(), SOURCE),
      (err: Error) => {
        assert.ok(err.message.startsWith(`${SOURCE}: `), err.message);
        assert.match(err.message, pattern);
        assert.ok(!err.message.includes('\n'), `multi-line message: ${err.message}`);
        return true;
      },
    );
  });
}

test('decode names "<buffer>" by default', () => {
  assert.throws(() => decodeSafetensors(new Uint8Array(3)), /^Error: <buffer>: /);
});

test('a valid file that is truncated or extended by one byte is rejected on read, naming the path', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'model.pae');
    await writeSafetensors(path, everyDtype(), { v: '1' });
    const good = await readFile(path);
    await readSafetensors(path);
    for (const bad of [good.subarray(0, good.length - 1), Buffer.concat([good, Buffer.from([0])])]) {
      await writeFile(path, bad);
      await assert.rejects(readSafetensors(path), (err: Error) => err.message.startsWith(`${path}: `));
    }
  });
});

test('reading a missing file fails with a message naming the path', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'absent.safetensors');
    await assert.rejects(readSafetensors(path), (err: Error) => err.message.startsWith(`${path}: `));
  });
});

test('writeSafetensors leaves an existing file untouched when encoding fails', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'model.pae');
    await writeFile(path, 'original');
    const broken: TensorRecord = {
      dtype: 'F32',
      shape: [3],
      data: new Uint8Array(8),
    };
    await assert.rejects(writeSafetensors(path, { w: broken }), (err: Error) => {
      assert.ok(err.message.startsWith(`${path}: `), err.message);
      assert.match(err.message, /needs 12 bytes/);
      return true;
    });
    assert.equal(await readFile(path, 'utf8'), 'original');
    assert.deepEqual(await readdir(dir), ['model.pae']);
  });
});

test('encode rejects bad records, reserved names and non-string metadata', () => {
  const ok = recordFromTyped(new Uint8Array([1]), [1]);
  assert.throws(() => encodeSafetensors({ __metadata__: ok }), /reserved/);
  assert.throws(
    () =>
      encodeSafetensors({
        w: { dtype: 'F32', shape: [2], data: new Uint8Array(4) },
      }),
    /"w".*needs 8 bytes/,
  );
  assert.throws(
    () =>
      encodeSafetensors({
        w: { dtype: 'U32' as 'U8', shape: [1], data: new Uint8Array(4) },
      }),
    /unknown dtype/,
  );
  assert.throws(
    () =>
      encodeSafetensors({
        w: { dtype: 'U8', shape: [-1], data: new Uint8Array(0) },
      }),
    /shape/,
  );
  assert.throws(() => encodeSafetensors({ w: ok }, { n: 3 as unknown as string }), /metadata "n"/);
});

test('recordFromTyped checks shape and dtype compatibility', () => {
  assert.throws(() => recordFromTyped(new Float32Array(6), [2, 2]), /needs 4 elements, array has 6/);
  assert.throws(() => recordFromTyped(new Float32Array(1), [1], 'I32'), /cannot store Float32Array as dtype I32/);
  assert.throws(() => recordFromTyped(new Int32Array(1), [1], 'F16'), /cannot store/);
  assert.throws(() => recordFromTyped(new Uint8Array(1), [0.5 as number]), /non-negative integers/);
  assert.equal(recordFromTyped(new Int16Array(1), [1], 'BF16').dtype, 'BF16');
  assert.equal(recordFromTyped(new Int8Array(1), [1], 'BOOL').dtype, 'BOOL');
});

test('recordFromTyped views the typed array memory, honouring its byte offset', () => {
  const backing = new Int32Array([1, 2, 3, 4]);
  const r = recordFromTyped(backing.subarray(1, 3), [2]);
  assert.equal(r.data.byteLength, 8);
  assert.deepEqual([...typedFromRecord(r)], [2, 3]);
  backing[1] = 20;
  assert.deepEqual([...typedFromRecord(r)], [20, 3]);
});

test('typedFromRecord returns the matching array type for every dtype and rejects size mismatches', () => {
  const want: Record<string, unknown> = {
    F32: Float32Array,
    F64: Float64Array,
    F16: Uint16Array,
    BF16: Uint16Array,
    I64: BigInt64Array,
    I32: Int32Array,
    I16: Int16Array,
    I8: Int8Array,
    U8: Uint8Array,
    BOOL: Uint8Array,
  };
  for (const [dtype, size] of Object.entries(DTYPE_SIZE)) {
    const typed = typedFromRecord({
      dtype: dtype as TensorRecord['dtype'],
      shape: [3],
      data: new Uint8Array(3 * size),
    });
    assert.equal(typed.constructor, want[dtype], dtype);
    assert.equal(typed.length, 3, dtype);
  }
  assert.throws(() => typedFromRecord({ dtype: 'I64', shape: [2], data: new Uint8Array(8) }), /needs 16 bytes/);
});
