// Tests of loadManifest on the shared face sets and on small hand-written manifests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadManifest } from '../../src/data/manifest.ts';
import { DATA, naiveRows, needData, withTmp } from './fixtures.ts';

const countBy = (values: string[]): Map<string, number> => {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
};

test('utkface gender: names from gender_name, counts per split match the manifest', { skip: needData('utkface-agegender') }, () => {
  const rows = naiveRows('utkface-agegender');
  for (const split of ['train', 'val']) {
    const m = loadManifest(join(DATA, 'utkface-agegender/manifest.csv'), { label: 'gender', split });
    const want = rows.filter((r) => r.split === split);
    assert.equal(m.samples.length, want.length);
    assert.deepEqual(m.labels, ['male', 'female']);
    assert.deepEqual(countBy(m.samples.map((s) => m.labels[s.label]!)), countBy(want.map((r) => r.gender_name!)));
    assert.ok(m.samples[0]!.path.startsWith('/') && existsSync(m.samples[0]!.path));
  }
});

test('utkface age label: names found in age_group; where filter', { skip: needData('utkface-agegender') }, () => {
  const rows = naiveRows('utkface-agegender');
  const m = loadManifest(join(DATA, 'utkface-agegender/manifest.csv'), {
    label: 'label',
    split: 'train',
    where: { age_in_adience_range: '1' },
  });
  assert.deepEqual(m.labels, ['0-2', '4-6', '8-13', '15-20', '25-32', '38-43', '48-53', '60+']);
  assert.equal(m.samples.length, rows.filter((r) => r.split === 'train' && r.age_in_adience_range === '1').length);
  for (const s of m.samples.slice(0, 50)) assert.equal(s.label, Number(s.raw));
});

test('fer2013 label: 7 named classes, per-class val counts', { skip: needData('fer2013') }, () => {
  const rows = naiveRows('fer2013').filter((r) => r.split === 'val');
  const m = loadManifest(join(DATA, 'fer2013/manifest.csv'), { label: 'label', split: 'val' });
  assert.deepEqual(m.labels, ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']);
  assert.equal(m.samples.length, rows.length);
  assert.deepEqual(countBy(m.samples.map((s) => String(s.label))), countBy(rows.map((r) => r.label!)));
});

test('celeba gender skips empty cells and counts them; label -1 counts as negative', { skip: needData('celeba-identity') }, () => {
  const rows = naiveRows('celeba-identity').filter((r) => r.split === 'train');
  const file = join(DATA, 'celeba-identity/manifest.csv');
  const g = loadManifest(file, { label: 'gender', split: 'train' });
  assert.equal(g.samples.length, rows.filter((r) => r.gender !== '').length);
  assert.equal(g.skippedEmpty, rows.filter((r) => r.gender === '').length);
  assert.ok(g.skippedEmpty > 0);
  const all = loadManifest(file, { label: 'label', group: 'identity' });
  assert.equal(all.skippedNegative, naiveRows('celeba-identity').filter((r) => r.label === '-1').length);
  assert.equal(all.labels[all.samples[0]!.label], all.samples[0]!.group); // names come from identity
  assert.throws(
    () => loadManifest(file, { label: 'label', split: 'val' }),
    /no samples with a label in column "label" in rows with split = val \(1393 rows: 0 empty, 1393 negative\)/,
  );
});

test('string labels: sorted identities; classes option reuses the train mapping', { skip: needData('celeb-glint360k-sample') }, () => {
  const file = join(DATA, 'celeb-glint360k-sample/manifest.csv');
  const train = loadManifest(file, { label: 'identity', split: 'train' });
  const names = [
    ...new Set(
      naiveRows('celeb-glint360k-sample')
        .filter((r) => r.split === 'train')
        .map((r) => r.identity!),
    ),
  ].sort();
  assert.deepEqual(train.labels, names);
  const val = loadManifest(file, { label: 'identity', split: 'val', classes: train.labels });
  for (const s of val.samples) assert.equal(train.labels[s.label], s.raw);
  assert.throws(
    () => loadManifest(file, { label: 'identity', split: 'val', classes: ['Daniel_Radcliffe'] }),
    /is not among the given classes/,
  );
});

const write = (dir: string, name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

test('errors: missing file, unknown label/path/split column, empty, ragged row', async () => {
  await withTmp((dir) => {
    assert.throws(() => loadManifest(join(dir, 'none.csv'), { label: 'label' }), {
      message: `${join(dir, 'none.csv')}: manifest not found`,
    });
    const p = write(dir, 'm.csv', 'path,label,label_name,split\na.jpg,0,x,train\n');
    assert.throws(() => loadManifest(p, { label: 'age' }), { message: `${p}: no column "age" (columns: path, label, label_name, split)` });
    assert.throws(() => loadManifest(p, { label: 'label', pathColumn: 'file' }), {
      message: `${p}: no path column "file" (columns: path, label, label_name, split)`,
    });
    assert.throws(() => loadManifest(p, { label: 'label', split: 'test' }), { message: `${p}: no rows with split = test (values: train)` });
    const e = write(dir, 'e.csv', 'path,label\n');
    assert.throws(() => loadManifest(e, { label: 'label' }), { message: `${e}: empty manifest (header only)` });
    const r = write(dir, 'r.csv', 'path,label\na.jpg,0\nb.jpg\n');
    assert.throws(() => loadManifest(r, { label: 'label' }), { message: `${r}:3: 1 fields, the header has 2` });
  });
});

test('a declared class without samples in the selection is an error unless allowed', async () => {
  await withTmp((dir) => {
    const p = write(dir, 'm.csv', 'path,label,label_name,split\na.jpg,0,cat,train\nb.jpg,1,dog,val\nc.jpg,0,cat,val\n');
    assert.throws(() => loadManifest(p, { label: 'label', split: 'train' }), {
      message: `${p}: class 1 "dog" of column "label" has no samples in rows with split = train (pass allowEmptyClasses to keep it)`,
    });
    const m = loadManifest(p, { label: 'label', split: 'train', allowEmptyClasses: true });
    assert.deepEqual(m.labels, ['cat', 'dog']);
    assert.deepEqual(m.samples, [{ path: join(dir, 'a.jpg'), label: 0, raw: '0' }]);
  });
});

test('integer labels index by value across splits; empty and negative skipped separately', async () => {
  await withTmp((dir) => {
    const p = write(dir, 'm.csv', 'path,y,split\na.jpg,2,val\nb.jpg,,val\nc.jpg,-1,val\nd.jpg,0,train\nsub/e.jpg,2,val\n');
    const m = loadManifest(p, { label: 'y', split: 'val' });
    assert.deepEqual(m.labels, ['0', '1', '2']);
    assert.deepEqual(
      m.samples.map((s) => [s.path, s.label]),
      [
        [join(dir, 'a.jpg'), 2],
        [join(dir, 'sub/e.jpg'), 2],
      ],
    );
    assert.equal(m.skippedEmpty, 1);
    assert.equal(m.skippedNegative, 1);
  });
});
