// The continual-learning methods behind one interface: the registry is complete, PackNet prunes to its fixed ratio
// whatever the goal, individual networks train alone, fine-tuning shares everything, ProgressiveNet adds frozen columns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed } from '../../src/engine/index.ts';
import { MemoryEventLog } from '../../src/pae/events.ts';
import { METHOD_IDS, METHODS, type MethodOptions } from '../../src/pae/methods/registry.ts';
import { PackableNet } from '../../src/pae/network.ts';
import { countOwned, prunedRatio } from '../../src/pae/ownership.ts';
import { assertSameBytes, FAST_PRUNE, FAST_TRAIN, outputBytes, tinyConfig, TINY_WEIGHTS } from './helpers.ts';
import { SyntheticTask } from './synthetic.ts';

const options = (o: Partial<MethodOptions> = {}): MethodOptions => ({ train: FAST_TRAIN, prune: FAST_PRUNE, goal: null, ...o });

/** Runs `body` on a fresh tiny net and a synthetic task, disposing both. */
async function withNet(seed: number, body: (net: PackableNet, data: SyntheticTask) => Promise<void>): Promise<void> {
  manualSeed(seed);
  const net = PackableNet.create(tinyConfig());
  const data = new SyntheticTask('quadrant', { seed });
  try {
    await body(net, data);
  } finally {
    net.dispose();
    data.dispose();
  }
}

test('the registry holds every method id once, under its own id, each with its own title', () => {
  assert.deepEqual(Object.keys(METHODS).sort(), [...METHOD_IDS].sort());
  for (const id of METHOD_IDS) assert.equal(METHODS[id].id, id);
  assert.equal(new Set(METHOD_IDS.map((id) => METHODS[id].title)).size, METHOD_IDS.length);
  // Only PAE prunes to a goal, so only PAE makes the workflow train an individual network first.
  assert.deepEqual(
    METHOD_IDS.filter((id) => METHODS[id].needsGoal),
    ['pae'],
  );
});

test('PackNet prunes one-shot to its fixed ratio and keeps it even below an unreachable goal, never expanding', async () => {
  await withNet(41, async (net, data) => {
    const log = new MemoryEventLog();
    const head = { kind: 'linear', classes: data.classes } as const;
    // PAE's ladder (0.3, 0.6) and a goal no ratio meets would keep ratio 0 and expand; PackNet ignores both.
    const r = await METHODS.packnet.learn(net, 1, head, data, options({ goal: 1.01, maxExpansions: 2, packnetRatio: 0.4, events: log }));
    assert.deepEqual(
      r.records.map((x) => x.ratio),
      [0, 0.4],
    );
    assert.equal(r.ratio, 0.4);
    assert.equal(prunedRatio(net, 1), 0.4, 'the network holds the fixed ratio');
    assert.equal(r.expansions, 0);
    assert.equal(net.totalWeights(), TINY_WEIGHTS);
    assert.match(r.decisions.at(-1)!, /^keep-ratio 0\.4: fixed ratio: kept 0\.4 whatever its accuracy/);
    assert.equal(log.events.filter((e) => e.type === 'expand').length, 0);
  });
});

test('an individual network trains every weight of a network of its own, and refuses a network that holds a task', async () => {
  await withNet(42, async (net, data) => {
    const head = { kind: 'linear', classes: data.classes } as const;
    const r = await METHODS.individual.learn(net, 1, head, data, options());
    assert.equal(r.ownedWeights, TINY_WEIGHTS);
    assert.equal(r.accuracy, await data.validate(net, 1));
    await assert.rejects(
      METHODS.individual.learn(net, 2, head, data, options()),
      /individual network learns one task alone.*holds task\(s\) 1/,
    );
  });
});

test('fine-tuning gives each new task every weight of the one backbone, and needs every task to share all weights', async () => {
  await withNet(43, async (net, data) => {
    const head = { kind: 'linear', classes: data.classes } as const;
    await METHODS.finetune.learn(net, 1, head, data, options());
    const r = await METHODS.finetune.learn(net, 2, head, data, options());
    assert.equal(r.ownedWeights, TINY_WEIGHTS, 'task 2 took over every weight');
    assert.equal(
      net.layers.reduce((n, l) => n + countOwned(l, 1), 0),
      0,
    );
    assert.equal(net.slot(1).sharing, 'all', 'task 1 still computes with them');
  });
  await withNet(44, async (net, data) => {
    const head = { kind: 'linear', classes: data.classes } as const;
    await METHODS.pae.learn(net, 1, head, data, options({ skipPruning: true }));
    await assert.rejects(
      METHODS.finetune.learn(net, 2, head, data, options()),
      /fine-tuning needs a network whose every task shares all weights/,
    );
  });
});

test("ProgressiveNet adds a column per task and leaves the earlier columns' outputs bit-identical", async () => {
  await withNet(45, async (net, data) => {
    const head = { kind: 'linear', classes: data.classes } as const;
    const first = await METHODS.progressive.learn(net, 1, head, data, options());
    assert.equal(first.expansions, 0);
    assert.equal(first.ownedWeights, TINY_WEIGHTS);
    const before = outputBytes(net, 1, data.probe);
    const second = await METHODS.progressive.learn(net, 2, head, data, options());
    assert.equal(second.expansions, 1);
    assert.ok(net.totalWeights() > TINY_WEIGHTS, 'the backbone grew');
    assert.ok(second.ownedWeights > 0);
    assertSameBytes(outputBytes(net, 1, data.probe), before, 'task 1 after column 2');
  });
});
