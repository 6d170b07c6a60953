// ONNX export parity: every task's graph (masked weights baked in, BN folded) run by onnxruntime-node gives the
// libtorch forward's outputs within 1e-4, on every backbone family, after pruning and expansion.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { manualSeed, noGrad, randn, tidy } from '../../src/engine/index.ts';
import { expand, openFree, PackableNet, PaeModel, releaseToRatio, saveModel, type HeadSpec } from '../../src/pae/index.ts';
import { exportOnnx } from '../../src/serve/onnx/export-model.ts';
import { onnxParity } from '../../src/serve/onnx/parity.ts';
import { faceApiPackageDir, importFaceApiRecognition } from '../../src/tasks/index.ts';
import { handModel } from './models.ts';
import { handRecord, PROVENANCE } from '../pae/helpers.ts';
import { mobileArch, mobileConfig } from '../pae/mobile-arch.ts';
import { assertOneLineError, paenet, paenetJson, tempDir } from '../cli/helpers.ts';

async function assertParity(model: PaeModel, what: string): Promise<void> {
  const { bytes, outputs } = exportOnnx(model);
  assert.deepEqual(
    outputs.map((o) => o.name),
    model.tasks.map((t) => t.name),
  );
  const diffs = await onnxParity(
    model,
    bytes,
    outputs.map((o) => o.name),
  );
  for (const [task, worst] of Object.entries(diffs)) {
    console.log(`# ${what} ${task}: max |onnx − libtorch| = ${worst.toExponential(2)}`);
    assert.ok(worst <= 1e-4, `${what} ${task}: ${worst}`);
  }
  // The check itself can fail: once the model moves (one BN shift of its last task), the old graph no longer matches.
  const last = model.tasks.at(-1)!;
  const bias = model.net.layers.at(-1)!.norm(last.id).bias;
  noGrad(() => bias.add_(0.5));
  try {
    const moved = await onnxParity(model, bytes, [last.name]);
    assert.ok(moved[last.name]! > 1e-3, `${what}: a changed model must fail the check (${moved[last.name]})`);
  } finally {
    noGrad(() => bias.sub_(0.5));
  }
}

test('tiny backbone: linear and cosine heads, an embedding, across an expansion', async () => {
  const model = handModel('tiny', [
    { kind: 'linear', classes: 4 },
    { kind: 'cosface', classes: 5 },
    { kind: 'linear', classes: 0, dropped: true },
  ]);
  try {
    await assertParity(model, 'tiny');
  } finally {
    model.dispose();
  }
});

test('resnet backbone (strided blocks with 1×1 shortcuts)', async () => {
  const model = handModel('resnet10', [
    { kind: 'linear', classes: 3 },
    { kind: 'arcface', classes: 4 },
  ]);
  try {
    await assertParity(model, 'resnet10');
  } finally {
    model.dispose();
  }
});

test("dlib ResNet: face-api's imported net (input transform, padded down blocks) and a task packed after it", async () => {
  const base = importFaceApiRecognition(faceApiPackageDir(), 'identity', PROVENANCE).model;
  for (const l of base.net.layers) releaseToRatio(l, 1, 0.5);
  const model = handModel('dlib-resnet', [{ kind: 'linear', classes: 2 }], base);
  try {
    await assertParity(model, 'dlib');
    const one = exportOnnx(model, { tasks: ['task2'] });
    assert.ok(one.bytes.length < exportOnnx(model).bytes.length, 'a one-task export carries only that task');
    assert.deepEqual(
      one.outputs.map((o) => o.name),
      ['task2'],
    );
  } finally {
    model.dispose();
  }
});

test('a MobileNet-style family (depthwise convs, uneven padding, ReLU6 as a clamp) exports too, across an expansion', async () => {
  manualSeed(9);
  const net = PackableNet.create(mobileConfig(), mobileArch);
  const x = randn([4, 3, 16, 16]);
  const heads: HeadSpec[] = [
    { kind: 'linear', classes: 3 },
    { kind: 'linear', classes: 0, dropped: true },
  ];
  heads.forEach((head, k) => {
    if (k > 0) expand(net, 1.5);
    net.addTaskSlot(k + 1, 'cumulative', head);
    openFree(net, k + 1);
    for (const l of net.layers) releaseToRatio(l, k + 1, 0.5);
    net.training = true;
    for (let i = 0; i < 3; i++) noGrad(() => tidy(() => void net.embed(x, k + 1)));
    net.training = false;
  });
  x.dispose();
  // A steep stem BN for task 1, so its activations pass ReLU6's upper bound (where a lost clamp would show).
  noGrad(() => net.layer('stem').norm(1).weight.mul_(10));
  const records = heads.map((h, k) => handRecord(net, k + 1, `task${k + 1}`, h));
  const model = new PaeModel(net, [records[0]!, { ...records[1]!, kind: 'identity', labels: [] }], PROVENANCE);
  try {
    await assertParity(model, 'mobile');
  } finally {
    model.dispose();
  }
});

test('paenet export: every task or the ones named, checked and written atomically; bad requests in one line', () => {
  const dir = tempDir('export');
  const model = handModel('tiny', [
    { kind: 'linear', classes: 4 },
    { kind: 'linear', classes: 0, dropped: true },
  ]);
  try {
    const file = join(dir, 'm.pae');
    saveModel(model, file);
    const out = join(dir, 'all.onnx');
    const all = paenetJson<{ bytes: number; outputs: { name: string; shape: (number | string)[] }[]; maxAbsDiff: Record<string, number> }>(
      'export',
      file,
      out,
      '--json',
    );
    assert.equal(statSync(out).size, all.bytes);
    assert.deepEqual(all.outputs, [
      { name: 'task1', shape: ['batch', 4] },
      { name: 'task2', shape: ['batch', model.config.embedDim] },
    ]);
    for (const d of Object.values(all.maxAbsDiff)) assert.ok(d <= 1e-4);
    const one = paenetJson<{ bytes: number; outputs: { name: string }[] }>(
      'export',
      file,
      join(dir, 'one.onnx'),
      '--task',
      'task1',
      '--json',
    );
    assert.deepEqual(
      one.outputs.map((x) => x.name),
      ['task1'],
    );
    assert.ok(one.bytes < all.bytes);
    assertOneLineError(paenet('export', file, join(dir, 'x.onnx'), '--task', 'nope'), file, /no task named 'nope'/);
    assertOneLineError(paenet('export', file, join(dir, 'x.onnx'), '--format', 'tflite'), '--format', /onnx/);
    assert.ok(readFileSync(out).length > 0);
  } finally {
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
