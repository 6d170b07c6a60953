// analyze(photo) on real photos that ship in a face-detector package: faces found, every task answered per face,
// the ONNX and libtorch runtimes agreeing (also with tasks at different input sizes); verify; and defined answers
// for no face, corrupt and huge images.
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { saveModel, type PaeModel } from '../../src/pae/index.ts';
import { analyze, verify } from '../../src/index.ts';
import { Analyzer, type Analysis } from '../../src/serve/analyze.ts';
import { defaultModelPath } from '../../src/serve/default-model.ts';
import { buildServer } from '../../src/serve/http.ts';
import { torchOutput } from '../../src/serve/onnx/parity.ts';
import { decodePhoto, faceCrop } from '../../src/serve/photo.ts';
import { unlabelledSet, type TaskAnswer } from '../../src/tasks/index.ts';
import { assertOneLineError, paenet, paenetJson, tempDir } from '../cli/helpers.ts';
import { GROUP_PHOTO, mixedSizeModel, PORTRAIT_PHOTO, servingModel } from './models.ts';

const dir = tempDir('analyze');

let model: PaeModel;
let onnx: Analyzer;
let torch: Analyzer;
let group: Analysis;
before(async () => {
  model = servingModel();
  onnx = await Analyzer.create(model);
  torch = await Analyzer.create(model, { runtime: 'libtorch', detector: onnx.detector });
  group = await onnx.analyze(GROUP_PHOTO);
});
after(async () => {
  await onnx.dispose();
  await torch.dispose();
  model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('a group photo: many faces, largest first, each with a box, landmarks and every task', () => {
  console.log(`# ${group.faces.length} faces in ${GROUP_PHOTO} (${group.width}×${group.height}), ms ${JSON.stringify(group.ms)}`);
  assert.ok(group.faces.length >= 8, `${group.faces.length} faces`);
  for (const [i, f] of group.faces.entries()) {
    const [x, y, w, h] = f.box;
    assert.ok(w > 0 && h > 0 && x + w > 0 && y + h > 0 && x < group.width && y < group.height, `face ${i} box ${f.box}`);
    assert.equal(f.landmarks.length, 68);
    if (i > 0) assert.ok(w * h <= group.faces[i - 1]!.box[2] * group.faces[i - 1]!.box[3], 'largest first');
    const id = f.tasks.identity;
    assert.ok(id?.kind === 'identity' && id.embedding.length === 128);
    assert.ok(Math.abs(Math.hypot(...id.embedding) - 1) < 1e-4, 'unit embedding');
    const g = f.tasks.gender;
    assert.ok(g?.kind === 'classify' && ['male', 'female'].includes(g.label));
    assert.ok(Math.abs(g.scores.male! + g.scores.female! - 1) < 1e-5);
  }
});

test('the ONNX runtime and the libtorch forward give the same answers', async () => {
  const again = await torch.analyze(GROUP_PHOTO);
  assert.equal(again.faces.length, group.faces.length);
  for (const [i, f] of again.faces.entries()) {
    const a = f.tasks.gender as { label: string; scores: Record<string, number> };
    const b = group.faces[i]!.tasks.gender as { label: string; scores: Record<string, number> };
    assert.equal(a.label, b.label);
    assert.ok(Math.abs(a.scores.male! - b.scores.male!) < 1e-4);
  }
});

/** An answer's numbers: the embedding, or the scores in label order. */
const numbersOf = (a: TaskAnswer | undefined): number[] => (a?.kind === 'identity' ? a.embedding : Object.values(a?.scores ?? {}));

test('tasks at different input sizes (identity 150 px, gender 112 px): each reads its own crop, on both runtimes', async () => {
  const mixed = mixedSizeModel();
  const here = await Analyzer.create(mixed, { detector: onnx.detector });
  const there = await Analyzer.create(mixed, { runtime: 'libtorch', detector: onnx.detector });
  try {
    assert.deepEqual(here.runtime.sizes, [150, 112]);
    const [a, b] = [await here.analyze(GROUP_PHOTO), await there.analyze(GROUP_PHOTO)];
    assert.equal(a.faces.length, group.faces.length);
    assert.equal(b.faces.length, group.faces.length);
    const photo = await decodePhoto(GROUP_PHOTO);
    for (const [i, f] of a.faces.entries()) {
      for (const task of ['identity', 'gender']) {
        const [u, v] = [numbersOf(f.tasks[task]), numbersOf(b.faces[i]!.tasks[task])];
        assert.ok(u.length > 0 && u.length === v.length, `face ${i} ${task}`);
        assert.ok(
          u.every((x, k) => Math.abs(x - v[k]!) < 1e-4),
          `face ${i} ${task}: onnx and libtorch agree`,
        );
      }
      // Identity kept its size: the same embedding as in the single-size model.
      const single = numbersOf(group.faces[i]!.tasks.identity);
      assert.ok(
        numbersOf(f.tasks.identity).every((x, k) => Math.abs(x - single[k]!) < 1e-4),
        `face ${i}: identity unchanged`,
      );
      // Gender was computed on the 112-px crop of the face: the libtorch forward on that crop gives its scores.
      const crop = await faceCrop(photo, f.box, 112);
      const direct = torchOutput(mixed, mixed.tasks[1]!, unlabelledSet(crop, 112, 'direct'));
      assert.ok(
        numbersOf(f.tasks.gender).every((x, k) => Math.abs(x - direct[k]!) < 1e-4),
        `face ${i}: gender from its 112-px crop`,
      );
    }
    const self = await here.verify(PORTRAIT_PHOTO, PORTRAIT_PHOTO);
    assert.ok(self.same && self.distance < 1e-5, `distance ${self.distance}`);
    const app = buildServer(here);
    try {
      const info = (await app.inject({ method: 'GET', url: '/v1/tasks' })).json<{ tasks: { name: string; inputSize: number }[] }>();
      assert.deepEqual(
        info.tasks.map((t) => [t.name, t.inputSize]),
        [
          ['identity', 150],
          ['gender', 112],
        ],
      );
    } finally {
      await app.close();
    }
  } finally {
    await here.dispose();
    await there.dispose();
    mixed.dispose();
  }
});

test('the API without a model runs the shipped one (one line when this checkout lacks it); with one, that one', async () => {
  const detector = onnx.detector;
  const shipped = defaultModelPath();
  if (existsSync(shipped)) {
    assert.equal((await analyze(PORTRAIT_PHOTO, { detector })).faces.length, 1);
    assert.ok((await verify(PORTRAIT_PHOTO, PORTRAIT_PHOTO, { detector })).same);
  } else {
    const missing = (e: Error & { code?: string }) =>
      e.code === 'PAENET_NOT_FOUND' && e.message === `${shipped}: the shipped model is not in this checkout yet; pass a model file`;
    await assert.rejects(analyze(PORTRAIT_PHOTO, { detector }), missing);
    await assert.rejects(verify(PORTRAIT_PHOTO, PORTRAIT_PHOTO, { detector }), missing);
  }
  const mine = await analyze(model, PORTRAIT_PHOTO, { detector, tasks: ['gender'] });
  assert.deepEqual(Object.keys(mine.faces[0]!.tasks), ['gender']);
  assert.equal((await verify(model, PORTRAIT_PHOTO, PORTRAIT_PHOTO, { detector, task: 'identity' })).threshold, 0.06);
});

test('verify: a face against itself is the same person; a photo without a face is a one-line error', async () => {
  const self = await onnx.verify(PORTRAIT_PHOTO, PORTRAIT_PHOTO);
  assert.ok(self.distance < 1e-5 && self.same, `distance ${self.distance}`);
  assert.equal(self.threshold, 0.06);
  const blank = join(dir, 'blank.png');
  await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 200, g: 200, b: 200 } } })
    .png()
    .toFile(blank);
  await assert.rejects(
    onnx.verify(PORTRAIT_PHOTO, blank),
    new RegExp(`^PaenetError: ${blank.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: no face found$`),
  );
  assert.deepEqual((await onnx.analyze(blank)).faces, [], 'no face: an empty list, not an error');
});

test('corrupt, empty and missing files: one line naming the file', async () => {
  const corrupt = join(dir, 'corrupt.jpg');
  writeFileSync(corrupt, Buffer.from('\xff\xd8\xff\xe0 this is not a jpeg', 'latin1'));
  await assert.rejects(
    onnx.analyze(corrupt),
    (e: Error) => e.message.startsWith(`${corrupt}: not a decodable image`) && !e.message.includes('\n'),
  );
  const empty = join(dir, 'empty.png');
  writeFileSync(empty, '');
  await assert.rejects(onnx.analyze(empty), (e: Error) => e.message.startsWith(`${empty}: `) && !e.message.includes('\n'));
  await assert.rejects(onnx.analyze(join(dir, 'missing.jpg')), /missing\.jpg: no such file/);
  await assert.rejects(onnx.analyze(Buffer.from('nope')), /^PaenetError: upload: not a decodable image/);
  // A 60-megapixel image is refused from its header, before any pixel is decoded.
  const huge = await sharp({ create: { width: 10_000, height: 6_000, channels: 3, background: { r: 0, g: 0, b: 0 } } })
    .png({ compressionLevel: 1 })
    .toBuffer();
  await assert.rejects(onnx.analyze(huge, 'huge.png'), /^PaenetError: huge\.png: image too large \(over 50000000 pixels\)$/);
});

test('paenet analyze: --json per photo, --tasks, bad photos in one line', () => {
  const file = join(dir, 'model.pae');
  saveModel(model, file);
  const out = paenetJson<Analysis[]>('analyze', file, PORTRAIT_PHOTO, '--tasks', 'gender', '--json');
  assert.equal(out.length, 1);
  assert.equal(out[0]!.faces.length, 1, 'a portrait: one face');
  assert.deepEqual(Object.keys(out[0]!.faces[0]!.tasks), ['gender']);
  assertOneLineError(paenet('analyze', file, join(dir, 'missing.jpg')), 'missing.jpg', /no such file/);
  assertOneLineError(paenet('analyze', file, PORTRAIT_PHOTO, '--tasks', 'age'), file, /no task named 'age'/);
});
