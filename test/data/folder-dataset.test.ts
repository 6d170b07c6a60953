// Tests of loadFolderDataset (folder-per-class layout).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadFolderDataset } from '../../src/data/folder-dataset.ts';
import { DATA, naiveRows, needData, withTmp } from './fixtures.ts';

test('fer2013/train as folders: sorted class names, counts equal the manifest', { skip: needData('fer2013') }, () => {
  const d = loadFolderDataset(join(DATA, 'fer2013/train'));
  assert.deepEqual(d.labels, ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise']);
  const rows = naiveRows('fer2013').filter((r) => r.split === 'train');
  assert.equal(d.samples.length, rows.length);
  const disgust = d.samples.filter((s) => d.labels[s.label] === 'disgust').length;
  assert.equal(disgust, rows.filter((r) => r.label_name === 'disgust').length);
});

test('folder errors: missing dir, no classes, empty class; non-images ignored', async () => {
  await withTmp((dir) => {
    assert.throws(() => loadFolderDataset(join(dir, 'nope')), { message: `${join(dir, 'nope')}: folder not found` });
    assert.throws(() => loadFolderDataset(dir), { message: `${dir}: no class subfolders` });
    mkdirSync(join(dir, 'b'));
    mkdirSync(join(dir, 'a'));
    writeFileSync(join(dir, 'a', 'x.JPG'), '');
    writeFileSync(join(dir, 'a', 'notes.txt'), '');
    assert.throws(() => loadFolderDataset(dir), { message: `${join(dir, 'b')}: no images (class "b" would be empty)` });
    writeFileSync(join(dir, 'b', 'y.png'), '');
    const d = loadFolderDataset(dir);
    assert.deepEqual(d.labels, ['a', 'b']);
    assert.deepEqual(
      d.samples.map((s) => [s.path, s.label]),
      [
        [join(dir, 'a', 'x.JPG'), 0],
        [join(dir, 'b', 'y.png'), 1],
      ],
    );
  });
});
