// ONNX export parity: every task's graph (masked weights baked in, BN folded) run by onnxruntime-node gives the
// libtorch forward's outputs within 1e-4, on every backbone family, after pruning and expansion; tasks at different
// input sizes each read their own graph input.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { noGrad } from '../../src/engine/index.ts';
import { PaeModel, releaseToRatio, saveModel } from '../../src/pae/index.ts';
import * as ort from 'onnxruntime-node';
import { exportOnnx, graphInputs, ONNX_INPUT } from '../../src/serve/onnx/export-model.ts';
import { onnxParity, probeImages, probeSets, runGraph } from '../../src/serve/onnx/parity.ts';
import { createRuntime, type FaceCrops } from '../../src/serve/runtime.ts';
import type { TaskAnswer } from '../../src/tasks/index.ts';
import { faceApiPackageDir, importFaceApiRecognition } from '../../src/tasks/index.ts';
import { handModel, mobileModel } from './models.ts';
import { PROVENANCE } from '../pae/helpers.ts';
import { assertOneLineError, paenet, paenetJson, tempDir } from '../cli/helpers.ts';

/** A metadata_props value of an ONNX model (each a StringStringEntryProto: key = field 1, value = field 2; written last). */
function onnxMetadata(bytes: Uint8Array, key: string): string {
  const b = Buffer.from(bytes);
  const head = Buffer.concat([Buffer.of(0x0a, key.length), Buffer.from(key), Buffer.of(0x12)]);
  const at = b.lastIndexOf(head);
  assert.ok(at >= 0, `no metadata '${key}'`);
  let p = at + head.length;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    const x = b[p++]!;
    length |= (x & 0x7f) << shift;
    if (x < 0x80) break;
  }
  return b.subarray(p, p + length).toString('utf8');
}

/** An answer's numbers: the embedding, or the scores in label order. */
const numbersOf = (a: TaskAnswer): number[] => (a.kind === 'identity' ? a.embedding : Object.values(a.scores));

/** The tiny test model (32 px backbone) with task 1 at 32 px and tasks 2 and 3 (cosine head, identity) at 48 px. */
function mixedTinyModel(): PaeModel {
  const model = handModel('tiny', [
    { kind: 'linear', classes: 4 },
    { kind: 'cosface', classes: 5 },
    { kind: 'linear', classes: 0, dropped: true },
  ]);
  model.tasks[1]!.extra.inputSize = 48;
  model.tasks[2]!.extra.inputSize = 48;
  return model;
}

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

test('a single-size model exports the one-input graph it always did', async () => {
  const model = handModel('tiny', [
    { kind: 'linear', classes: 4 },
    { kind: 'linear', classes: 0, dropped: true },
  ]);
  try {
    const { bytes, inputs } = exportOnnx(model);
    assert.deepEqual(inputs, [{ name: ONNX_INPUT, shape: ['batch', 3, 32, 32], size: 32, tasks: ['task1', 'task2'] }]);
    assert.equal(onnxMetadata(bytes, 'input'), '{"layout":"NCHW","channels":"RGB","range":[0,255],"size":32}');
    // Every task at one other side: still one input, named as ever, at that side.
    for (const t of model.tasks) t.extra.inputSize = 48;
    const moved = exportOnnx(model);
    assert.deepEqual(
      moved.inputs.map((i) => [i.name, i.size]),
      [[ONNX_INPUT, 48]],
    );
    assert.equal(onnxMetadata(moved.bytes, 'input'), '{"layout":"NCHW","channels":"RGB","range":[0,255],"size":48}');
    await assertParity(model, 'tiny at 48 px');
  } finally {
    model.dispose();
  }
});

test('tasks at their own input sizes: one graph input per size, each task matching libtorch at its own size', async () => {
  const model = mixedTinyModel();
  try {
    const { bytes, inputs } = exportOnnx(model);
    assert.deepEqual(inputs, [
      { name: ONNX_INPUT, shape: ['batch', 3, 32, 32], size: 32, tasks: ['task1'] },
      { name: `${ONNX_INPUT}_48`, shape: ['batch', 3, 48, 48], size: 48, tasks: ['task2', 'task3'] },
    ]);
    assert.deepEqual(JSON.parse(onnxMetadata(bytes, 'input')), {
      layout: 'NCHW',
      channels: 'RGB',
      range: [0, 255],
      size: 32,
      inputs: [
        { name: ONNX_INPUT, size: 32, tasks: ['task1'] },
        { name: `${ONNX_INPUT}_48`, size: 48, tasks: ['task2', 'task3'] },
      ],
    });
    await assertParity(model, 'tiny at 32 + 48 px');
    // Each task reads its own input: new 48-px crops move tasks 2 and 3 only.
    const session = await ort.InferenceSession.create(bytes);
    try {
      const sets = probeSets([32, 48]);
      const before = await runGraph(session, sets);
      const after = await runGraph(session, new Map([...sets, [48, probeImages(6, 48, 999)]]));
      assert.deepEqual(after.task1!.data, before.task1!.data, 'task 1 does not read the 48-px input');
      for (const t of ['task2', 'task3']) assert.notDeepEqual(after[t]!.data, before[t]!.data, `${t} reads the 48-px input`);
      await assert.rejects(runGraph(session, new Map([[32, sets.get(32)!]])), /no crops at 48×48 for the ONNX graph's input 'pixels_48'/);
    } finally {
      await session.release();
    }
    // A graph of tasks that share one side has one input, named as ever, at that side.
    const one = exportOnnx(model, { tasks: ['task2', 'task3'] });
    assert.deepEqual(
      one.inputs.map((i) => [i.name, i.size]),
      [[ONNX_INPUT, 48]],
    );
    for (const d of Object.values(await onnxParity(model, one.bytes, ['task2', 'task3']))) assert.ok(d <= 1e-4);
  } finally {
    model.dispose();
  }
});

test('the main input: the backbone size when a task uses it, else the largest; the others largest first', () => {
  const model = mixedTinyModel();
  const names = (): [string, number][] => graphInputs(model, model.tasks).map((i) => [i.name, i.size]);
  try {
    model.tasks[0]!.extra.inputSize = 64;
    assert.deepEqual(names(), [
      [ONNX_INPUT, 64],
      [`${ONNX_INPUT}_48`, 48],
    ]);
    model.tasks[1]!.extra.inputSize = 32;
    assert.deepEqual(names(), [
      [ONNX_INPUT, 32],
      [`${ONNX_INPUT}_64`, 64],
      [`${ONNX_INPUT}_48`, 48],
    ]);
  } finally {
    model.dispose();
  }
});

test('runtimes take each face as crops at every size its tasks need: ONNX and libtorch agree; a missing crop is one error', async () => {
  const model = mixedTinyModel();
  const onnx = await createRuntime(model);
  const torch = await createRuntime(model, 'libtorch');
  try {
    assert.deepEqual(onnx.sizes, [48, 32]);
    assert.deepEqual(torch.sizes, [48, 32]);
    const sets = probeSets([32, 48], 4);
    const faces: FaceCrops[] = [0, 1, 2, 3].map(
      (i) => new Map([32, 48].map((s) => [s, sets.get(s)!.pixels.subarray(i * s * s * 3, (i + 1) * s * s * 3)])),
    );
    const [a, b] = [await onnx.run(faces), await torch.run(faces)];
    assert.equal(a.length, 4);
    for (const [i, face] of a.entries())
      for (const [task, x] of Object.entries(face)) {
        const [u, v] = [numbersOf(x), numbersOf(b[i]![task]!)];
        assert.equal(u.length, v.length);
        for (const [k, value] of u.entries()) assert.ok(Math.abs(value - v[k]!) <= 1e-4, `face ${i} ${task}`);
      }
    const only32 = [new Map([[32, faces[0]!.get(32)!]])];
    for (const rt of [onnx, torch]) await assert.rejects(rt.run(only32), /face 0 has no 48×48 crop \(its crops: 32 px\)/);
    const short = [new Map([...faces[0]!, [48, new Uint8Array(10)]])];
    for (const rt of [onnx, torch]) await assert.rejects(rt.run(short), /face 0's 48-px crop has 10 bytes, expected 6912/);
  } finally {
    await onnx.dispose();
    await torch.dispose();
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
  const model = mobileModel();
  // A steep stem BN for task 1, so its activations pass ReLU6's upper bound (where a lost clamp would show).
  noGrad(() => model.net.layer('stem').norm(1).weight.mul_(10));
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
    const all = paenetJson<{
      bytes: number;
      inputs: { name: string; size: number }[];
      outputs: { name: string; shape: (number | string)[] }[];
      maxAbsDiff: Record<string, number>;
    }>('export', file, out, '--json');
    assert.equal(statSync(out).size, all.bytes);
    assert.deepEqual(
      all.inputs.map((i) => [i.name, i.size]),
      [[ONNX_INPUT, 32]],
    );
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
