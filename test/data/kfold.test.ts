// Tests of the seeded, stratified, group-aware k-fold split.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kFold, trainValFromFolds } from '../../src/data/kfold.ts';
import { mulberry32 } from '../../src/data/rng.ts';

const rng = mulberry32(7);
// 3 classes, imbalanced: 60 / 25 / 15.
const labels = Array.from({ length: 100 }, (_, i) => (i < 60 ? 0 : i < 85 ? 1 : 2));
// Groups (like identities): runs of 1-4 consecutive samples of one class.
const groups: number[] = [];
for (let i = 0, g = 0; i < labels.length; g++) {
  const size = 1 + rng.int(4);
  const c = labels[i];
  for (let k = 0; k < size && i < labels.length && labels[i] === c; k++, i++) groups.push(g);
}

test('folds are disjoint, cover every sample, and are stratified', () => {
  const folds = kFold(labels, 5, { seed: 1 });
  const all = folds.flat().sort((a, b) => a - b);
  assert.deepEqual(
    all,
    labels.map((_, i) => i),
  );
  for (const f of folds) {
    assert.equal(f.length, 20);
    assert.deepEqual(
      [0, 1, 2].map((c) => f.filter((i) => labels[i] === c).length),
      [12, 5, 3],
    );
  }
});

test('same seed, same folds; other seed, other folds', () => {
  assert.deepEqual(kFold(labels, 5, { seed: 3 }), kFold(labels, 5, { seed: 3 }));
  assert.notDeepEqual(kFold(labels, 5, { seed: 3 }), kFold(labels, 5, { seed: 4 }));
});

test('a group never spans two folds, and fold sizes stay close', () => {
  const folds = kFold(labels, 5, { seed: 2, groups });
  const foldOf = new Map<number, number>();
  folds.forEach((f, k) =>
    f.forEach((i) => {
      const g = groups[i]!;
      assert.equal(foldOf.get(g) ?? k, k, `group ${g} in folds ${foldOf.get(g)} and ${k}`);
      foldOf.set(g, k);
    }),
  );
  assert.equal(folds.flat().length, 100);
  const sizes = folds.map((f) => f.length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 6, `sizes ${sizes}`);
});

test('trainValFromFolds: val is fold i, train the rest', () => {
  const folds = kFold(labels, 4, { seed: 5 });
  const { train, val } = trainValFromFolds(folds, 2);
  assert.deepEqual(val, folds[2]);
  assert.equal(train.length + val.length, 100);
  assert.ok(!train.some((i) => val.includes(i)));
  assert.throws(() => trainValFromFolds(folds, 4), /fold 4 out of range 0..3/);
  assert.throws(() => kFold([0, 1], 3), /2 samples cannot fill 3 folds/);
});
