// Compact storage in the *.pae file (format 3): owner maps packed to 1/2/4/8 bits (lossless), owned weights as fp16
// or per-(channel, task) int8, the manifest's storage record, int8 idempotence and stability under a new task,
// every malformed compact tensor rejected with one line naming the file and tensor, and old files still loading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { liveTensors, manualSeed, randn, tensor, tidy } from '../../src/engine/index.ts';
import { decodeSafetensors, encodeSafetensors, recordFromTyped, type TensorRecord } from '../../src/io/safetensors.ts';
import { buildProgram } from '../../src/cli/program.ts';
import { PaenetError } from '../../src/common/errors.ts';
import { LEGACY_STORAGE, type WeightStorage } from '../../src/pae/compact-storage.ts';
import { PaeModel } from '../../src/pae/model.ts';
import { loadModel, modelChecksum, readModelFile, saveModel, FORMAT_VERSION, type Manifest } from '../../src/pae/model-file.ts';
import { PackableNet, type HeadSpec } from '../../src/pae/network.ts';
import { openFree, releaseToRatio } from '../../src/pae/ownership.ts';
import { packOwners, unpackOwners, type OwnerBits } from '../../src/pae/owner-bits.ts';
import type { PackableLayer } from '../../src/pae/packable-layer.ts';
import {
  assertSameBytes,
  handModel,
  handRecord,
  outputBytes,
  ownersOf,
  PROVENANCE,
  rawBytes,
  tempDir,
  tinyConfig,
  weightsOf,
} from './helpers.ts';

const HEAD: HeadSpec = { kind: 'linear', classes: 3 };

/** A tiny model with tasks 1..n, each taking the free weights and releasing half of them (no training: fast). */
function modelWithTasks(n: number): PaeModel {
  manualSeed(11);
  const net = PackableNet.create(tinyConfig());
  for (let id = 1; id <= n; id++) {
    net.addTaskSlot(id, 'cumulative', HEAD);
    openFree(net, id);
    for (const l of net.layers) releaseToRatio(l, id, 0.5);
  }
  return new PaeModel(
    net,
    Array.from({ length: n }, (_, i) => handRecord(net, i + 1, `t${i + 1}`, HEAD)),
    PROVENANCE,
  );
}

/** Runs `body` with a fresh temp dir and checks no tensor leaked. */
function inTemp(body: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const live = liveTensors();
    const { dir, cleanup } = tempDir();
    try {
      await body(dir);
    } finally {
      cleanup();
    }
    assert.equal(liveTensors(), live, 'no tensor leaked');
  };
}

/** Saves the hand model with `weights` storage to dir/name; returns the path. */
function savedHand(dir: string, name: string, weights: WeightStorage = 'fp32'): string {
  const model = handModel();
  try {
    const path = join(dir, name);
    saveModel(model, path, { weights });
    return path;
  } finally {
    model.dispose();
  }
}

function fileOf(path: string): { tensors: Map<string, TensorRecord>; manifest: Manifest; data: Buffer } {
  const bytes = readFileSync(path);
  const { tensors, metadata } = decodeSafetensors(bytes, path);
  return { tensors, manifest: JSON.parse(metadata.paenet!) as Manifest, data: bytes.subarray(8 + Number(bytes.readBigUInt64LE(0))) };
}

/** Rewrites a model file after `edit`, re-signed as a genuine writer would (so only the edit itself is judged). */
function rewriteSigned(path: string, edit: (tensors: Map<string, TensorRecord>, m: Manifest) => void): void {
  const { tensors, metadata } = decodeSafetensors(readFileSync(path), path);
  const manifest = JSON.parse(metadata.paenet!) as Manifest;
  edit(tensors, manifest);
  const json = JSON.stringify(manifest);
  const data = encodeSafetensors(tensors, { paenet: json }).slice(1);
  writeFileSync(path, Buffer.concat(encodeSafetensors(tensors, { ...metadata, paenet: json, 'paenet.sha256': modelChecksum(json, data) })));
}

/** A copy of a tensor record's values as the given typed array. */
const f32 = (r: TensorRecord): Float32Array => new Float32Array(new Uint8Array(r.data).buffer);
const i8 = (r: TensorRecord): Int8Array => new Int8Array(new Uint8Array(r.data).buffer);

/** Asserts loadModel(path) fails with one line starting with the path and matching `problem`, leaking nothing. */
function assertRejected(path: string, problem: RegExp): void {
  const live = liveTensors();
  assert.throws(
    () => loadModel(path),
    (e: Error) => {
      assert.ok(e instanceof PaenetError && e.code === 'PAENET_MODEL_FILE', `a model-file error: ${e.message}`);
      assert.ok(e.message.startsWith(`${path}: `), `names the file: ${e.message}`);
      assert.ok(!e.message.includes('\n'), 'one line');
      assert.match(e.message, problem);
      return true;
    },
  );
  assert.equal(liveTensors(), live, 'a rejected file leaves no tensors behind');
}

/** Replaces a layer's weights and owners with edited copies. */
function editLayer(l: PackableLayer, edit: (w: Float32Array, owner: Uint8Array) => void): void {
  const w = weightsOf(l);
  const owner = ownersOf(l);
  edit(w, owner);
  l.replace(tensor(w, l.weight.shape), tensor(owner, l.weight.shape));
}

/**
 * The documented int8 storage computed here from the spec: per (output channel, task) group m = max|w|,
 * q = round(w·127/m) half away from zero, value = fround(q·m/127); scales in channel order, then ascending task id.
 */
function int8Spec(
  w: Float32Array,
  owner: Uint8Array,
  channels: number,
): { values: Float32Array; scales: number[]; groupMax: Float32Array } {
  const per = w.length / channels;
  const values = new Float32Array(w.length);
  const groupMax = new Float32Array(w.length);
  const scales: number[] = [];
  for (let c = 0; c < channels; c++) {
    const idx = Array.from({ length: per }, (_, k) => c * per + k);
    const ids = [...new Set(idx.map((i) => owner[i]!))].filter((t) => t !== 0).sort((a, b) => a - b);
    for (const t of ids) {
      const mine = idx.filter((i) => owner[i] === t);
      const m = Math.max(...mine.map((i) => Math.abs(w[i]!)));
      scales.push(m);
      for (const i of mine) {
        const x = (w[i]! * 127) / m;
        const q = m === 0 ? 0 : Math.sign(x) * Math.round(Math.abs(x)) || 0; // an int8 code has no −0
        values[i] = Math.fround((q * m) / 127);
        groupMax[i] = m;
      }
    }
  }
  return { values, scales, groupMax };
}

test('packOwners/unpackOwners: every width and length round-trips, and bad lengths or padding are problems', () => {
  for (const bits of [1, 2, 4, 8] as OwnerBits[]) {
    for (let n = 0; n <= 19; n++) {
      const tags = Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) % 2 ** bits);
      const packed = packOwners(tags, bits);
      assert.equal(packed.length, Math.ceil((n * bits) / 8), `${n} tags of ${bits} bits`);
      assert.deepEqual(unpackOwners(packed, n, bits), tags);
    }
  }
  // Least significant bits first: tags 1, 2, 3, 0 at 2 bits are 0b00_11_10_01.
  assert.deepEqual([...packOwners(Uint8Array.from([1, 2, 3, 0]), 2)], [0b00111001]);
  assert.throws(() => packOwners(Uint8Array.from([2]), 1), /owner tag 2 does not fit in 1 bit/);
  assert.equal(unpackOwners(new Uint8Array(1), 9, 1), 'has 1 bytes, 9 owner tags of 1 bit(s) need 2');
  assert.equal(unpackOwners(Uint8Array.from([0, 0b10]), 9, 1), 'has nonzero padding bits after its last owner tag');
  assert.deepEqual(unpackOwners(Uint8Array.from([0, 0b1]), 9, 1), Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 1]));
});

test(
  'owner maps round-trip exactly with 1, 3 and 5 tasks, packed to 1, 2 and 4 bits',
  inTemp((dir) => {
    for (const [n, bits] of [
      [1, 1],
      [3, 2],
      [5, 4],
    ] as const) {
      const model = modelWithTasks(n);
      try {
        const path = join(dir, `tasks${n}.pae`);
        saveModel(model, path);
        const { tensors, manifest } = fileOf(path);
        assert.equal(manifest.formatVersion, FORMAT_VERSION);
        assert.deepEqual(manifest.storage, { weights: 'fp32', ownerBits: bits });
        for (const l of model.net.layers) {
          const r = tensors.get(`layer/${l.spec.name}/owner_packed`)!;
          assert.equal(r.dtype, 'U8');
          assert.deepEqual(r.shape, [Math.ceil((l.weight.numel * bits) / 8)], `${l.spec.name}: ${bits} bits a tag`);
          assert.ok(!tensors.has(`layer/${l.spec.name}/owner`), 'no byte owner map');
        }
        const loaded = loadModel(path);
        try {
          assert.equal(Math.max(...loaded.net.layers.flatMap((l) => [...ownersOf(l)])), n, `task ${n} owns weights`);
          loaded.net.layers.forEach((l, i) => {
            assert.deepEqual(ownersOf(l), ownersOf(model.net.layers[i]!), `${l.spec.name} owners`);
            assertSameBytes(rawBytes(l.weight), rawBytes(model.net.layers[i]!.weight), `${l.spec.name} fp32 weights`);
          });
        } finally {
          loaded.dispose();
        }
      } finally {
        model.dispose();
      }
    }
  }),
);

test(
  "fp16 storage: owned weights equal libtorch's fp16 cast of the fp32 weights; owners, BN and heads exact",
  inTemp((dir) => {
    const model = handModel();
    try {
      const path = join(dir, 'half.pae');
      saveModel(model, path, { weights: 'fp16' });
      const { tensors, manifest } = fileOf(path);
      assert.deepEqual(manifest.storage, { weights: 'fp16', ownerBits: 2 });
      for (const l of model.net.layers) assert.equal(tensors.get(`layer/${l.spec.name}/owned_weight`)!.dtype, 'F16');
      const { model: loaded, storage } = readModelFile(path);
      try {
        assert.deepEqual(storage, manifest.storage);
        let changed = 0;
        loaded.net.layers.forEach((l, i) => {
          const src = model.net.layers[i]!;
          const cast = tidy(() => rawBytes(src.weight.detach().to('float16').to('float32')));
          assertSameBytes(rawBytes(l.weight), cast, `${l.spec.name} = fp16(fp32)`);
          assert.deepEqual(ownersOf(l), ownersOf(src));
          const a = weightsOf(l);
          const b = weightsOf(src);
          for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) changed++;
          for (const t of [1, 2])
            for (const f of ['weight', 'bias', 'runningMean', 'runningVar'] as const)
              assertSameBytes(rawBytes(l.norm(t)[f]), rawBytes(src.norm(t)[f]), `task ${t} ${l.spec.name} BN ${f}`);
        });
        assert.ok(changed > 1000, `the cast rounds most weights (${changed} changed): the test can see a missing cast`);
        for (const t of [1, 2])
          assertSameBytes(rawBytes(loaded.net.heads.get(t)!.weight), rawBytes(model.net.heads.get(t)!.weight), `head ${t}`);
      } finally {
        loaded.dispose();
      }
    } finally {
      model.dispose();
    }
  }),
);

test(
  'int8 storage: values are q·m/127 per (channel, task) group, |error| ≤ m/254, scales stored as m',
  inTemp((dir) => {
    const model = handModel();
    try {
      const path = join(dir, 'int8.pae');
      saveModel(model, path, { weights: 'int8' });
      const { tensors, manifest } = fileOf(path);
      assert.deepEqual(manifest.storage, { weights: 'int8', ownerBits: 2 });
      const loaded = loadModel(path);
      try {
        let worst = 0;
        loaded.net.layers.forEach((l, i) => {
          const src = model.net.layers[i]!;
          const w = weightsOf(src);
          const spec = int8Spec(w, ownersOf(src), l.weight.shape[0]!);
          assertSameBytes(rawBytes(l.weight), Buffer.from(spec.values.buffer), `${l.spec.name} = the documented dequantization`);
          assert.deepEqual(
            [...f32(tensors.get(`layer/${l.spec.name}/owned_scale`)!)],
            spec.scales,
            `${l.spec.name} scales are the group maxima`,
          );
          const q = i8(tensors.get(`layer/${l.spec.name}/owned_weight`)!);
          assert.ok(q.every((v) => v >= -127 && v <= 127));
          assert.ok(
            q.some((v) => Math.abs(v) === 127),
            'the largest weight of a group takes the whole range',
          );
          const got = weightsOf(l);
          for (let k = 0; k < w.length; k++) {
            const m = spec.groupMax[k]!;
            // Half a step, plus the one rounding of the result to float32 (≤ half an ulp of m).
            const err = Math.abs(got[k]! - w[k]!);
            assert.ok(err <= m / 254 + m * 2 ** -24, `${l.spec.name}[${k}]: |error| ${err} > m/254 = ${m / 254}`);
            if (m > 0) worst = Math.max(worst, err / m);
          }
          assert.deepEqual(ownersOf(l), ownersOf(src));
        });
        assert.ok(worst > 0.003 && worst <= 1 / 254 + 2 ** -24, `the worst error is close to the bound: ${worst * 254} of m/254`);
      } finally {
        loaded.dispose();
      }
    } finally {
      model.dispose();
    }
  }),
);

test(
  'int8 and fp16 are idempotent: save → load → save gives the same weights and the same data section',
  inTemp((dir) => {
    for (const weights of ['int8', 'fp16'] as const) {
      const first = savedHand(dir, `${weights}-a.pae`, weights);
      const once = loadModel(first);
      const second = join(dir, `${weights}-b.pae`);
      try {
        saveModel(once, second, { weights });
        const twice = loadModel(second);
        try {
          once.net.layers.forEach((l, i) =>
            assertSameBytes(rawBytes(twice.net.layers[i]!.weight), rawBytes(l.weight), `${weights} ${l.spec.name}`),
          );
        } finally {
          twice.dispose();
        }
      } finally {
        once.dispose();
      }
      assert.ok(fileOf(first).data.equals(fileOf(second).data), `${weights}: identical data sections`);
    }
  }),
);

test(
  "a model loaded from int8 that grows a task and is saved as int8 again keeps earlier tasks' weights bit-identical",
  inTemp((dir) => {
    const path = savedHand(dir, 'grow.pae', 'int8');
    const model = loadModel(path);
    const x = randn([3, 3, 16, 16]);
    try {
      const before = model.net.layers.map(weightsOf);
      const outputs = [1, 2].map((t) => outputBytes(model.net, t, x));
      // Task 3 takes the free weights with values of its own (as training would leave them), then prunes half.
      model.net.addTaskSlot(3, 'cumulative', HEAD);
      openFree(model.net, 3);
      let seed = 7;
      for (const l of model.net.layers) {
        editLayer(l, (w, owner) => {
          for (let k = 0; k < w.length; k++) if (owner[k] === 3) w[k] = ((seed = (seed * 48271) % 2147483647) / 2147483647 - 0.5) * 4;
        });
        releaseToRatio(l, 3, 0.5);
      }
      model.tasks.push(handRecord(model.net, 3, 'three', HEAD));
      const grown = join(dir, 'grown.pae');
      saveModel(model, grown, { weights: 'int8' });
      const loaded = loadModel(grown);
      try {
        let third = 0;
        loaded.net.layers.forEach((l, i) => {
          const w = weightsOf(l);
          const owner = ownersOf(l);
          for (let k = 0; k < w.length; k++) {
            if (owner[k] === 1 || owner[k] === 2)
              assert.ok(Object.is(w[k], before[i]![k]), `${l.spec.name}[${k}] of task ${owner[k]} changed: ${before[i]![k]} → ${w[k]}`);
            else if (owner[k] === 3) third++;
          }
        });
        assert.ok(third > 100, 'task 3 owns weights in the grown file');
        [1, 2].forEach((t, i) => assertSameBytes(outputBytes(loaded.net, t, x), outputs[i]!, `task ${t} outputs`));
      } finally {
        loaded.dispose();
      }
    } finally {
      x.dispose();
      model.dispose();
    }
  }),
);

test(
  'a layer with values in free weights stays dense float32 (exact) in fp16 and int8 files',
  inTemp((dir) => {
    const model = handModel();
    try {
      const first = model.net.layers[0]!;
      const freeAt = ownersOf(first).indexOf(0);
      editLayer(first, (w) => void (w[freeAt] = 0.123456789));
      for (const weights of ['fp16', 'int8'] as const) {
        const path = join(dir, `mixed-${weights}.pae`);
        saveModel(model, path, { weights });
        const { tensors } = fileOf(path);
        assert.equal(tensors.get('layer/conv0/weight')?.dtype, 'F32', `${weights}: conv0 dense`);
        assert.ok(!tensors.has('layer/conv0/owned_weight') && !tensors.has('layer/conv0/owned_scale'));
        assert.ok(tensors.has('layer/conv1/owned_weight'), `${weights}: conv1 compact`);
        const loaded = loadModel(path);
        try {
          assertSameBytes(rawBytes(loaded.net.layers[0]!.weight), rawBytes(first.weight), `${weights}: conv0 exact`);
        } finally {
          loaded.dispose();
        }
      }
    } finally {
      model.dispose();
    }
  }),
);

test(
  'a weight beyond the fp16 range (or not finite) is refused, naming the file and layer; int8 stores it',
  inTemp((dir) => {
    const model = handModel();
    try {
      const layer = model.net.layers[1]!;
      const at = ownersOf(layer).indexOf(1);
      editLayer(layer, (w) => void (w[at] = 70000));
      const path = join(dir, 'big.pae');
      assert.throws(
        () => saveModel(model, path, { weights: 'fp16' }),
        (e: Error) => {
          assert.ok(e instanceof PaenetError && e.code === 'PAENET_UNSUPPORTED');
          assert.equal(e.message, `${path}: layer conv1 has weight 70000 at index ${at}, beyond the fp16 range (±65504)`);
          return true;
        },
      );
      assert.ok(!existsSync(path), 'nothing written');
      saveModel(model, path, { weights: 'int8' });
      const loaded = loadModel(path);
      try {
        assert.equal(weightsOf(loaded.net.layers[1]!)[at], 70000, 'the group maximum is stored exactly');
      } finally {
        loaded.dispose();
      }
      editLayer(layer, (w) => void (w[at] = NaN));
      assert.throws(
        () => saveModel(model, join(dir, 'nan.pae'), { weights: 'int8' }),
        /layer conv1 has weight NaN at index \d+, which int8 cannot store/,
      );
      assert.throws(
        () => saveModel(model, join(dir, 'nan.pae'), { weights: 'fp16' }),
        /layer conv1 has weight NaN at index \d+, which fp16 cannot store/,
      );
    } finally {
      model.dispose();
    }
  }),
);

test(
  'malformed owner_packed, owned_weight, owned_scale and storage are rejected, naming the file and tensor',
  inTemp((dir) => {
    const edits: [string, WeightStorage, (t: Map<string, TensorRecord>, m: Manifest) => void, RegExp][] = [
      [
        'short-owner',
        'fp32',
        (t) =>
          void t.set(
            'layer/conv1/owner_packed',
            recordFromTyped(new Uint8Array(t.get('layer/conv1/owner_packed')!.data.subarray(1)), [305]),
          ),
        /tensor layer\/conv1\/owner_packed has 305 bytes, 1224 owner tags of 2 bit\(s\) need 306/,
      ],
      [
        'padding',
        'fp32',
        (t) => {
          const bytes = new Uint8Array(t.get('layer/conv2/owner_packed')!.data);
          bytes[bytes.length - 1]! |= 0xc0; // conv2 has 5355 tags: the last byte holds 3 of them and 2 padding bits
          t.set('layer/conv2/owner_packed', recordFromTyped(bytes, [bytes.length]));
        },
        /tensor layer\/conv2\/owner_packed has nonzero padding bits after its last owner tag/,
      ],
      ['no-owner', 'int8', (t) => void t.delete('layer/conv1/owner_packed'), /missing tensor layer\/conv1\/owner_packed/],
      [
        'wide-owner',
        'fp32',
        (t) => {
          const r = t.get('layer/conv0/owner_packed')!;
          t.set('layer/conv0/owner_packed', recordFromTyped(new Uint16Array(new Uint8Array(r.data).buffer), [r.shape[0]! / 2], 'F16'));
        },
        /tensor layer\/conv0\/owner_packed is F16, expected U8/,
      ],
      [
        'short-scale',
        'int8',
        (t) => {
          const s = f32(t.get('layer/conv2/owned_scale')!);
          t.set('layer/conv2/owned_scale', recordFromTyped(s.subarray(1), [s.length - 1]));
        },
        /tensor layer\/conv2\/owned_scale has \d+ scales, the owner map has \d+ \(channel, task\) groups/,
      ],
      [
        'negative-scale',
        'int8',
        (t) => {
          const s = f32(t.get('layer/conv2/owned_scale')!);
          s[3] = -1;
          t.set('layer/conv2/owned_scale', recordFromTyped(s, [s.length]));
        },
        /tensor layer\/conv2\/owned_scale has scale -1, scales must be finite and not negative/,
      ],
      [
        'nan-scale',
        'int8',
        (t) => {
          const s = f32(t.get('layer/embed/owned_scale')!);
          s[0] = NaN;
          t.set('layer/embed/owned_scale', recordFromTyped(s, [s.length]));
        },
        /tensor layer\/embed\/owned_scale has scale NaN/,
      ],
      ['no-scale', 'int8', (t) => void t.delete('layer/conv2/owned_scale'), /missing tensor layer\/conv2\/owned_scale/],
      [
        'code-128',
        'int8',
        (t) => {
          const q = i8(t.get('layer/conv2/owned_weight')!);
          q[5] = -128;
          t.set('layer/conv2/owned_weight', recordFromTyped(q, [q.length]));
        },
        /tensor layer\/conv2\/owned_weight has code -128 at 5/,
      ],
      [
        'short-codes',
        'int8',
        (t) => {
          const q = i8(t.get('layer/conv2/owned_weight')!);
          t.set('layer/conv2/owned_weight', recordFromTyped(q.subarray(1), [q.length - 1]));
        },
        /tensor layer\/conv2\/owned_weight has \d+ codes, its owner map tags \d+ owned weights/,
      ],
      [
        'f32-in-int8',
        'int8',
        (t) => {
          const n = t.get('layer/conv2/owned_weight')!.shape[0]!;
          t.set('layer/conv2/owned_weight', recordFromTyped(new Float32Array(n), [n]));
        },
        /tensor layer\/conv2\/owned_weight is F32, expected I8/,
      ],
      [
        'short-halves',
        'fp16',
        (t) => {
          const r = t.get('layer/conv1/owned_weight')!;
          t.set('layer/conv1/owned_weight', { ...r, shape: [r.shape[0]! - 1], data: r.data.subarray(2) });
        },
        /tensor layer\/conv1\/owned_weight has \d+ owned weights, its owner map tags \d+/,
      ],
      [
        'stray-scale',
        'fp16',
        (t) => void t.set('layer/conv0/owned_scale', recordFromTyped(new Float32Array(2), [2])),
        /unexpected tensor layer\/conv0\/owned_scale/,
      ],
      [
        'bits-3',
        'fp32',
        (_, m) => void ((m.storage as { ownerBits: number }).ownerBits = 3),
        /manifest storage.ownerBits is 3, expected one of 1, 2, 4, 8/,
      ],
      [
        'int4',
        'fp32',
        (_, m) => void ((m.storage as { weights: string }).weights = 'int4'),
        /manifest storage.weights is "int4", expected one of fp32, fp16, int8/,
      ],
      ['no-storage', 'fp32', (_, m) => void delete (m as Partial<Manifest>).storage, /manifest has no storage record/],
      [
        'bits-4',
        'fp32',
        (_, m) => void (m.storage!.ownerBits = 4),
        /tensor layer\/conv0\/owner_packed has 54 bytes, 216 owner tags of 4 bit\(s\) need 108/,
      ],
    ];
    for (const [name, weights, edit, problem] of edits) {
      const path = savedHand(dir, `${name}.pae`, weights);
      rewriteSigned(path, edit);
      assertRejected(path, problem);
    }
    // Control: the same rewrite without an edit loads (the rewriting itself is sound).
    const same = savedHand(dir, 'same.pae', 'int8');
    rewriteSigned(same, () => {});
    loadModel(same).dispose();
    // A packed tag naming a task the manifest lacks: four tags of task 1/2 set to 3 (the owned count is unchanged).
    const ghost = savedHand(dir, 'ghost.pae');
    rewriteSigned(ghost, (t) => {
      const bytes = new Uint8Array(t.get('layer/conv2/owner_packed')!.data);
      const at = bytes.findIndex((b) => [0, 2, 4, 6].every((s) => ((b >> s) & 3) !== 0));
      assert.ok(at >= 0, 'a byte of four owned tags');
      bytes[at] = 0xff;
      t.set('layer/conv2/owner_packed', recordFromTyped(bytes, [bytes.length]));
    });
    assertRejected(ghost, /owner map names task 3, but the manifest lists tasks 1, 2/);
  }),
);

test(
  'the checksum covers the packed owners and the int8 codes and scales; a truncated int8 file is rejected',
  inTemp((dir) => {
    const path = savedHand(dir, 'sum.pae', 'int8');
    const original = readFileSync(path);
    const { tensors } = decodeSafetensors(original, path);
    for (const name of ['layer/conv1/owner_packed', 'layer/conv2/owned_weight', 'layer/embed/owned_scale']) {
      const r = tensors.get(name)!;
      const at = r.data.byteOffset - original.byteOffset + Math.floor(r.data.byteLength / 2);
      const bytes = Buffer.from(original);
      bytes[at]! ^= 0x01;
      writeFileSync(path, bytes);
      assertRejected(path, /tensor data does not match the checksum/);
    }
    writeFileSync(path, original);
    loadModel(path).dispose();
    truncateSync(path, original.length - 3);
    assertRejected(path, /truncated data section/);
  }),
);

test(
  'a version 2 file (byte owner maps, fp32 owned weights, no storage record) still loads, to the same model',
  inTemp((dir) => {
    const model = handModel();
    const x = randn([2, 3, 16, 16]);
    try {
      const path = join(dir, 'v2.pae');
      saveModel(model, path);
      rewriteSigned(path, (t, m) => {
        for (const l of model.net.layers) {
          t.delete(`layer/${l.spec.name}/owner_packed`);
          t.set(`layer/${l.spec.name}/owner`, recordFromTyped(ownersOf(l), l.weight.shape));
        }
        delete (m as Partial<Manifest>).storage;
        m.formatVersion = 2;
      });
      const { tensors, manifest } = fileOf(path);
      assert.equal(manifest.formatVersion, 2);
      assert.equal(tensors.get('layer/conv1/owned_weight')!.dtype, 'F32', 'owned-only layers, as version 2 wrote them');
      const { model: loaded, storage } = readModelFile(path);
      try {
        assert.deepEqual(storage, LEGACY_STORAGE);
        loaded.net.layers.forEach((l, i) => {
          assertSameBytes(rawBytes(l.weight), rawBytes(model.net.layers[i]!.weight), `${l.spec.name} weights`);
          assert.deepEqual(ownersOf(l), ownersOf(model.net.layers[i]!));
        });
        for (const t of [1, 2]) assertSameBytes(outputBytes(loaded.net, t, x), outputBytes(model.net, t, x), `task ${t} outputs`);
      } finally {
        loaded.dispose();
      }
      // A version 2 file holds no packed owners: one there is an unexpected tensor, not silently ignored.
      rewriteSigned(path, (t) => void t.set('layer/conv0/owner_packed', recordFromTyped(new Uint8Array(54), [54])));
      assertRejected(path, /unexpected tensor layer\/conv0\/owner_packed/);
    } finally {
      x.dispose();
      model.dispose();
    }
  }),
);

test('paenet compact rewrites a model with fp16 or int8 weights and prints old size → new size', async (t) => {
  const { dir, cleanup } = tempDir();
  try {
    const path = savedHand(dir, 'full.pae');
    const sizes: Record<string, number> = { fp32: readFileSync(path).length };
    for (const weights of ['fp16', 'int8'] as const) {
      const out = join(dir, `${weights}.pae`);
      const lines: string[] = [];
      const log = console.log;
      console.log = (line: string) => void lines.push(line);
      try {
        await buildProgram()
          .exitOverride()
          .parseAsync(['node', 'paenet', '--threads', '1', 'compact', path, '-o', out, '--weights', weights]);
      } finally {
        console.log = log;
      }
      sizes[weights] = readFileSync(out).length;
      assert.equal(lines.length, 1);
      assert.match(
        lines[0]!,
        new RegExp(`fp32 weights, 2-bit owner tags\\): .* MB → .*${weights}\\.pae \\(${weights} weights, 2-bit owner tags\\): .* MB`),
      );
      assert.equal(fileOf(out).manifest.storage?.weights, weights);
    }
    assert.ok(sizes.fp16! < sizes.fp32! && sizes.int8! < sizes.fp16!, `sizes shrink: ${JSON.stringify(sizes)}`);
    t.diagnostic(`hand model file bytes: ${JSON.stringify(sizes)}`);
    await assert.rejects(
      buildProgram()
        .exitOverride()
        .parseAsync(['node', 'paenet', '--threads', '1', 'compact', path, '-o', join(dir, 'x.pae'), '--weights', 'int4']),
      /--weights must be one of fp32, fp16, int8, got 'int4'/,
    );
  } finally {
    cleanup();
  }
});
