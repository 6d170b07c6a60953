// A 'trained' goal: with no individual network, pruning is held to the task's own unpruned accuracy minus a margin.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { manualSeed } from '../../src/engine/index.ts';
import { PackableNet } from '../../src/pae/network.ts';
import { packTask } from '../../src/pae/strategy.ts';
import { FAST_PRUNE, FAST_TRAIN, tinyConfig } from './helpers.ts';
import { SyntheticTask } from './synthetic.ts';

async function pack(margin: number): Promise<{ trained: number; accuracy: number; ratio: number; tested: number[] }> {
  manualSeed(5);
  const net = PackableNet.create(tinyConfig());
  const data = new SyntheticTask('quadrant', { seed: 2 });
  try {
    const r = await packTask(net, 1, { kind: 'linear', classes: data.classes }, data, {
      train: FAST_TRAIN,
      prune: { ...FAST_PRUNE, ratios: [0.3, 0.6, 0.9], stopBelowGoal: false },
      goal: null,
      trainedGoalMargin: margin,
      maxExpansions: 0,
    });
    return { trained: r.trainedAccuracy, accuracy: r.accuracy, ratio: r.ratio, tested: r.records.map((x) => x.accuracy) };
  } finally {
    net.dispose();
  }
}

test("a 'trained' goal keeps the largest ratio within the margin of the task's own unpruned accuracy", async () => {
  const strict = await pack(0);
  assert.ok(strict.accuracy >= strict.trained, `kept ${strict.accuracy} ≥ trained ${strict.trained}`);
  const loose = await pack(1);
  // Any accuracy is within a margin of 1: the ladder keeps its last ratio.
  assert.equal(loose.ratio, 0.9);
  // And with margin 0 a ratio whose accuracy fell below the trained one is never kept.
  assert.ok(strict.ratio <= loose.ratio);
});
