// Tests the tfjs weights-manifest reader: bit-exact decoding of every stored dtype, the real face-api weights, and one-line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTfjsWeights, type TfjsWeight } from '../../src/io/tfjs-weights.ts';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'paenet-tfjs-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Float32 bits of a tensor, copied byte for byte so NaN payloads and -0 survive the comparison. */
function bitsOf(data: Float32Array): number[] {
  return [...new Uint32Array(data.slice().buffer)];
}

function u32le(...words: number[]): Buffer {
  const b = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => b.writeUInt32LE(w >>> 0, i * 4));
  return b;
}

function u16le(...words: number[]): Buffer {
  const b = Buffer.alloc(words.length * 2);
  words.forEach((w, i) => b.writeUInt16LE(w, i * 2));
  return b;
}

function writeManifest(dir: string, manifest: unknown, shards: Record<string, Uint8Array> = {}): string {
  for (const [name, bytes] of Object.entries(shards)) writeFileSync(join(dir, name), bytes);
  const path = join(dir, 'model-weights_manifest.json');
  writeFileSync(path, typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  return path;
}

// Float32 words with awkward patterns: -pi, a NaN with payload, -0, the smallest subnormal and the largest finite value.
const F32_BITS = [0x3f800000, 0xc0490fdb, 0x7fc12345, 0x80000000, 0x00000001, 0x7f7fffff];
// Quantisation parameters chosen so that double-then-round differs from float32 step-by-step arithmetic.
const Q8 = { scale: 0.3, min: -0.7, values: [0, 1, 3, 7, 100, 255] };
// 0x0102 catches byte-order mistakes; 65535 is the top of the range.
const Q16 = { scale: 0.01, min: 0.1, values: [0, 0x0102, 65535] };
// Half bit patterns and the float32 bits they must decode to.
const F16: [half: number, float: number][] = [
  [0x3c00, 0x3f800000], // 1
  [0xc000, 0xc0000000], // -2
  [0x7bff, 0x477fe000], // 65504, largest finite half
  [0x0001, 0x33800000], // 5.960464477539063e-8, smallest subnormal
  [0x03ff, 0x387fc000], // largest subnormal
  [0x0400, 0x38800000], // smallest normal
  [0x8000, 0x80000000], // -0
  [0x3555, 0x3eaaa000], // 0.333251953125
  [0x7c00, 0x7f800000], // +Infinity
  [0xfc00, 0xff800000], // -Infinity
  [0x7e00, 0x7fc00000], // quiet NaN
  [0xfd01, 0xffa02000], // negative signalling NaN, payload kept
];

test('a hand-built two-group manifest decodes every stored dtype bit-exactly, across shards split mid-weight', () => {
  withDir((dir) => {
    const group1 = Buffer.concat([u32le(...F32_BITS), Buffer.from(Q8.values), u16le(...Q16.values), u16le(...F16.map(([h]) => h))]);
    assert.equal(group1.length, 24 + 6 + 6 + 24);
    // Split inside the third float32 so a reader that decodes shard by shard gets it wrong.
    const group2 = Buffer.concat([u32le(-7, 123456), Buffer.from([0, 1, 2, 3])]);
    mkdirSync(join(dir, 'sub'));
    const path = writeManifest(
      dir,
      [
        {
          paths: ['group1-shard1of2.bin', 'sub/group1-shard2of2.bin'],
          weights: [
            { name: 'dense/kernel', shape: [2, 3], dtype: 'float32' },
            { name: 'q8', shape: [2, 3], dtype: 'float32', quantization: { dtype: 'uint8', scale: Q8.scale, min: Q8.min } },
            { name: 'q16', shape: [3], dtype: 'float32', quantization: { dtype: 'uint16', scale: Q16.scale, min: Q16.min } },
            { name: 'half', shape: [3, 4], dtype: 'float32', quantization: { dtype: 'float16' } },
          ],
        },
        {
          paths: ['group2-shard1of1.bin'],
          weights: [
            { name: 'ints', shape: [2], dtype: 'int32' },
            { name: 'qints', shape: [4], dtype: 'int32', quantization: { dtype: 'uint8', scale: 0.5, min: -1, original_dtype: 'int32' } },
            { name: 'empty', shape: [0, 5], dtype: 'float32' },
            { name: 'scalar-less', shape: [], dtype: 'float32', quantization: { dtype: 'float16' } },
          ],
        },
      ],
      {
        'group1-shard1of2.bin': group1.subarray(0, 10),
        'sub/group1-shard2of2.bin': group1.subarray(10),
        'group2-shard1of1.bin': Buffer.concat([group2, u16le(0x3c00)]),
      },
    );
    const got = readTfjsWeights(path);
    assert.deepEqual([...got.keys()], ['dense/kernel', 'q8', 'q16', 'half', 'ints', 'qints', 'empty', 'scalar-less']);
    const w = (name: string): TfjsWeight => got.get(name)!;

    assert.deepEqual(w('dense/kernel').shape, [2, 3]);
    assert.equal(w('dense/kernel').stored, 'float32');
    assert.equal(w('dense/kernel').name, 'dense/kernel');
    assert.deepEqual(bitsOf(w('dense/kernel').data), F32_BITS);

    const expect8 = Float32Array.from(Q8.values, (v) => v * Q8.scale + Q8.min);
    const expect16 = Float32Array.from(Q16.values, (v) => v * Q16.scale + Q16.min);
    // Guard: float32 step-by-step arithmetic must give other values, or matching expect8/16 would prove nothing.
    const f = Math.fround;
    assert.ok(Q8.values.some((v, i) => f(f(v * f(Q8.scale)) + f(Q8.min)) !== expect8[i]));
    assert.ok(Q16.values.some((v, i) => f(f(v * f(Q16.scale)) + f(Q16.min)) !== expect16[i]));
    assert.equal(expect8[1], -0.4000000059604645);
    assert.equal(w('q8').stored, 'uint8');
    assert.deepEqual(bitsOf(w('q8').data), bitsOf(expect8));
    assert.equal(w('q16').stored, 'uint16');
    assert.deepEqual(bitsOf(w('q16').data), bitsOf(expect16));
    assert.equal(w('q16').data[1], Math.fround(258 * 0.01 + 0.1));

    assert.equal(w('half').stored, 'float16');
    assert.deepEqual(w('half').shape, [3, 4]);
    assert.deepEqual(
      bitsOf(w('half').data),
      F16.map(([, bits]) => bits),
    );
    assert.equal(w('half').data[3], 5.960464477539063e-8);
    assert.ok(Object.is(w('half').data[6], -0));

    assert.equal(w('ints').stored, 'int32');
    assert.deepEqual([...w('ints').data], [-7, 123456]);
    // tfjs rounds dequantised int32 weights: 0*0.5-1, 1*0.5-1 = -0.5 → -0 (Math.round), 0, 0.5 → 1.
    assert.equal(w('qints').stored, 'uint8');
    assert.deepEqual([...w('qints').data], [-1, -0, 0, 1]);
    assert.equal(w('empty').data.length, 0);
    assert.deepEqual(w('empty').shape, [0, 5]);
    assert.deepEqual(w('scalar-less').shape, []);
    assert.deepEqual([...w('scalar-less').data], [1]);
  });
});

const FACE_API_MODEL = fileURLToPath(new URL('../../node_modules/@vladmandic/face-api/model/', import.meta.url));
const RECOGNITION_MANIFEST = join(FACE_API_MODEL, 'face_recognition_model-weights_manifest.json');

test('the real face-api recognition manifest loads with the right shapes and dequantised ranges', () => {
  const weights = readTfjsWeights(RECOGNITION_MANIFEST);
  assert.equal(weights.size, 117);
  for (const [name, w] of weights) {
    assert.equal(w.name, name);
    assert.equal(
      w.data.length,
      w.shape.reduce((a, b) => a * b, 1),
      name,
    );
  }
  assert.deepEqual(weights.get('fc')!.shape, [256, 128]);
  assert.deepEqual(weights.get('conv32_down/conv/filters')!.shape, [7, 7, 3, 32]);
  const plain = weights.get('conv64_down/conv1/conv/filters')!;
  assert.equal(plain.stored, 'float32');
  assert.deepEqual(plain.shape, [3, 3, 32, 64]);

  const manifest = JSON.parse(readFileSync(RECOGNITION_MANIFEST, 'utf8')) as {
    weights: { name: string; quantization?: { scale: number; min: number } }[];
  }[];
  const quant = (name: string) => manifest[0]!.weights.find((w) => w.name === name)!.quantization!;
  for (const name of ['fc', 'conv32_down/conv/filters']) {
    const w = weights.get(name)!;
    const { scale, min } = quant(name);
    assert.equal(w.stored, 'uint8', name);
    const lo = Math.fround(min);
    const hi = Math.fround(min + 255 * scale);
    assert.ok(
      w.data.every((x) => x >= lo && x <= hi),
      `${name} has values outside [${lo}, ${hi}]`,
    );
    const distinct = new Set(w.data).size;
    assert.ok(distinct > 1 && distinct <= 256, `${name} has ${distinct} distinct values`);
  }

  // 'fc' is the manifest's last weight, so it must be exactly the file's last bytes: this checks every offset before it.
  const bin = readFileSync(join(FACE_API_MODEL, 'face_recognition_model.bin'));
  const fc = weights.get('fc')!;
  const { scale, min } = quant('fc');
  const tail = bin.subarray(bin.length - fc.data.length);
  assert.deepEqual(bitsOf(fc.data), bitsOf(Float32Array.from(tail, (v) => v * scale + min)));
  // And the first weight the file's first bytes.
  const first = weights.get('conv32_down/conv/filters')!;
  const q = quant('conv32_down/conv/filters');
  assert.deepEqual(bitsOf(first.data), bitsOf(Float32Array.from(bin.subarray(0, first.data.length), (v) => v * q.scale + q.min)));
});

/** One error case: writes its files into `dir` and returns the manifest to read and the path the message must name. */
type ErrorCase = [label: string, setup: (dir: string) => { manifest: string; offending?: string }, message: RegExp];

const F32x32 = { name: 'x', shape: [32], dtype: 'float32' };
const group = (weights: unknown[], paths = ['w.bin']) => [{ paths, weights }];
const bytes = (n: number) => ({ 'w.bin': new Uint8Array(n) });

const errorCases: ErrorCase[] = [
  ['missing manifest', (dir) => ({ manifest: join(dir, 'nope-weights_manifest.json') }), /: no such weights manifest$/],
  ['truncated JSON', (dir) => ({ manifest: writeManifest(dir, '[\n  {"paths": [\n  "w.bin",\n') }), /: invalid JSON \(/],
  // V8 quotes the offending source text in its message, newlines included.
  [
    'invalid JSON spanning lines',
    (dir) => ({ manifest: writeManifest(dir, '[\n  {"paths": []},\n  }\n') }),
    /: invalid JSON \(.*is not valid JSON/,
  ],
  [
    'a JSON object, not an array',
    (dir) => ({ manifest: writeManifest(dir, { paths: ['w.bin'], weights: [] }) }),
    /: not a tfjs weights manifest \(expected a JSON array of \{paths, weights\}\)$/,
  ],
  ['a group without weights', (dir) => ({ manifest: writeManifest(dir, [{ paths: ['w.bin'] }]) }), /: not a tfjs weights manifest/],
  [
    'a non-string path',
    (dir) => ({ manifest: writeManifest(dir, group([F32x32], [3 as unknown as string])) }),
    /: not a tfjs weights manifest/,
  ],
  ['a weight without a name', (dir) => ({ manifest: writeManifest(dir, group([{ shape: [1], dtype: 'float32' }])) }), /: not a tfjs/],
  [
    'a negative dimension',
    (dir) => ({ manifest: writeManifest(dir, group([{ ...F32x32, shape: [2, -1] }])) }),
    /: weight 'x' has invalid shape$/,
  ],
  [
    'a fractional dimension',
    (dir) => ({ manifest: writeManifest(dir, group([{ ...F32x32, shape: [1.5] }])) }),
    /: weight 'x' has invalid shape$/,
  ],
  ['a string shape', (dir) => ({ manifest: writeManifest(dir, group([{ ...F32x32, shape: '32' }])) }), /: weight 'x' has invalid shape$/],
  [
    'an overflowing shape',
    (dir) => ({ manifest: writeManifest(dir, group([{ ...F32x32, shape: [2 ** 30, 2 ** 30, 2 ** 30] }])) }),
    /: weight 'x' has invalid shape$/,
  ],
  [
    'a weight name with a newline',
    (dir) => ({ manifest: writeManifest(dir, group([{ ...F32x32, name: 'a\nb', shape: null }])) }),
    /: weight 'a\\nb' has invalid shape$/,
  ],
  [
    'an unknown quantization dtype',
    (dir) => ({ manifest: writeManifest(dir, group([{ ...F32x32, quantization: { dtype: 'int4', scale: 1, min: 0 } }]), bytes(16)) }),
    /: weight 'x' has unknown quantization dtype 'int4'/,
  ],
  [
    'a null quantization',
    (dir) => ({ manifest: writeManifest(dir, group([{ ...F32x32, quantization: null }]), bytes(128)) }),
    /: weight 'x' has unknown quantization dtype/,
  ],
  [
    'uint8 quantization without a scale',
    (dir) => ({ manifest: writeManifest(dir, group([{ ...F32x32, quantization: { dtype: 'uint8', min: 0 } }]), bytes(32)) }),
    /: weight 'x' is uint8-quantised without a finite numeric scale and min$/,
  ],
  [
    'float16 quantization of an int32 weight',
    (dir) => ({ manifest: writeManifest(dir, group([{ ...F32x32, dtype: 'int32', quantization: { dtype: 'float16' } }]), bytes(64)) }),
    /: weight 'x' is float16-quantised but has dtype int32$/,
  ],
  [
    'an unsupported dtype',
    (dir) => ({ manifest: writeManifest(dir, group([{ ...F32x32, dtype: 'bool' }]), bytes(32)) }),
    /: weight 'x' has unsupported dtype 'bool'/,
  ],
  [
    'a weight name used twice, across groups',
    (dir) => ({ manifest: writeManifest(dir, [...group([F32x32]), ...group([F32x32], ['v.bin'])], bytes(128)) }),
    /: weight 'x' appears more than once$/,
  ],
  [
    'a missing shard file',
    (dir) => ({ manifest: writeManifest(dir, group([F32x32], ['w.bin', 'missing.bin']), bytes(64)), offending: join(dir, 'missing.bin') }),
    /: missing shard file$/,
  ],
  [
    'shards shorter than described',
    (dir) => ({ manifest: writeManifest(dir, group([F32x32]), bytes(100)) }),
    /: shards hold 100 bytes, the manifest describes 128$/,
  ],
  [
    'shards with trailing extra bytes',
    (dir) => ({ manifest: writeManifest(dir, group([F32x32]), bytes(132)) }),
    /: shards hold 132 bytes, the manifest describes 128$/,
  ],
  [
    'a short shard in the second group',
    (dir) => ({
      manifest: writeManifest(dir, [...group([F32x32]), ...group([{ ...F32x32, name: 'y' }], ['v.bin'])], {
        ...bytes(128),
        'v.bin': new Uint8Array(127),
      }),
    }),
    /: shards hold 127 bytes, the manifest describes 128 \(group 2 of 2\)$/,
  ],
];

for (const [label, setup, message] of errorCases) {
  test(`rejects ${label} with a one-line message naming the file`, () => {
    withDir((dir) => {
      const { manifest, offending = manifest } = setup(dir);
      assert.throws(
        () => readTfjsWeights(manifest),
        (err: unknown) => {
          assert.ok(err instanceof Error);
          assert.ok(err.message.startsWith(`${offending}: `), `message does not start with the offending path: ${err.message}`);
          assert.doesNotMatch(err.message, /[\r\n\u2028\u2029]/);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  });
}

test('the exact short-shard message', () => {
  withDir((dir) => {
    const manifest = writeManifest(dir, group([F32x32]), bytes(100));
    assert.throws(() => readTfjsWeights(manifest), { message: `${manifest}: shards hold 100 bytes, the manifest describes 128` });
  });
});
