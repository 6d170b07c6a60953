// Hand-computed checks of the ROC curve, AUC and TAR@FAR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auc, rocCurve, tarAtFar, tarAtFars } from '../../src/metrics/roc.ts';

test('perfect separation: exact ROC points and AUC 1', () => {
  const roc = rocCurve([0.1, 0.2, 0.3, 0.4], [true, true, false, false]);
  assert.deepEqual(roc.thresholds, [-Infinity, 0.1, 0.2, 0.3, 0.4]);
  assert.deepEqual(roc.tpr, [0, 0.5, 1, 1, 1]);
  assert.deepEqual(roc.fpr, [0, 0, 0, 0.5, 1]);
  assert.equal(auc(roc), 1);
});

test('reversed separation gives AUC 0', () => {
  assert.equal(auc(rocCurve([0.3, 0.4, 0.1, 0.2], [true, true, false, false])), 0);
});

test('all distances tied gives the diagonal and AUC 0.5', () => {
  const roc = rocCurve([0.5, 0.5, 0.5, 0.5], [true, false, true, false]);
  assert.deepEqual(roc.fpr, [0, 1]);
  assert.deepEqual(roc.tpr, [0, 1]);
  assert.equal(auc(roc), 0.5);
});

test('partial tie counts one half', () => {
  // S 0.1, 0.3; D 0.3, 0.5. Genuine-closer-than-impostor over 4 (S, D) combos: 1 + 1 + 1/2 + 1 = 3.5 -> 0.875.
  assert.equal(auc(rocCurve([0.1, 0.3, 0.3, 0.5], [true, true, false, false])), 0.875);
});

test('TAR@FAR takes the largest TPR within the FAR budget', () => {
  // 4 genuine: 0.1 0.2 0.4 0.6; 10 impostors: 0.3 0.5 0.7 .. 1.05.
  const d = [0.1, 0.2, 0.4, 0.6, 0.3, 0.5, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.05];
  const s = d.map((_, i) => i < 4);
  const roc = rocCurve(d, s);
  // FAR <= 1e-3 and 1e-2 allow no impostor: best is 2/4 accepted at threshold 0.2.
  // FAR <= 0.1 allows one impostor (0.3): 3/4 at threshold 0.4.
  const r = tarAtFars(roc);
  assert.deepEqual(
    r.map((x) => [x.far, x.tar, x.threshold, x.achievedFar]),
    [
      [1e-3, 0.5, 0.2, 0],
      [1e-2, 0.5, 0.2, 0],
      [1e-1, 0.75, 0.4, 0.1],
    ],
  );
  // FAR <= 0.2 allows two impostors: all genuine at 0.6.
  assert.equal(tarAtFar(roc, 0.2).tar, 1);
  assert.equal(tarAtFar(roc, 0.2).threshold, 0.6);
  assert.throws(() => tarAtFar(roc, 2), /\[0, 1\]/);
});

test('ROC needs both genuine and impostor pairs', () => {
  assert.throws(() => rocCurve([0.1, 0.2], [true, true]), /got 2 and 0/);
});
