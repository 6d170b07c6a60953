// The model the package ships (models/paenet-face.pae): it loads (checksum verified), names exactly the four
// modules with their classes, records its build and its start network's licence, fits the 7 MB budget, and
// analyzes a sample photo with every module per face. Skipped only while the file is not built yet.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadModel, type PaeModel } from '../../src/pae/index.ts';
import { defaultModelPath } from '../../src/serve/default-model.ts';
import { Analyzer } from '../../src/serve/analyze.ts';
import { packageRoot } from '../../src/io/packages.ts';

const FILE = defaultModelPath();
const skip = existsSync(FILE) ? false : `${FILE} is not built yet (paenet experiment experiments/paenet-face.json)`;

function withModel<T>(f: (m: PaeModel) => T): T {
  const m = loadModel(FILE);
  try {
    return f(m);
  } finally {
    m.dispose();
  }
}

test('the shipped model: four modules, their classes, build record, licence, ≤ 7 MB', { skip }, () => {
  assert.ok(statSync(FILE).size <= 7_000_000, `${statSync(FILE).size} bytes`);
  withModel((m) => {
    assert.deepEqual(
      m.tasks.map((t) => [t.name, t.kind, t.labels.length]),
      [
        ['identity', 'identity', 0],
        ['gender', 'classify', 2],
        ['age', 'classify', 8],
        ['expression', 'classify', 7],
      ],
    );
    assert.equal(typeof m.task('identity').extra.threshold, 'number');
    const start = m.task('identity').extra.pretrained as { package: string; license: string };
    assert.equal(start.package, '@vladmandic/human');
    assert.equal(start.license, 'MIT');
    const build = m.provenance.build as { experiment: string; computeSeconds: number; data: string[] } | undefined;
    assert.ok(build, 'the manifest records the build');
    assert.equal(build.experiment, 'experiments/paenet-face.json');
    assert.ok(build.computeSeconds > 0 && build.data.length >= 4);
  });
});

test('analyze on a sample photo answers every module for every face', { skip }, async () => {
  const m = loadModel(FILE);
  const analyzer = await Analyzer.create(m);
  try {
    const a = await analyzer.analyze(join(packageRoot('@vladmandic/face-api'), 'demo', 'sample1.jpg'));
    assert.ok(a.faces.length > 0);
    for (const f of a.faces) assert.deepEqual(Object.keys(f.tasks).sort(), ['age', 'expression', 'gender', 'identity']);
  } finally {
    await analyzer.dispose();
    m.dispose();
  }
});
