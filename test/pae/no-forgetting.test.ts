// No forgetting, proven bit for bit: three tasks packed with pruning and one expansion never change an earlier task's
// outputs — not after training, not after any pruning step, not after the expansion, not after a save/load round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { liveTensors, manualSeed } from '../../src/engine/index.ts';
import { loadModel, saveModel } from '../../src/pae/model-file.ts';
import { PaeModel, taskRecord } from '../../src/pae/model.ts';
import { PackableNet } from '../../src/pae/network.ts';
import { countOwned } from '../../src/pae/ownership.ts';
import { packTask, type PackResult } from '../../src/pae/strategy.ts';
import type { PaeEvent } from '../../src/pae/events.ts';
import {
  assertSameBytes,
  FAST_PRUNE,
  FAST_TRAIN,
  outputBytes,
  ownersOf,
  PROVENANCE,
  rawBytes,
  tempDir,
  tinyConfig,
  TINY_WEIGHTS,
  weightsOf,
} from './helpers.ts';
import { SyntheticTask, type Rule } from './synthetic.ts';

test('packing 3 tasks (pruning + a forced expansion) keeps every earlier task bit-identical, also after save/load', async () => {
  const baseline = liveTensors();
  const { dir, cleanup } = tempDir();
  manualSeed(7);
  const net = PackableNet.create(tinyConfig());
  const model = new PaeModel(net, [], PROVENANCE);
  const rules: Rule[] = ['quadrant', 'channel', 'stripes'];
  const data = rules.map((r, i) => new SyntheticTask(r, { seed: 10 + i }));
  // Task 1 meets goal 0 at every ratio (keeps the largest); task 2 cannot reach 1.01 and may not expand, so it keeps
  // every free weight; task 3 then finds no free room and has to expand.
  const plans = [
    { goal: 0, maxExpansions: 0 },
    { goal: 1.01, maxExpansions: 0 },
    { goal: 0, maxExpansions: 1 },
  ];
  const reference = new Map<number, Buffer>();
  const checkpoints: string[] = [];
  const checkEarlier = (when: string): void => {
    for (const [t, ref] of reference) assertSameBytes(outputBytes(net, t, data[t - 1]!.probe), ref, `task ${t} outputs ${when}`);
    checkpoints.push(when);
  };
  const events: PaeEvent[] = [];
  const sink = {
    emit(e: PaeEvent): void {
      events.push(e);
      if (e.type === 'expand') checkEarlier(`after expansion for task ${e.task}`);
    },
  };
  const results: PackResult[] = [];
  try {
    for (const [i, plan] of plans.entries()) {
      const id = i + 1;
      const d = data[i]!;
      const head = { kind: 'linear' as const, classes: d.classes };
      const r = await packTask(net, id, head, d, {
        train: FAST_TRAIN,
        prune: FAST_PRUNE,
        goal: plan.goal,
        maxExpansions: plan.maxExpansions,
        events: sink,
        onCheckpoint: (c) => checkEarlier(`task ${id} ${c.stage}${c.pruning ? ` ratio ${c.pruning.records.at(-1)!.ratio}` : ''}`),
      });
      checkEarlier(`after packing task ${id}`);
      for (const l of net.layers) {
        const w = weightsOf(l);
        ownersOf(l).forEach((o, j) =>
          assert.ok(o !== 0 || Object.is(w[j], 0), `${l.spec.name}[${j}]: a free weight is exactly 0 after task ${id}`),
        );
      }
      results.push(r);
      model.tasks.push(
        taskRecord(
          model,
          {
            name: rules[i]!,
            kind: 'classify',
            labels: Array.from({ length: d.classes }, (_, c) => `c${c}`),
            head,
            goal: { value: plan.goal, source: 'number' },
            metricName: 'top1',
          },
          r,
        ),
      );
      reference.set(id, outputBytes(net, id, d.probe));
    }

    // The scenario really happened: pruning kept 0.6 for task 1, task 2 kept all, task 3 expanded (no room).
    assert.deepEqual(
      results.map((r) => r.ratio),
      [0.6, 0, 0.6],
    );
    assert.deepEqual(
      results.map((r) => r.expansions),
      [0, 0, 1],
    );
    assert.deepEqual(net.config.expansions, [1.2]);
    assert.ok(net.totalWeights() > TINY_WEIGHTS, 'the backbone grew');
    assert.deepEqual(
      results.map((r) => net.slot(r.task).level),
      [0, 0, 1],
    );
    assert.ok(
      results[2]!.decisions.some((d) => d.startsWith('expand: only 0 free weights')),
      results[2]!.decisions.join(' | '),
    );
    // 40 % of 7000 kept by task 1 (per-layer rounding: 86 + 461 + 1843 + 410), the other 4200 by task 2.
    assert.equal(results[0]!.ownedWeights, 2800);
    assert.equal(results[1]!.ownedWeights, 4200);
    // The checks above ran at every resumable point of tasks 2 and 3 and right after the expansion.
    for (const when of [
      'task 2 trained',
      'task 2 pruning ratio 0.3',
      'after packing task 2',
      'after expansion for task 3',
      'task 3 trained',
      'task 3 pruning ratio 0.3',
      'task 3 pruning ratio 0.6',
      'after packing task 3',
    ]) {
      assert.ok(checkpoints.includes(when), `no-forgetting check ran ${when} (ran: ${checkpoints.join(', ')})`);
    }
    assert.equal(events.filter((e) => e.type === 'expand').length, 1);

    // Save/load round trip: every task's outputs, every owner map and weight are the same bytes.
    const path = join(dir, 'three.pae');
    saveModel(model, path);
    const loaded = loadModel(path);
    try {
      for (const t of [1, 2, 3])
        assertSameBytes(outputBytes(loaded.net, t, data[t - 1]!.probe), reference.get(t)!, `task ${t} outputs after save/load`);
      loaded.net.layers.forEach((l, i) => {
        assertSameBytes(rawBytes(l.weight), rawBytes(net.layers[i]!.weight), `${l.spec.name} weights after save/load`);
        assert.deepEqual(ownersOf(l), ownersOf(net.layers[i]!), `${l.spec.name} owners after save/load`);
        for (const t of [1, 2, 3]) assert.equal(countOwned(l, t), countOwned(net.layers[i]!, t));
      });
      assert.deepEqual(
        loaded.tasks.map((t) => t.name),
        rules,
      );
      assert.deepEqual(loaded.config.expansions, [1.2]);
    } finally {
      loaded.dispose();
    }
  } finally {
    net.dispose();
    for (const d of data) d.dispose();
    cleanup();
  }
  assert.equal(liveTensors(), baseline, 'packing, saving and loading leave no live tensors behind');
});
