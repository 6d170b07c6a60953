// `paenet eval` and the manifest's split column: a manifest without one is evaluated on every row, one with one on
// its `val` rows unless `--split` says otherwise, and `--split` on a manifest without the column is a one-line error.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { saveModel } from '../../src/pae/index.ts';
import { handModel } from '../serve/models.ts';
import { assertOneLineError, dataFile, paenetAsync, tempDir, type CliResult } from './helpers.ts';

const dir = tempDir('eval-split');
after(() => rmSync(dir, { recursive: true, force: true }));
const model = resolve(dir, 'model.pae');
const noSplit = resolve(dir, 'no-split.csv');
const allVal = resolve(dir, 'all-val.csv');
const halfVal = resolve(dir, 'half-val.csv');
const ROWS = 40;

interface EvalOut {
  n: number;
  sha256: string;
  split: string | null;
}

before(() => {
  // A hand-made gender task (untrained: the check is which rows are evaluated, not how well).
  const m = handModel('tiny', [{ kind: 'linear', classes: 2 }]);
  m.tasks[0] = { ...m.tasks[0]!, name: 'gender', labels: ['male', 'female'], data: { label: 'gender' } };
  saveModel(m, model);
  m.dispose();
  // ROWS images of the shared UTKFace manifest's val split, written as three manifests of the same rows.
  const source = dataFile('utkface-agegender', 'manifest.csv');
  const [header, ...lines] = readFileSync(source, 'utf8').trim().split('\n');
  const h = header!.split(',');
  const [path, gender, name, split] = ['path', 'gender', 'gender_name', 'split'].map((c) => h.indexOf(c)) as [
    number,
    number,
    number,
    number,
  ];
  const rows = lines
    .map((l) => l.split(','))
    .filter((r) => r[split] === 'val')
    .slice(0, ROWS)
    .map((r) => [resolve(dirname(source), r[path]!), r[gender]!, r[name]!]);
  const csv = (cols: string[], body: string[][]): string => [cols.join(','), ...body.map((r) => r.join(','))].join('\n') + '\n';
  writeFileSync(noSplit, csv(['path', 'gender', 'gender_name'], rows));
  writeFileSync(
    allVal,
    csv(
      ['path', 'gender', 'gender_name', 'split'],
      rows.map((r) => [...r, 'val']),
    ),
  );
  writeFileSync(
    halfVal,
    csv(
      ['path', 'gender', 'gender_name', 'split'],
      rows.map((r, i) => [...r, i % 2 ? 'train' : 'val']),
    ),
  );
});

function parsed(r: CliResult): EvalOut {
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as EvalOut;
}

test('eval: every row of a manifest without a split column; the val rows of one with it; --split needs the column', async () => {
  const run = (data: string, ...more: string[]) => paenetAsync('eval', model, '--task', 'gender', '--data', data, '--json', ...more);
  const [whole, val, half, asked] = await Promise.all([run(noSplit), run(allVal), run(halfVal), run(noSplit, '--split', 'val')]);
  const all = parsed(whole!);
  assert.equal(all.n, ROWS, 'every row evaluated');
  assert.equal(all.split, null, 'no split selected');
  const same = parsed(val!);
  assert.equal(same.split, 'val');
  assert.equal(same.n, ROWS);
  assert.equal(same.sha256, all.sha256, 'the same rows, the same predictions');
  const halfOut = parsed(half!);
  assert.equal(halfOut.split, 'val');
  assert.equal(halfOut.n, ROWS / 2, 'a manifest with a split column is still evaluated on its val rows');
  assertOneLineError(asked!, noSplit, /no column "split"/);
});
