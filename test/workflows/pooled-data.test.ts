// A task trained on several manifests: their rows pooled into one manifest with absolute image paths, the label
// column and split kept, the source named; a manifest without the label column is one line naming it.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCsv } from '../../src/data/index.ts';
import { validateExperiment } from '../../src/workflows/index.ts';
import { poolManifests, resolveTaskData } from '../../src/workflows/experiment/pooled-data.ts';
import { tempDir } from '../data/fixtures.ts';

function manifests(dir: string): [string, string] {
  mkdirSync(join(dir, 'a'));
  mkdirSync(join(dir, 'b'));
  writeFileSync(join(dir, 'a/manifest.csv'), 'path,gender,split\nx/1.jpg,0,train\nx/2.jpg,1,val\n');
  writeFileSync(join(dir, 'b/manifest.csv'), 'split,path,age,gender\ntrain,"y/3,4.jpg",30,1\ntrain,y/5.jpg,20,\n');
  return [join(dir, 'a/manifest.csv'), join(dir, 'b/manifest.csv')];
}

test('pooling keeps every row, makes paths absolute, keeps label and split, and names the source', () => {
  const dir = tempDir('paenet-pool-');
  const [a, b] = manifests(dir);
  const out = join(dir, 'pooled.csv');
  poolManifests([a, b], 'gender', out);
  const t = parseCsv(readFileSync(out, 'utf8'), out);
  assert.deepEqual(t.header, ['path', 'gender', 'split', 'source']);
  assert.deepEqual(t.rows, [
    [join(dir, 'a/x/1.jpg'), '0', 'train', a],
    [join(dir, 'a/x/2.jpg'), '1', 'val', a],
    [join(dir, 'b/y/3,4.jpg'), '1', 'train', b],
    [join(dir, 'b/y/5.jpg'), '', 'train', b],
  ]);
  assert.throws(() => poolManifests([a, b], 'age', join(dir, 'x.csv')), /a\/manifest\.csv: no 'age' column to pool/);
});

test('an experiment task listing several manifests trains on one pooled file; a list on an identity task is refused', () => {
  const dir = tempDir('paenet-pool-');
  const [a, b] = manifests(dir);
  const base = { name: 'x', arch: 'tiny', output: join(dir, 'out'), methods: ['pae'] };
  const cfg = validateExperiment({ ...base, tasks: [{ name: 'gender', kind: 'classify', data: [a, b], label: 'gender' }] }, 'e.json');
  const run = resolveTaskData(cfg);
  assert.equal(run.tasks[0]!.data, join(dir, 'out/data/gender.csv'));
  assert.equal(parseCsv(readFileSync(run.tasks[0]!.data, 'utf8')).rows.length, 4);
  assert.throws(
    () => validateExperiment({ ...base, tasks: [{ name: 'id', kind: 'identity', data: [a, b] }] }, 'e.json'),
    /e\.json: tasks\[0\]: only classify tasks pool several manifests/,
  );
  assert.throws(
    () => validateExperiment({ ...base, tasks: [{ name: 'g', kind: 'classify', data: a, goal: 'best' }] }, 'e.json'),
    /tasks\[0\]\.goal must be "auto", "trained", "none"/,
  );
});
