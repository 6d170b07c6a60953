// Tests of the LFW pairs.txt parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPairs } from '../../src/data/pairs.ts';
import { DATA, needData, withTmp } from './fixtures.ts';

test('orl-faces pairs.txt: 10 folds of 20 + 20, files exist', { skip: needData('orl-faces') }, () => {
  const file = join(DATA, 'orl-faces/pairs.txt');
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const p = loadPairs(file);
  assert.equal(p.folds, 10);
  assert.equal(p.perFold, 20);
  assert.equal(p.pairs.length, lines.length - 1);
  assert.equal(p.pairs.filter((x) => x.same).length, lines.slice(1).filter((l) => l.split('\t').length === 3).length);
  const [name, i, j] = lines[1]!.split('\t');
  assert.equal(p.pairs[0]!.a, join(DATA, `orl-faces/images/${name}/${name}_${i!.padStart(4, '0')}.jpg`));
  assert.equal(p.pairs[0]!.b, join(DATA, `orl-faces/images/${name}/${name}_${j!.padStart(4, '0')}.jpg`));
  assert.deepEqual([p.pairs[20]!.same, p.pairs[20]!.fold, p.pairs[40]!.same, p.pairs[40]!.fold], [false, 0, true, 1]);
  for (let f = 0; f < 10; f++) assert.equal(p.pairs.filter((x) => x.fold === f).length, 40);
  assert.equal(new Set(p.images).size, p.images.length);
  for (const x of p.pairs) assert.equal(p.images[x.ia], x.a);
});

test('hand-written pairs file, and its errors', async () => {
  await withTmp((dir) => {
    for (const [n, k] of [
      ['Ann', 1],
      ['Ann', 12],
      ['Bob', 3],
    ] as const) {
      mkdirSync(join(dir, 'images', n), { recursive: true });
      writeFileSync(join(dir, 'images', n, `${n}_${String(k).padStart(4, '0')}.jpg`), '');
    }
    const p = join(dir, 'pairs.txt');
    writeFileSync(p, '1\t1\nAnn\t1\t12\r\nAnn\t12\tBob\t3\n\n');
    const r = loadPairs(p);
    assert.deepEqual(
      r.pairs.map((x) => [x.a.slice(dir.length), x.b.slice(dir.length), x.same, x.fold]),
      [
        ['/images/Ann/Ann_0001.jpg', '/images/Ann/Ann_0012.jpg', true, 0],
        ['/images/Ann/Ann_0012.jpg', '/images/Bob/Bob_0003.jpg', false, 0],
      ],
    );
    assert.equal(r.images.length, 3);

    writeFileSync(p, 'ten\t1\n');
    assert.throws(() => loadPairs(p), { message: `${p}:1: header should be "<folds><TAB><pairs per fold>", got "ten\t1"` });
    writeFileSync(p, '1\t2\nAnn\t1\t12\n');
    assert.throws(() => loadPairs(p), {
      message: `${p}: header says 1 folds x 2 matched + 2 mismatched = 4 pairs, file has 1 lines after it`,
    });
    writeFileSync(p, '1\t1\nAnn\t1\tBob\t3\nAnn\t12\tBob\t3\n');
    assert.throws(() => loadPairs(p), { message: `${p}:2: expected a matched pair "name i j" (fold 0), got "Ann\t1\tBob\t3"` });
    writeFileSync(p, '1\t1\nAnn\t1\t2\nAnn\t12\tCid\t3\n');
    assert.throws(() => loadPairs(p), { message: `${p}: 2 of 4 images missing (first: ${join(dir, 'images/Ann/Ann_0002.jpg')})` });
    assert.equal(loadPairs(p, { checkFiles: false }).pairs.length, 2);
  });
});
