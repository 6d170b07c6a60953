// The *.pae file: a faithful round trip, and every truncated, tampered, missing or foreign file is rejected with one
// line naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { liveTensors, noGrad, randn, scalar, tensor, tidy, type Tensor } from '../../src/engine/index.ts';
import { decodeSafetensors, encodeSafetensors, recordFromTyped, writeSafetensors, type TensorRecord } from '../../src/io/safetensors.ts';
import type { PaeModel } from '../../src/pae/model.ts';
import { loadModel, modelChecksum, saveModel, FORMAT_VERSION, type Manifest } from '../../src/pae/model-file.ts';
import { assertSameBytes, handModel, outputBytes, ownersOf, rawBytes, tempDir, weightsOf } from './helpers.ts';

/** Saves the hand model to `dir/name` and returns the path. */
function savedModel(dir: string, name: string): string {
  const model = handModel();
  try {
    const path = join(dir, name);
    saveModel(model, path);
    return path;
  } finally {
    model.dispose();
  }
}

/** Asserts loadModel(path) throws one line that starts with the path and matches `problem`; and leaks no tensors. */
function assertRejected(path: string, problem: RegExp): void {
  const live = liveTensors();
  assert.throws(
    () => loadModel(path),
    (e: Error) => {
      assert.ok(e.message.startsWith(`${path}: `), `names the file: ${e.message}`);
      assert.ok(!e.message.includes('\n'), `one line: ${JSON.stringify(e.message)}`);
      assert.match(e.message, problem);
      return true;
    },
  );
  assert.equal(liveTensors(), live, 'a rejected file leaves no tensors behind');
}

/** Rewrites a model file after `edit` changed its tensors or manifest; `sign` recomputes the checksum as a writer of a genuine file would. */
function rewriteFile(path: string, edit: (tensors: Map<string, TensorRecord>, m: Manifest) => void, sign = true): void {
  const { tensors, metadata } = decodeSafetensors(readFileSync(path), path);
  const manifest = JSON.parse(metadata.paenet!) as Manifest;
  edit(tensors, manifest);
  const json = JSON.stringify(manifest);
  const data = encodeSafetensors(tensors, { paenet: json }).slice(1);
  const checksum = sign ? modelChecksum(json, data) : metadata['paenet.sha256']!;
  writeFileSync(path, Buffer.concat(encodeSafetensors(tensors, { ...metadata, paenet: json, 'paenet.sha256': checksum })));
}

/** Edits the manifest only. */
function rewriteManifest(path: string, edit: (m: Manifest) => void, sign = true): void {
  rewriteFile(path, (_, m) => edit(m), sign);
}

/** Runs `body` with the hand model, a probe batch and a temp dir; frees them all and checks no tensor leaked. */
function withHandModel(body: (model: PaeModel, x: Tensor, dir: string) => void): void {
  const baseline = liveTensors();
  const { dir, cleanup } = tempDir();
  const model = handModel();
  const x = randn([5, 3, 16, 16]);
  try {
    body(model, x, dir);
  } finally {
    x.dispose();
    model.dispose();
    cleanup();
  }
  assert.equal(liveTensors(), baseline);
}

/** Loads `path`, asserts every task's outputs equal `model`'s bit for bit, then runs `more` on the loaded model. */
function assertLoadsAs(path: string, model: PaeModel, x: Tensor, more: (loaded: PaeModel) => void = () => {}): void {
  const loaded = loadModel(path);
  try {
    for (const t of model.tasks.map((r) => r.id))
      assertSameBytes(outputBytes(loaded.net, t, x), outputBytes(model.net, t, x), `task ${t} outputs`);
    loaded.net.layers.forEach((l, i) => {
      assertSameBytes(rawBytes(l.weight), rawBytes(model.net.layers[i]!.weight), `${l.spec.name} weights`);
      assert.deepEqual(ownersOf(l), ownersOf(model.net.layers[i]!));
    });
    more(loaded);
  } finally {
    loaded.dispose();
  }
}

test('save → load gives the same tensors, manifest and outputs for every task', () =>
  withHandModel((model, x, dir) => {
    const path = join(dir, 'm.pae');
    saveModel(model, path);
    assertLoadsAs(path, model, x, (loaded) => {
      assert.deepEqual(loaded.config, model.config);
      assert.deepEqual(loaded.tasks, model.tasks);
      assert.deepEqual(loaded.provenance, model.provenance);
      for (const t of [1, 2]) {
        assert.deepEqual(loaded.net.slot(t), model.net.slot(t));
        loaded.net.layers.forEach((l, i) => {
          const n = l.norm(t);
          const m = model.net.layers[i]!.norm(t);
          for (const k of ['weight', 'bias', 'runningMean', 'runningVar'] as const)
            assertSameBytes(rawBytes(n[k]), rawBytes(m[k]), `task ${t} ${l.spec.name} BN ${k}`);
        });
      }
    });
    const manifest = JSON.parse(decodeSafetensors(readFileSync(path)).metadata.paenet!) as Manifest;
    assert.equal(manifest.format, 'paenet');
    assert.equal(manifest.formatVersion, FORMAT_VERSION);
  }));

test('a truncated model file is rejected', () => {
  const { dir, cleanup } = tempDir();
  try {
    const full = readFileSync(savedModel(dir, 'full.pae')).byteLength;
    const headerEnd = 8 + Number(readFileSync(join(dir, 'full.pae')).readBigUInt64LE(0));
    for (const [name, length, problem] of [
      ['tail.pae', full - 1, /truncated data section/],
      ['half.pae', Math.floor((headerEnd + full) / 2), /truncated data section/],
      ['header.pae', headerEnd - 100, /truncated safetensors header/],
      ['stub.pae', 5, /too short/],
      ['empty.pae', 0, /too short/],
    ] as const) {
      const path = savedModel(dir, name);
      truncateSync(path, length);
      assertRejected(path, problem);
    }
  } finally {
    cleanup();
  }
});

test('one flipped byte anywhere in the tensor data fails the checksum', () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = savedModel(dir, 'flip.pae');
    const original = readFileSync(path);
    const dataStart = 8 + Number(original.readBigUInt64LE(0));
    for (const at of [dataStart, Math.floor((dataStart + original.length) / 2), original.length - 1]) {
      const bytes = Buffer.from(original);
      bytes[at] = bytes[at]! ^ 0x01;
      writeFileSync(path, bytes);
      assertRejected(path, /tensor data does not match the checksum/);
    }
    writeFileSync(path, original);
    loadModel(path).dispose();
  } finally {
    cleanup();
  }
});

test('a manifest with another formatVersion is rejected', () => {
  const { dir, cleanup } = tempDir();
  try {
    for (const version of [FORMAT_VERSION + 1, 0]) {
      const path = savedModel(dir, `v${version}.pae`);
      rewriteManifest(path, (m) => void (m.formatVersion = version));
      assertRejected(path, new RegExp(`model format version ${version} is not supported`));
    }
    // Control: rewriting the manifest unchanged still loads (the rewrite itself is sound).
    const path = savedModel(dir, 'same.pae');
    rewriteManifest(path, () => {});
    loadModel(path).dispose();
    // An edited manifest that was not re-signed (a label renamed by hand) is caught by the checksum.
    const edited = savedModel(dir, 'edited.pae');
    rewriteManifest(edited, (m) => void (m.tasks[0]!.labels = m.tasks[0]!.labels.map((l) => `${l}!`)), false);
    assertRejected(edited, /does not match the checksum/);
  } finally {
    cleanup();
  }
});

test('a manifest that does not match the tensors is rejected', () => {
  const { dir, cleanup } = tempDir();
  try {
    const dropped = savedModel(dir, 'dropped.pae');
    rewriteManifest(dropped, (m) => void m.tasks.pop());
    assertRejected(dropped, /owner map names task 2, but the manifest lists tasks 1/);
    const narrow = savedModel(dir, 'narrow.pae');
    rewriteManifest(narrow, (m) => void (m.backbone.expansions = []));
    assertRejected(narrow, /task two has width level 1 beyond the backbone's 0/);
    // A reshaped owner map (same bytes, so the checksum still matches) is caught by the shape check.
    const reshaped = savedModel(dir, 'reshaped.pae');
    const { tensors, metadata } = decodeSafetensors(readFileSync(reshaped), reshaped);
    tensors.set('layer/conv1/owner_packed', { ...tensors.get('layer/conv1/owner_packed')!, shape: [2, 153] });
    writeFileSync(reshaped, Buffer.concat(encodeSafetensors(tensors, metadata)));
    assertRejected(reshaped, /tensor layer\/conv1\/owner_packed has shape \[2,153\], expected a 1-d tensor/);
    // A dense weight of the wrong shape (a file edited and re-signed) is caught the same way.
    const dense = savedModel(dir, 'dense.pae');
    rewriteFile(dense, (t) => {
      t.delete('layer/conv1/owned_weight');
      t.set('layer/conv1/weight', recordFromTyped(new Float32Array(1224), [17, 72]));
    });
    assertRejected(dense, /tensor layer\/conv1\/weight has shape \[17,72\], expected \[17,8,3,3\]/);
    const arch = savedModel(dir, 'arch.pae');
    rewriteManifest(arch, (m) => void ((m.backbone as { arch: string }).arch = 'vgg'));
    assertRejected(arch, /invalid backbone config \(unknown arch vgg\)/);
  } finally {
    cleanup();
  }
});

test('a missing file and a safetensors file that is not a paenet model are rejected', async () => {
  const { dir, cleanup } = tempDir();
  try {
    assertRejected(join(dir, 'nowhere.pae'), /no such model file/);
    const foreign = join(dir, 'foreign.safetensors');
    await writeSafetensors(foreign, { w: recordFromTyped(new Float32Array([1, 2, 3]), [3]) }, { format: 'pt' });
    assertRejected(foreign, /not a paenet model/);
    const text = join(dir, 'text.pae');
    writeFileSync(text, 'hello, this is not a model file at all');
    assertRejected(text, /safetensors header/);
  } finally {
    cleanup();
  }
});

test('owned-only layers and a layer with values in its free weights (stored densely) both round-trip exactly', () =>
  withHandModel((model, x, dir) => {
    // A free weight holding a value (a layer caught mid-task) must not be dropped by the compact layout.
    const first = model.net.layers[0]!;
    const freeAt = ownersOf(first).indexOf(0);
    assert.ok(freeAt >= 0, 'the first layer has a free weight');
    const at = [tensor([freeAt], [1], { dtype: 'int64' })];
    noGrad(() => tidy(() => void first.weight.detach().view([-1]).indexPut_(at, scalar(0.5))));
    at[0]!.dispose();
    const path = join(dir, 'mixed.pae');
    saveModel(model, path);
    const names = [...decodeSafetensors(readFileSync(path), path).tensors.keys()];
    assert.ok(names.includes(`layer/${first.spec.name}/weight`), 'the first layer is stored densely');
    assert.ok(!names.includes(`layer/${first.spec.name}/owned_weight`));
    for (const l of model.net.layers.slice(1)) {
      assert.ok(names.includes(`layer/${l.spec.name}/owned_weight`), `${l.spec.name} stored owned-only`);
      assert.ok(!names.includes(`layer/${l.spec.name}/weight`));
    }
    assertLoadsAs(path, model, x, (loaded) =>
      assert.equal(weightsOf(loaded.net.layers[0]!)[freeAt], 0.5, 'the free weight kept its value'),
    );
  }));

test('a version 1 file (every layer dense) still loads, to the same model', () =>
  withHandModel((model, x, dir) => {
    const path = join(dir, 'v1.pae');
    saveModel(model, path);
    // Rewritten as version 1 wrote it: dense `weight` tensors, free weights stored as their zeros, a byte per owner
    // tag, no storage record.
    rewriteFile(path, (tensors, m) => {
      for (const l of model.net.layers) {
        tensors.delete(`layer/${l.spec.name}/owned_weight`);
        tensors.delete(`layer/${l.spec.name}/owner_packed`);
        tensors.set(`layer/${l.spec.name}/weight`, recordFromTyped(weightsOf(l), l.weight.shape));
        tensors.set(`layer/${l.spec.name}/owner`, recordFromTyped(ownersOf(l), l.weight.shape));
      }
      delete (m as Partial<Manifest>).storage;
      m.formatVersion = 1;
    });
    assertLoadsAs(path, model, x);
  }));

test('owned weights that do not match the owner map are rejected', () => {
  const { dir, cleanup } = tempDir();
  try {
    for (const [name, edit, problem] of [
      ['short.pae', (n: number) => n - 1, /tensor layer\/conv2\/owned_weight has 3828 owned weights, its owner map tags 3829/],
      ['long.pae', (n: number) => n + 1, /tensor layer\/conv2\/owned_weight has 3830 owned weights, its owner map tags 3829/],
    ] as const) {
      const path = savedModel(dir, name);
      rewriteFile(path, (tensors) => {
        const r = tensors.get('layer/conv2/owned_weight')!;
        const values = new Float32Array(edit(r.shape[0]!));
        values.set(new Float32Array(new Uint8Array(r.data).buffer).subarray(0, values.length));
        tensors.set('layer/conv2/owned_weight', recordFromTyped(values, [values.length]));
      });
      assertRejected(path, problem);
    }
  } finally {
    cleanup();
  }
});
