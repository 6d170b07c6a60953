// The demo's promise on a small model: a copy learns a new CelebA attribute, and every earlier module's outputs
// (hashed on fixed crops, and its answers on a real photo) are bit-identical before and after; the original file is
// never written. The hash itself must notice a one-weight change.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { noGrad, tensor, tidy } from '../../src/engine/index.ts';
import { loadModel, saveModel } from '../../src/pae/index.ts';
import { loadImageSet, outputHash } from '../../src/tasks/index.ts';
import { runDemo, demoMarkdown, type DemoResult } from '../../src/cli/demo.ts';
import { handModel, PORTRAIT_PHOTO } from '../serve/models.ts';
import { DATA, needData, tempDir } from '../data/fixtures.ts';

const dir = tempDir('demo');
after(() => rmSync(dir, { recursive: true, force: true }));
const CELEBA = join(DATA, 'celeba-identity/manifest.csv');
const start = join(dir, 'start.pae');
let r: DemoResult;
let startBytes: Buffer;

before(async () => {
  needData('celeba-identity');
  const m = handModel('tiny', [
    { kind: 'linear', classes: 0, dropped: true },
    { kind: 'linear', classes: 3 },
  ]);
  m.tasks[1]!.extra.inputSize = 40;
  saveModel(m, start);
  m.dispose();
  startBytes = readFileSync(start);
  r = await runDemo({
    model: start,
    out: join(dir, 'out'),
    photos: [PORTRAIT_PHOTO],
    newTask: {
      name: 'smiling',
      data: CELEBA,
      label: 'Smiling',
      inputSize: 48,
      train: { epochs: 1, lr: 3e-3 },
      prune: { ratios: [0.5], epochsPerStep: 1 },
      limit: { train: 200, val: 100 },
      batchSize: 32,
    },
    probe: { data: CELEBA, label: 'gender', n: 40 },
    runtime: 'libtorch',
  });
});

test('earlier modules are bit-identical after the new module is packed: output hashes and photo answers', () => {
  assert.deepEqual(
    r.hashes.map((h) => [h.task, h.inputSize]),
    [
      ['task1', 32],
      ['task2', 40],
    ],
  );
  for (const h of r.hashes) assert.equal(h.after, h.before, h.task);
  assert.deepEqual(r.changedOnPhotos, []);
  assert.ok(r.photos[0]!.before.length > 0, 'the portrait has a face');
  const face = r.photos[0]!.after[0]!;
  assert.deepEqual(Object.keys(face), ['task1', 'task2', 'smiling']);
  assert.equal(face.smiling!.kind, 'classify');
  assert.ok(r.newTask.top1 > 0 && r.newTask.top1 <= 1 && r.newTask.n > 0);
  assert.deepEqual(readFileSync(start), startBytes, 'the starting model file is untouched');
  const md = demoMarkdown(r);
  assert.ok(md.includes('| task1 | 32 |') && md.includes('| yes |') && !md.includes('**NO**'));
});

test('the hash notices one changed weight of an earlier module', async () => {
  const m = loadModel(r.grown);
  try {
    const t = m.task('task2');
    const set = await loadImageSet(CELEBA, { label: 'gender', split: 'val', size: 40, limit: 40 });
    assert.equal(outputHash(m, t, set), r.hashes[1]!.after, 'the saved grown model hashes as measured');
    // Nudge the first weight task 2 owns in the first layer.
    const l = m.net.layers[0]!;
    const i = (l.owner.data() as Uint8Array).findIndex((o) => o === 2);
    assert.ok(i >= 0);
    const w = Float32Array.from(l.weight.data() as Float32Array);
    w[i] = w[i]! + 0.5;
    noGrad(() => tidy(() => void l.weight.copy_(tensor(w, l.weight.shape))));
    assert.notEqual(outputHash(m, t, set), r.hashes[1]!.after);
  } finally {
    m.dispose();
  }
});
