// Hand-computed checks of average accuracy, backward transfer and transfer vs individual networks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  averageAccuracy,
  backwardTransfer,
  backwardTransferPerTask,
  forwardTransferVsIndividual,
  hasNoForgetting,
  summarizeContinual,
} from '../../src/metrics/continual.ts';

// Forgetting network: diagonal 0.875, 0.625, 0.75; final row 0.5, 0.5, 0.75.
const forgetting = [
  [0.875, null, null],
  [0.75, 0.625, NaN],
  [0.5, 0.5, 0.75],
];

test('average accuracy is the mean of the last row', () => {
  assert.ok(Math.abs(averageAccuracy(forgetting) - 1.75 / 3) < 1e-12);
});

test('backward transfer follows Lopez-Paz & Ranzato', () => {
  // (0.5 - 0.875) + (0.5 - 0.625) = -0.375 - 0.125 = -0.5, over T-1 = 2 tasks.
  assert.deepEqual(backwardTransferPerTask(forgetting), [-0.375, -0.125]);
  assert.equal(backwardTransfer(forgetting), -0.25);
  assert.equal(hasNoForgetting(forgetting), false);
});

test('backward transfer is exactly +0 when no task changed', () => {
  // PAE freezes earlier tasks, so their accuracies repeat bit for bit; the metric must then be +0, not a tiny float.
  const pae = [[0.1], [0.1, 0.2], [0.1, 0.2, 0.3]];
  assert.equal(hasNoForgetting(pae), true);
  assert.ok(Object.is(backwardTransfer(pae), 0));
  assert.ok(Number.isNaN(backwardTransfer([[0.9]])));
});

test('forward transfer compares the diagonal with individual networks', () => {
  // 0.875 - 0.5, 0.625 - 0.25, 0.75 - 0.75.
  const f = forwardTransferVsIndividual(forgetting, [0.5, 0.25, 0.75]);
  assert.deepEqual(f.perTask, [0.375, 0.375, 0]);
  assert.equal(f.mean, 0.25);
  assert.throws(() => forwardTransferVsIndividual(forgetting, [0.5]), /1 individual accuracies for 3 tasks/);
});

test('summary bundles all metrics and rejects a missing learned entry', () => {
  const s = summarizeContinual(forgetting, [0.5, 0.25, 0.75]);
  assert.equal(s.numTasks, 3);
  assert.equal(s.backwardTransfer, -0.25);
  assert.equal(s.noForgetting, false);
  assert.equal(s.forwardTransfer?.mean, 0.25);
  assert.equal(summarizeContinual(forgetting).forwardTransfer, undefined);
  assert.throws(() => averageAccuracy([[0.5], [0.5, null]]), /R\[1\]\[1\]/);
  assert.throws(() => backwardTransfer([[NaN], [0.5, 0.5]]), /R\[0\]\[0\]/);
});
