// A miniature experiment (tiny backbone, a few hundred real faces, all five methods): the report's structural facts
// hold, and every number in it is read from the run's own outputs.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { METHODS, runExperiment, validateExperiment, type ExperimentResult } from '../../src/workflows/index.ts';
import { writeExperimentPlots } from '../../src/report/plots.ts';
import { classificationValidator } from '../../src/tasks/evaluate.ts';
import { experimentMarkdown } from '../../src/report/markdown.ts';
import { computeLedger, loadModel } from '../../src/pae/index.ts';
import { loadImageSet } from '../../src/tasks/index.ts';
import { DATA, needData, tempDir } from '../data/fixtures.ts';

const PROVENANCE = { paenetVersion: 'test', torchVersion: 'test', created: '2026-01-01T00:00:00Z' };
const dir = tempDir('experiment');
after(() => rmSync(dir, { recursive: true, force: true }));
const UTK = join(DATA, 'utkface-agegender/manifest.csv');

const config = () =>
  validateExperiment(
    {
      name: 'mini',
      arch: 'tiny',
      output: dir,
      methods: ['pae', 'individual', 'packnet', 'finetune', 'progressive'],
      tasks: [
        { name: 'gender', kind: 'classify', data: UTK, label: 'gender' },
        { name: 'age', kind: 'classify', data: UTK, label: 'label' },
        { name: 'face', kind: 'identity', data: join(DATA, 'celeba-identity/manifest.csv') },
      ],
      train: { epochs: 2, lr: 3e-3 },
      prune: { ratios: [0.5], epochsPerStep: 1 },
      limit: { train: 300, val: 150 },
      goalMargin: 0.02,
      maxExpansions: 1,
      batchSize: 32,
      // Not the ladder's 0.5: PackNet must prune to its own ratio.
      packnetRatio: 0.4,
    },
    'mini.json',
  );

let r: ExperimentResult;
before(async () => {
  needData('utkface-agegender');
  needData('celeba-identity');
  r = await runExperiment(config(), PROVENANCE);
});

const method = (name: string) => {
  const m = r.methods.find((x) => x.method === name);
  assert.ok(m, `method ${name} ran`);
  return m;
};

test('every method ran every task; the accuracy matrices are lower-triangular and finite', () => {
  assert.deepEqual(
    r.methods.map((m) => m.method),
    ['pae', 'individual', 'packnet', 'finetune', 'progressive'],
  );
  for (const m of r.methods) {
    assert.equal(m.accuracyMatrix.length, 3, m.method);
    m.accuracyMatrix.forEach((row, i) =>
      row.forEach((v, j) => (j <= i ? assert.ok(Number.isFinite(v), `${m.method} R[${i}][${j}]`) : assert.equal(v, null))),
    );
  }
});

test("PAE's BWT is exactly 0: earlier tasks score bit-identically after every later task", () => {
  const R = method('pae').accuracyMatrix;
  assert.equal(method('pae').bwt, 0);
  for (let j = 0; j < 3; j++) for (let i = j; i < 3; i++) assert.equal(R[i]![j], R[j]![j], `R[${i}][${j}]`);
  assert.equal(method('individual').bwt, 0);
});

test("fine-tuning's scores are re-measured on its own final model, not forced", async () => {
  const ft = method('finetune');
  assert.ok(Number.isFinite(ft.bwt));
  const model = loadModel(join(dir, 'checkpoints', 'finetune-3.pae'));
  try {
    const rec = model.task('gender');
    const val = await loadImageSet(UTK, { label: 'gender', split: 'val', size: model.config.inputSize, classes: rec.labels, limit: 150 });
    assert.equal(await classificationValidator(val)(model.net, rec.id), ft.accuracyMatrix[2]![0]);
    // One shared backbone that the last task owns entirely: the earlier tasks compute with its weights.
    assert.equal(model.net.slot(rec.id).sharing, 'all');
  } finally {
    model.dispose();
  }
  assert.equal(ft.weights[0], ft.weights[2], 'fine-tuning never grows');
});

test('PackNet never expands and prunes every task at its fixed ratio', () => {
  const pn = method('packnet');
  assert.ok(pn.weights.every((w) => w === pn.weights[0]));
  assert.equal(pn.weights[0], method('finetune').weights[0], 'the same backbone as the other methods');
  const model = loadModel(join(dir, 'checkpoints', 'packnet-3.pae'));
  try {
    for (const t of model.tasks) {
      assert.deepEqual(
        t.pruning.records.map((x) => x.ratio),
        [0, 0.4],
        t.name,
      );
      assert.equal(t.pruning.ratio, 0.4, t.name);
      assert.equal(t.expansions, 0, t.name);
    }
  } finally {
    model.dispose();
  }
});

test("each method's size is what its registry entry keeps of its final model", () => {
  for (const id of ['pae', 'packnet', 'finetune', 'progressive'] as const) {
    const model = loadModel(join(dir, 'checkpoints', `${id}-3.pae`));
    try {
      assert.equal(method(id).sizes.at(-1), METHODS[id].keptBytes(computeLedger(model)), id);
    } finally {
      model.dispose();
    }
  }
  assert.equal(method('individual').sizes.at(-1), METHODS.individual.keptBytes(r.ledger));
});

test("ProgressiveNet's size grows with every task; individual networks grow linearly", () => {
  const pg = method('progressive');
  for (let i = 1; i < 3; i++) {
    assert.ok(pg.sizes[i]! > pg.sizes[i - 1]!, `size after task ${i + 1}`);
    assert.ok(pg.weights[i]! > pg.weights[i - 1]!, `weights after task ${i + 1}`);
  }
  const ind = method('individual');
  assert.ok(ind.sizes[1]! > ind.sizes[0]! && ind.sizes[2]! > ind.sizes[1]!);
  assert.equal(ind.sizes.at(-1), r.ledger.individualBytes);
  const one = method('finetune').weights[0]!;
  assert.deepEqual(ind.weights, [one, 2 * one, 3 * one], 'one unexpanded backbone per task');
});

test("the report's method table is the run's numbers; charts render to SVG and PNG", async () => {
  const plots = await writeExperimentPlots(r, join(dir, 'plots'));
  const md = experimentMarkdown(r, { commit: 'c', machine: 'm', date: 'd', config: 'mini.json', plots });
  for (const m of r.methods) {
    const cells = m.accuracyMatrix.at(-1)!.map((v) => (100 * v!).toFixed(2));
    assert.ok(
      md.includes(`| ${METHODS[m.method].title} | ${cells.join(' | ')} | ${(100 * m.finalAverage).toFixed(2)} | `),
      `${m.method} row`,
    );
    assert.ok(md.includes(`| ${(m.sizes.at(-1)! / 2 ** 20).toFixed(3)} |`), `${m.method} size`);
  }
  assert.match(md, /config `mini\.json`; commit `c`; m; d/);
  for (const p of plots) {
    assert.match(readFileSync(join(dir, 'plots', `${p}.svg`), 'utf8'), /^<svg[^>]*>[\s\S]*<\/svg>\s*$/);
    assert.deepEqual([...readFileSync(join(dir, 'plots', `${p}.png`)).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    assert.ok(md.includes(`![${p}](plots/${p}.svg)`));
  }
  const curve = r.tasks.map((t) => t.curve.map((c) => c.ratio));
  assert.deepEqual(curve, [
    [0, 0.5],
    [0, 0.5],
    [0, 0.5],
  ]);
});

test('a rerun resumes from the checkpoints: nothing is retrained, every number is the same', async () => {
  const t0 = Date.now();
  const again = await runExperiment(config(), PROVENANCE);
  assert.ok((Date.now() - t0) / 1000 < r.seconds, 'faster than the run itself');
  assert.deepEqual(
    again.methods.map((m) => [m.accuracyMatrix, m.sizes, m.seconds]),
    r.methods.map((m) => [m.accuracyMatrix, m.sizes, m.seconds]),
  );
  const changed = { ...config(), goalMargin: 0.5 };
  await assert.rejects(runExperiment(changed, PROVENANCE), /state\.json: the experiment config changed/);
});

test('a fresh run of the same sequence elsewhere, later in the same process, gives the same numbers (seeded)', async () => {
  // The global generator has moved on since the first run: only seeding before each method's weights are drawn
  // makes the second run start where the first did.
  const elsewhere = tempDir('experiment-again');
  try {
    const again = await runExperiment({ ...config(), output: elsewhere, methods: ['pae', 'individual'] }, PROVENANCE);
    const pae = (x: ExperimentResult) => x.methods.find((m) => m.method === 'pae')!;
    assert.deepEqual([pae(again).accuracyMatrix, pae(again).sizes], [pae(r).accuracyMatrix, pae(r).sizes]);
    assert.deepEqual(
      again.tasks.map((t) => [t.individual, t.pae, t.ratio, t.expansions]),
      r.tasks.map((t) => [t.individual, t.pae, t.ratio, t.expansions]),
    );
  } finally {
    rmSync(elsewhere, { recursive: true, force: true });
  }
});
