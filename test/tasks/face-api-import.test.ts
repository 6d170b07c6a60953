// Importing face-api's pretrained recognition net: bit-exact weights, descriptor parity with the package's own tfjs
// inference on real face crops, equal verification accuracy, clear errors for bad weight files.
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { keep, manualSeed, noGrad, randn, tidy } from '../../src/engine/index.ts';
import { evaluateVerification, rowCosineDistance } from '../../src/metrics/verification.ts';
import { readTfjsWeights } from '../../src/io/tfjs-weights.ts';
import { loadModel, saveModel, type PaeModel } from '../../src/pae/index.ts';
import {
  affineAsNorm,
  embedImages,
  FACE_API_LAYERS,
  FACE_API_RECOGNITION,
  faceApiPackageDir,
  hwioToOihw,
  importFaceApiRecognition,
  loadImageSet,
  loadPairSet,
  type ImageSet,
} from '../../src/tasks/index.ts';
import { DATA, needData, tempDir } from '../data/fixtures.ts';
import { faceApiRecognizer, type FaceApiRecognizer } from '../support/face-api-reference.ts';

const PROVENANCE = { paenetVersion: 'test', torchVersion: 'test', created: '2026-01-01T00:00:00Z' };

function bytesOf(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** face-api's own descriptor input: the same 150×150 RGB pixels, as float 0..255 HWC. */
function hwcCrops(set: ImageSet): Float32Array[] {
  const n = set.labels.length;
  const per = set.size * set.size * 3;
  return Array.from({ length: n }, (_, i) => Float32Array.from(set.pixels.subarray(i * per, (i + 1) * per)));
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

describe('face-api recognition import', () => {
  let model: PaeModel;
  let reference: FaceApiRecognizer;
  const dir = faceApiPackageDir();
  const weights = readTfjsWeights(join(dir, FACE_API_RECOGNITION.manifest));

  before(async () => {
    model = importFaceApiRecognition(dir, 'identity', PROVENANCE).model;
    reference = await faceApiRecognizer();
  });
  after(() => {
    model.dispose();
    reference.dispose();
  });

  test('every weight lands bit-exact in its layer, owned by task 1; affine layers become task 1 BN', () => {
    const net = model.net;
    let checked = 0;
    for (const [src, dst] of FACE_API_LAYERS) {
      for (const [suffix, layer] of dst === 'stem'
        ? [['', 'stem']]
        : [
            ['/conv1', `${dst}.conv1`],
            ['/conv2', `${dst}.conv2`],
          ]) {
        const l = net.layer(layer!);
        const want = hwioToOihw(weights.get(`${src}${suffix}/conv/filters`)!);
        assert.deepEqual(l.weight.shape, want.shape, layer);
        assert.ok(bytesOf(l.weight.data() as Float32Array).equals(bytesOf(want.data)), `${layer} weights differ`);
        const { gamma, beta } = affineAsNorm({
          bias: weights.get(`${src}${suffix}/conv/bias`)!,
          scaleWeights: weights.get(`${src}${suffix}/scale/weights`)!,
          scaleBiases: weights.get(`${src}${suffix}/scale/biases`)!,
        });
        assert.ok(bytesOf(l.norm(1).weight.data() as Float32Array).equals(bytesOf(gamma)), `${layer} scale differs`);
        assert.ok(bytesOf(l.norm(1).bias.data() as Float32Array).equals(bytesOf(beta)), `${layer} shift differs`);
        assert.equal(
          tidy(() => l.owner.eq(1).all().item()),
          1,
          `${layer} has weights not owned by task 1`,
        );
        checked++;
      }
    }
    assert.equal(checked, 29);
    // The descriptor layer: tfjs x·fc with fc [256, 128] is a linear layer [128, 256].
    const fc = weights.get('fc')!;
    const embed = net.layer('embed').weight.data() as Float32Array;
    for (let o = 0; o < 128; o++) for (let i = 0; i < 256; i++) assert.equal(embed[o * 256 + i], fc.data[i * 128 + o]);
  });

  test('the model file keeps the weights bit-exact, the provenance and the licence', () => {
    const path = join(tempDir('paenet-import-'), 'face.pae');
    saveModel(model, path);
    const again = loadModel(path);
    try {
      for (const l of model.net.layers) {
        const m = again.net.layer(l.spec.name);
        assert.ok(bytesOf(m.weight.data() as Float32Array).equals(bytesOf(l.weight.data() as Float32Array)), l.spec.name);
      }
      const t = again.task('identity');
      assert.equal(t.kind, 'identity');
      assert.equal(t.frozenNorm, true);
      assert.deepEqual(t.input, model.tasks[0]!.input);
      const pretrained = t.extra.pretrained as { package: string; license: string; version: string; sha256: string };
      assert.equal(pretrained.package, '@vladmandic/face-api');
      assert.equal(pretrained.license, 'MIT');
      assert.match(pretrained.sha256, /^[0-9a-f]{64}$/);
      assert.equal(again.net.slot(1).frozenNorm, true);
    } finally {
      again.dispose();
    }
  });

  test('descriptors match face-api’s own tfjs inference within 1e-3 cosine on 24 real face crops', async () => {
    needData('celeba-identity');
    const set = await loadImageSet(join(DATA, 'celeba-identity/manifest.csv'), { label: 'label', split: 'train', size: 150, limit: 24 });
    assert.equal(set.labels.length, 24);
    const ours = embedImages(model.net, 1, set, false);
    const theirs = await reference.descriptors(hwcCrops(set));
    assert.equal(reference.backend, 'wasm');
    let worst = 1;
    for (let i = 0; i < 24; i++) worst = Math.min(worst, cosine(ours.subarray(i * 128, (i + 1) * 128), theirs[i]!));
    console.log(`# worst descriptor cosine vs face-api (tfjs wasm) over 24 crops: ${worst.toFixed(7)}`);
    assert.ok(worst >= 1 - 1e-3, `worst cosine ${worst}`);
  });

  test('verification accuracy on a shared pairs file equals face-api’s own descriptors’ under the same protocol', async () => {
    needData('orl-faces');
    const pairs = await loadPairSet(join(DATA, 'orl-faces/pairs.txt'), 150);
    const ours = embedImages(model.net, 1, pairs.images, false);
    const theirs = await reference.descriptors(hwcCrops(pairs.images));
    const flat = new Float32Array(theirs.length * 128);
    // face-api's descriptors are not unit length; the protocol compares directions (cosine), so normalise them.
    theirs.forEach((d, i) =>
      flat.set(
        d.map((v) => v / Math.hypot(...d)),
        i * 128,
      ),
    );
    const folds = Int32Array.from(pairs.pairs.pairs, (p) => p.fold);
    const same = pairs.pairs.pairs.map((p) => p.same);
    const accuracy = (m: Float32Array): number =>
      evaluateVerification(
        Float64Array.from(pairs.a, (a, k) => rowCosineDistance(m, 128, a, pairs.b[k]!)),
        same,
        folds,
      ).summary.mean;
    const a = accuracy(ours);
    const b = accuracy(flat);
    console.log(`# orl-faces verification: paenet ${a.toFixed(4)}, face-api ${b.toFixed(4)} (${same.length} pairs)`);
    assert.ok(Math.abs(a - b) <= 1 / same.length + 1e-9, `paenet ${a} vs face-api ${b}`);
    assert.ok(a > 0.7, `a pretrained face net verifies ORL faces (unaligned, grey) well above chance (${a})`);
  });

  test('the imported task computes the same in training mode: its BN statistics are frozen', () => {
    manualSeed(1);
    const x = keep(randn([2, 3, 150, 150]));
    const run = (training: boolean): Buffer => {
      model.net.training = training;
      try {
        return noGrad(() => tidy(() => Buffer.from(bytesOf(model.net.embed(x, 1).data() as Float32Array))));
      } finally {
        model.net.training = false;
      }
    };
    try {
      assert.ok(run(true).equals(run(false)));
    } finally {
      x.dispose();
    }
  });
});

describe('face-api import errors', () => {
  const dir = faceApiPackageDir();

  test('a folder without the weights manifest: one line naming it', () => {
    const empty = tempDir('paenet-noapi-');
    assert.throws(
      () => faceApiPackageDir(empty),
      (e: Error) => e.message.startsWith(join(empty, FACE_API_RECOGNITION.manifest)) && !e.message.includes('\n'),
    );
  });

  test('a malformed manifest or a short shard: one line naming the file', () => {
    const copy = tempDir('paenet-badapi-');
    mkdirSync(join(copy, 'model'));
    copyFileSync(join(dir, 'package.json'), join(copy, 'package.json'));
    const manifest = join(copy, FACE_API_RECOGNITION.manifest);
    writeFileSync(manifest, '{"not": "a manifest"');
    assert.throws(
      () => importFaceApiRecognition(copy, 'identity', PROVENANCE),
      (e: Error) => e.message.startsWith(manifest) && !e.message.includes('\n'),
    );
    cpSync(join(dir, 'model'), join(copy, 'model'), { recursive: true });
    const shard = join(copy, 'model/face_recognition_model.bin');
    writeFileSync(shard, readFileSync(shard).subarray(0, 1000));
    assert.throws(
      () => importFaceApiRecognition(copy, 'identity', PROVENANCE),
      (e: Error) => /face_recognition_model/.test(e.message) && /bytes/.test(e.message) && !e.message.includes('\n'),
    );
  });
});
