// The ship step: a finished miniature experiment's model stored where `ship.file` says, its build in the manifest,
// every listed module measured before and after, and a report quoting those measurements.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runExperiment, shipModel, validateExperiment, type ExperimentResult, type ShipResult } from '../../src/workflows/index.ts';
import { shipMarkdown } from '../../src/report/ship-markdown.ts';
import { loadModel } from '../../src/pae/index.ts';
import { DATA, needData, tempDir } from '../data/fixtures.ts';

const PROVENANCE = { paenetVersion: 'test', torchVersion: 'test', created: '2026-01-01T00:00:00Z' };
const dir = tempDir('ship');
after(() => rmSync(dir, { recursive: true, force: true }));
const UTK = join(DATA, 'utkface-agegender/manifest.csv');
const CELEBA = join(DATA, 'celeba-identity');

const raw = (weights: string) => ({
  name: 'mini-ship',
  description: 'two modules at two input sizes',
  arch: 'tiny',
  output: join(dir, 'run'),
  methods: ['pae'],
  tasks: [
    { name: 'face', kind: 'identity', data: join(CELEBA, 'manifest.csv') },
    { name: 'gender', kind: 'classify', data: UTK, label: 'gender', inputSize: 40, goal: 'trained' },
  ],
  train: { epochs: 1, lr: 3e-3 },
  prune: { ratios: [0.5], epochsPerStep: 1 },
  limit: { train: 200, val: 100 },
  goalMargin: 0.05,
  maxExpansions: 0,
  batchSize: 32,
  ship: {
    file: join(dir, `mini-${weights}.pae`),
    weights,
    evaluate: [
      { task: 'face', name: 'verification, CelebA pairs', pairs: join(CELEBA, 'pairs.txt') },
      { task: 'gender', name: 'gender, UTKFace val', data: UTK, label: 'gender' },
    ],
  },
});

let result: ExperimentResult;
let shipped: ShipResult;
before(async () => {
  needData('utkface-agegender');
  needData('celeba-identity');
  const cfg = validateExperiment(raw('fp32'), 'mini-ship.json');
  result = await runExperiment(cfg, PROVENANCE);
  shipped = await shipModel({ ...cfg, ship: cfg.ship! }, result, { experimentFile: 'mini-ship.json', machine: 'test' });
});

test('the shipped file records its build: recipe, data, compute per task', () => {
  const m = loadModel(shipped.file);
  try {
    const build = m.provenance.build as Record<string, unknown>;
    assert.equal(build.experiment, 'mini-ship.json');
    assert.equal((build.recipe as { name: string }).name, 'mini-ship');
    assert.deepEqual(Object.keys(build.taskSeconds as object), ['face', 'gender']);
    assert.equal(
      build.computeSeconds,
      result.tasks.reduce((s, t) => s + t.seconds, 0),
    );
    assert.ok((build.data as string[]).includes(UTK));
    assert.equal(m.inputSizeOf('gender'), 40, 'the task keeps its own input size');
    assert.equal(m.inputSizeOf('face'), m.config.inputSize);
  } finally {
    m.dispose();
  }
});

test('with fp32 storage the shipped modules answer exactly as the experiment model (same hashes)', () => {
  assert.equal(shipped.modules.length, 2);
  for (const { fp32, shipped: s } of shipped.modules) {
    assert.equal(s.sha256, fp32.sha256, s.name);
    assert.equal(s.value, fp32.value, s.name);
  }
  const gender = shipped.modules[1]!.shipped;
  assert.equal(gender.inputSize, 40);
  assert.ok(gender.meanPerClass! > 0 && gender.meanPerClass! <= 1);
  // The whole val split (the experiment itself measured only limit.val of it).
  assert.equal(gender.n, 787);
});

test('the report quotes every measurement and the build', () => {
  const md = shipMarkdown(shipped, result, { commit: 'abc', machine: 'test', date: '2026-01-01' });
  for (const { shipped: s } of shipped.modules) {
    assert.ok(md.includes(s.name), s.name);
    assert.ok(md.includes((100 * s.value).toFixed(2)), `${s.name} value`);
  }
  assert.ok(md.includes('paenet experiment mini-ship.json'));
  assert.ok(existsSync(shipped.file));
  assert.ok(readFileSync(shipped.file).length === shipped.bytes);
});

test('a ship section naming a missing task or lacking data fails on load, naming the file', () => {
  const bad = raw('int8');
  bad.ship.evaluate.push({ task: 'age', name: 'age', data: UTK, label: 'label' });
  assert.throws(() => validateExperiment(bad, 'x.json'), /x\.json: ship: evaluate\[2\]: no task named 'age'/);
  const noPairs = raw('int8');
  noPairs.ship.evaluate[0] = { task: 'face', name: 'pairs?' } as never;
  assert.throws(() => validateExperiment(noPairs, 'x.json'), /evaluate\[0\] needs "pairs"/);
  assert.throws(
    () => validateExperiment({ ...raw('int8'), ship: { ...raw('int8').ship, weights: 'int4' } }, 'x.json'),
    /"weights" must be/,
  );
});
