// Expansion: new channels after the old ones, old outputs bit-identical, new positions free, the new task gets only
// free + new weights; and packTask expands when the goal is missed in the free capacity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed, tidy } from '../../src/engine/index.ts';
import { MemoryEventLog } from '../../src/pae/events.ts';
import { expand } from '../../src/pae/expander.ts';
import { PackableNet } from '../../src/pae/network.ts';
import { countOwned, openFree, releaseToRatio } from '../../src/pae/ownership.ts';
import { packTask } from '../../src/pae/strategy.ts';
import { trainTask } from '../../src/pae/trainer.ts';
import { assertSameBytes, FAST_PRUNE, FAST_TRAIN, outputBytes, ownersOf, tinyConfig, TINY_WEIGHTS, weightsOf } from './helpers.ts';
import { SyntheticTask } from './synthetic.ts';

/** Flat index of element (o, i, rest) in a row-major [O, I, ...rest] tensor with `inner` elements per (o, i). */
const flat = (o: number, i: number, r: number, inputs: number, inner: number): number => (o * inputs + i) * inner + r;

test('expand() keeps old tasks bit-identical, puts old weights in the top-left slice and gives the new task only free + new weights', async () => {
  manualSeed(41);
  const net = PackableNet.create(tinyConfig());
  const d1 = new SyntheticTask('quadrant', { seed: 41 });
  const d2 = new SyntheticTask('stripes', { seed: 42 });
  try {
    // Two trained tasks and some free room: task 1 keeps 60 %, task 2 half of the rest, 20 % free.
    for (const [id, d, ratio] of [
      [1, d1, 0.4],
      [2, d2, 0.5],
    ] as const) {
      net.addTaskSlot(id, 'cumulative', { kind: 'linear', classes: d.classes });
      openFree(net, id);
      await trainTask(net, id, d, { ...FAST_TRAIN, epochs: 1 });
      for (const l of net.layers) releaseToRatio(l, id, ratio);
    }
    const outputs = [outputBytes(net, 1, d1.probe), outputBytes(net, 2, d2.probe)];
    const shapes = net.layers.map((l) => l.weight.shape);
    const weights = net.layers.map(weightsOf);
    const owners = net.layers.map(ownersOf);
    const freeBefore = net.layers.reduce((n, l) => n + countOwned(l, 0), 0);

    // Size ratio 1.2 ⇒ width ×√1.2: stages 8, 16, 32 → floor(8.76) = 8, floor(17.53) = 17, floor(35.05) = 35.
    assert.deepEqual(expand(net, 1.2), { before: TINY_WEIGHTS, after: 216 + 17 * 8 * 9 + 35 * 17 * 9 + 32 * 35 });
    assert.deepEqual(
      net.layers.map((l) => l.weight.shape),
      [
        [8, 3, 3, 3],
        [17, 8, 3, 3],
        [35, 17, 3, 3],
        [32, 35],
      ],
    );
    assert.equal(net.totalWeights(), 7915);
    assert.deepEqual(net.config.expansions, [1.2]);

    assertSameBytes(outputBytes(net, 1, d1.probe), outputs[0]!, 'task 1 outputs after expand()');
    assertSameBytes(outputBytes(net, 2, d2.probe), outputs[1]!, 'task 2 outputs after expand()');

    // Old values and owners at the same (out, in, kh, kw) indices; every new position is free (owner 0).
    const newIndex: boolean[][] = [];
    net.layers.forEach((l, li) => {
      const [O, I] = shapes[li]!;
      const [O2, I2] = l.weight.shape;
      const inner = l.weight.numel / (O2! * I2!);
      const w = weightsOf(l);
      const own = ownersOf(l);
      const isOld = new Array<boolean>(w.length).fill(false);
      for (let o = 0; o < O!; o++) {
        for (let i = 0; i < I!; i++) {
          for (let r = 0; r < inner; r++) {
            const a = flat(o, i, r, I!, inner);
            const b = flat(o, i, r, I2!, inner);
            isOld[b] = true;
            assert.ok(Object.is(w[b], weights[li]![a]), `${l.spec.name} (${o},${i},${r}) keeps its value`);
            assert.equal(own[b], owners[li]![a], `${l.spec.name} (${o},${i},${r}) keeps its owner`);
          }
        }
      }
      let nonZeroNew = 0;
      isOld.forEach((old, b) => {
        if (old) return;
        assert.equal(own[b], 0, `${l.spec.name}[${b}] (new) is free`);
        if (w[b] !== 0) nonZeroNew++;
      });
      // New weights carry the layer initialiser (not zeros) so the new task starts from a usable point.
      const added = w.length - isOld.filter(Boolean).length;
      assert.ok(added === 0 || nonZeroNew > 0.9 * added, `${l.spec.name}: ${nonZeroNew}/${added} new weights initialised`);
      newIndex.push(isOld.map((x) => !x));
    });

    // The new task opens exactly the old free weights plus the 915 new ones, and nothing of tasks 1 and 2.
    net.addTaskSlot(3, 'cumulative', { kind: 'linear', classes: d2.classes });
    assert.equal(net.slot(3).level, 1);
    const preOpen = net.layers.map(ownersOf);
    assert.equal(openFree(net, 3), freeBefore + 915);
    net.layers.forEach((l, li) => {
      const own = ownersOf(l);
      own.forEach((o, b) => {
        const was = preOpen[li]![b]!;
        if (o === 3) assert.ok(was === 0, `${l.spec.name}[${b}] given to task 3 was ${newIndex[li]![b] ? 'new' : 'free'}`);
        else assert.equal(o, was, `${l.spec.name}[${b}]: owner of an older task unchanged`);
      });
    });
    // Training the new, wider task still leaves the old ones untouched.
    await trainTask(net, 3, d2, { ...FAST_TRAIN, epochs: 1 });
    assertSameBytes(outputBytes(net, 1, d1.probe), outputs[0]!, 'task 1 outputs after training task 3');
    assertSameBytes(outputBytes(net, 2, d2.probe), outputs[1]!, 'task 2 outputs after training task 3');
    // The old tasks' BN stays at the width they learned with; the new task's BN is wider.
    assert.equal(net.layer('conv2').norm(1).weight.numel, 32);
    assert.equal(net.layer('conv2').norm(3).weight.numel, 35);
    assert.equal(
      tidy(() => net.forward(d2.probe, 3).shape[1]),
      d2.classes,
    );
  } finally {
    net.dispose();
    d1.dispose();
    d2.dispose();
  }
});

test('expand() refuses a size ratio ≤ 1', () => {
  const net = PackableNet.create(tinyConfig());
  try {
    assert.throws(() => expand(net, 1), /size ratio must be > 1/);
    assert.deepEqual(net.config.expansions, []);
  } finally {
    net.dispose();
  }
});

test('packTask expands when the goal is missed in the free capacity: expand event, wider net, expansions recorded', async () => {
  manualSeed(43);
  const net = PackableNet.create(tinyConfig());
  const data = new SyntheticTask('channel', { seed: 43 });
  const log = new MemoryEventLog();
  try {
    const r = await packTask(net, 1, { kind: 'linear', classes: data.classes }, data, {
      train: FAST_TRAIN,
      prune: FAST_PRUNE,
      goal: 1.01,
      maxExpansions: 1,
      skipPruning: true,
      events: log,
    });
    const expandEvents = log.events.filter((e) => e.type === 'expand');
    assert.deepEqual(expandEvents, [{ type: 'expand', task: 1, level: 1, sizeRatio: 1.2, weightsBefore: 7000, weightsAfter: 7915 }]);
    assert.equal(net.totalWeights(), 7915);
    assert.deepEqual(net.config.expansions, [1.2]);
    assert.equal(r.expansions, 1);
    assert.equal(net.slot(1).level, 1, 'the task was redone at the new width');
    assert.match(r.decisions[0]!, /^expand: best .* < goal 1\.0100 in the free capacity/);
    assert.match(r.decisions[1]!, /^goal-missed: .*expansion limit \(1\)/);
    // The first attempt was rolled back: the task owns every weight of the wider net, once.
    assert.equal(r.ownedWeights, 7915);
    assert.equal(net.layers[0]!.norms.size, 1);
    // The training epochs of both attempts were logged (3 each).
    assert.equal(log.events.filter((e) => e.type === 'epoch').length, 2 * FAST_TRAIN.epochs);
  } finally {
    net.dispose();
    data.dispose();
  }
});
