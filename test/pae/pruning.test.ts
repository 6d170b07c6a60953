// Pruning: exact per-layer ratios over the (free + own) pool, smallest magnitudes first, the cubic ramp, and the
// turning-point rule (largest ratio meeting the goal) both as a unit and through packTask on synthetic data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed, noGrad, tensor, tidy } from '../../src/engine/index.ts';
import { MemoryEventLog } from '../../src/pae/events.ts';
import { PackableNet } from '../../src/pae/network.ts';
import { countOwned, prunedRatio, releaseToRatio } from '../../src/pae/ownership.ts';
import { chooseRatio, cubicRamp, type RatioRecord } from '../../src/pae/pruner.ts';
import { packTask } from '../../src/pae/strategy.ts';
import { FAST_PRUNE, FAST_TRAIN, ownersOf, tinyConfig, TINY_WEIGHTS, weightsOf } from './helpers.ts';
import { SyntheticTask } from './synthetic.ts';

test('releaseToRatio frees exactly round(ratio·P) of the pool, smallest |w| of the task first, and nothing else', () => {
  manualSeed(21);
  const net = PackableNet.create(tinyConfig());
  try {
    // Task 1 owns every position with i mod 10 < 3 (a magnitude-blind 30 %, so its weights are as small as task 2's),
    // task 2 the rest; all weights keep their initial (non-zero) values.
    net.addTaskSlot(1, 'cumulative', { kind: 'linear', classes: 4 });
    net.addTaskSlot(2, 'cumulative', { kind: 'linear', classes: 2 });
    for (const l of net.layers) {
      const owners = Uint8Array.from({ length: l.weight.numel }, (_, i) => (i % 10 < 3 ? 1 : 2));
      noGrad(() => tidy(() => void l.owner.copy_(tensor(owners, l.owner.shape, { dtype: 'uint8' }))));
      l.ownersChanged();
    }
    // Hand values for conv2 (4608 weights): task 1 holds 460·3 + 3 = 1383, task 2's pool P = 3225.
    assert.equal(countOwned(net.layer('conv2'), 1), 1383);
    assert.equal(countOwned(net.layer('conv2'), 2), 3225);
    const conv2Free: number[] = [];
    for (const ratio of [0.2, 0.45, 0.8]) {
      for (const l of net.layers) {
        const owners = ownersOf(l);
        const weights = weightsOf(l);
        const pool = owners.filter((o) => o === 0 || o === 2).length;
        const freeBefore = owners.filter((o) => o === 0).length;
        const target = Math.round(ratio * pool);
        // Plain-JS oracle: the task's |w| sorted ascending; the `target − free` smallest must go.
        const mine = [...owners.keys()]
          .filter((i) => owners[i] === 2)
          .map((i) => Math.abs(weights[i]!))
          .sort((a, b) => a - b);
        const n = target - freeBefore;
        assert.ok(mine[0]! > 0, 'the oracle compares real (non-zero) magnitudes');
        const released = releaseToRatio(l, 2, ratio);
        assert.equal(released, n, `${l.spec.name} at ${ratio}: released count`);
        const after = ownersOf(l);
        const w = weightsOf(l);
        const freeAfter = after.filter((o) => o === 0).length;
        const ownAfter = after.filter((o) => o === 2).length;
        assert.equal(freeAfter / (freeAfter + ownAfter), target / pool, `${l.spec.name}: free/(free+own) at ${ratio}`);
        assert.equal(freeAfter + ownAfter, pool, 'the pool does not change');
        const releasedAbs: number[] = [];
        owners.forEach((o, i) => {
          if (o === 1) assert.equal(after[i], 1, `${l.spec.name}[${i}]: task 1 keeps its weight`);
          if (o === 0) assert.equal(after[i], 0, 'free stays free');
          if (o === 2 && after[i] === 0) {
            releasedAbs.push(Math.abs(weights[i]!));
            assert.ok(Object.is(w[i], 0), `${l.spec.name}[${i}]: released weight is zeroed (got ${w[i]})`);
          } else {
            assert.ok(Object.is(w[i], weights[i]), `${l.spec.name}[${i}]: kept weight unchanged`);
          }
        });
        releasedAbs.sort((a, b) => a - b);
        assert.deepEqual(releasedAbs, mine.slice(0, n), `${l.spec.name} at ${ratio}: the released weights are the smallest |w| of task 2`);
      }
      conv2Free.push(countOwned(net.layer('conv2'), 0));
    }
    // conv2 by hand: round(0.2·3225) = 645, round(0.45·3225) = round(1451.25) = 1451, round(0.8·3225) = 2580.
    assert.deepEqual(conv2Free, [645, 1451, 2580]);
    // A lower ratio never takes weights back; a ratio outside [0, 1) is refused.
    const before = net.layers.map(ownersOf);
    for (const l of net.layers) assert.equal(releaseToRatio(l, 2, 0.3), 0);
    assert.deepEqual(net.layers.map(ownersOf), before);
    assert.throws(() => releaseToRatio(net.layers[0]!, 2, 1), /ratio must be in \[0, 1\)/);
    assert.throws(() => releaseToRatio(net.layers[0]!, 2, -0.1), /ratio must be in \[0, 1\)/);
    // The pruned rate over all layers, by hand: pools 150 + 805 + 3225 + 715 = 4895, freed at 0.8: 120 + 644 + 2580 + 572 = 3916.
    assert.equal(prunedRatio(net, 2), 3916 / 4895);
  } finally {
    net.dispose();
  }
});

test('cubicRamp follows s_end + (s_start − s_end)(1 − p)³ (hand values)', () => {
  const close = (actual: number, expected: number, what: string): void =>
    assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} vs ${expected}`);
  assert.equal(cubicRamp(0, 0.5, 0), 0);
  assert.equal(cubicRamp(0, 0.5, 1), 0.5);
  close(cubicRamp(0, 0.8, 0.5), 0.7, '0.8 − 0.8·0.125');
  close(cubicRamp(0.2, 0.6, 0.5), 0.55, '0.6 − 0.4·0.125');
  close(cubicRamp(0.1, 0.2, 0.75), 0.2 - 0.1 / 64, '0.2 − 0.1·0.25³');
  close(cubicRamp(0, 0.9, 0.1), 0.9 - 0.9 * 0.729, 'slow start: 0.9·(1 − 0.9³)');
  assert.equal(cubicRamp(0.3, 0.6, -1), 0.3, 'progress is clamped below');
  assert.equal(cubicRamp(0.3, 0.6, 2), 0.6, 'progress is clamped above');
});

const rec = (ratio: number, accuracy: number): RatioRecord => ({ ratio, realised: ratio, accuracy });

test('chooseRatio keeps the largest ratio meeting the goal, else the unpruned record', () => {
  const records = [rec(0, 0.9), rec(0.3, 0.91), rec(0.6, 0.88), rec(0.9, 0.7)];
  assert.equal(chooseRatio(records, 0.85).chosen.ratio, 0.6, 'not the most accurate (0.3), the largest meeting');
  assert.equal(chooseRatio(records, 0.9).chosen.ratio, 0.3);
  assert.equal(chooseRatio(records, 0.905).chosen.ratio, 0.3);
  assert.equal(chooseRatio(records, 0.7).chosen.ratio, 0.9, 'accuracy equal to the goal meets it');
  assert.equal(chooseRatio(records, 0).chosen.ratio, 0.9);
  const none = chooseRatio(records, 0.95);
  assert.equal(none.chosen.ratio, 0);
  assert.match(none.reason, /no ratio met the goal 0\.9500/);
  // A dip in the middle does not stop the scan: 0.6 meets the goal even though 0.3 does not.
  assert.equal(chooseRatio([rec(0, 0.9), rec(0.3, 0.8), rec(0.6, 0.86)], 0.85).chosen.ratio, 0.6);
  // No goal: the most accurate (first on ties).
  assert.equal(chooseRatio(records, null).chosen.ratio, 0.3);
  assert.equal(chooseRatio([rec(0, 0.5), rec(0.3, 0.5)], null).chosen.ratio, 0);
  assert.throws(() => chooseRatio([rec(0.3, 0.9)], 0.5), /lack the unpruned/);
});

test('packTask with an unreachable goal prunes nothing: ratio 0 kept, reason says no ratio met the goal', async () => {
  manualSeed(31);
  const net = PackableNet.create(tinyConfig());
  const data = new SyntheticTask('quadrant', { seed: 31 });
  const log = new MemoryEventLog();
  try {
    const r = await packTask(net, 1, { kind: 'linear', classes: data.classes }, data, {
      train: FAST_TRAIN,
      prune: FAST_PRUNE,
      goal: 1.01,
      maxExpansions: 0,
      events: log,
    });
    assert.equal(r.ratio, 0);
    assert.equal(r.ownedWeights, TINY_WEIGHTS, 'the task keeps every weight');
    assert.equal(prunedRatio(net, 1), 0);
    assert.match(r.decisions.at(-1)!, /^keep-ratio 0: no ratio met the goal 1\.0100/);
    // The ladder stopped after its first step (below the goal), and the decision was logged.
    assert.deepEqual(
      r.records.map((x) => x.ratio),
      [0, 0.3],
    );
    const decisions = log.events.filter((e) => e.type === 'decision').map((e) => (e.type === 'decision' ? e.decision : ''));
    assert.deepEqual(decisions, ['goal-missed', 'stop-pruning', 'keep-ratio 0']);
    assert.equal(r.accuracy, r.trainedAccuracy, 'the kept accuracy is the unpruned one');
  } finally {
    net.dispose();
    data.dispose();
  }
});

test('packTask with goal 0 runs the whole ladder and keeps its largest ratio', async () => {
  manualSeed(32);
  const net = PackableNet.create(tinyConfig());
  const data = new SyntheticTask('channel', { seed: 32 });
  const log = new MemoryEventLog();
  try {
    const prune = { ...FAST_PRUNE, ratios: [0.2, 0.5, 0.7] };
    const r = await packTask(net, 1, { kind: 'linear', classes: data.classes }, data, { train: FAST_TRAIN, prune, goal: 0, events: log });
    assert.deepEqual(
      r.records.map((x) => x.ratio),
      [0, 0.2, 0.5, 0.7],
    );
    // Realised ratios are exact per layer: 0.2 → 43+230+922+205 = 1400 free of 7000; 0.5 → 3500; 0.7 → 151+806+3226+717 = 4900.
    assert.deepEqual(
      r.records.map((x) => x.realised),
      [0, 0.2, 0.5, 0.7],
    );
    assert.equal(r.ratio, 0.7);
    assert.equal(r.ownedWeights, 2100);
    assert.equal(prunedRatio(net, 1), 0.7, 'the network holds the kept ratio');
    assert.match(r.decisions.at(-1)!, /^keep-ratio 0\.7: largest ratio/);
    assert.equal(log.events.filter((e) => e.type === 'prune-step').length, 3);
    assert.equal(log.events.filter((e) => e.type === 'expand').length, 0);
  } finally {
    net.dispose();
    data.dispose();
  }
});

test('rampEpochs 0 prunes one-shot at the first iteration of a step; a ramp starts from the previous ratio', async () => {
  // Records the task's pruned ratio each time the trainer asks for the next batch of a pruning step, i.e. after
  // the previous iteration's mask update.
  const seenDuringStep = async (rampEpochs: number): Promise<number[]> => {
    manualSeed(3);
    const net = PackableNet.create(tinyConfig());
    const inner = new SyntheticTask('quadrant', { train: 64, val: 16, batch: 8 });
    const seen: number[] = [];
    let pruning = false;
    const data = {
      batchesPerEpoch: inner.batchesPerEpoch,
      validate: inner.validate.bind(inner),
      async *batches(epoch: number) {
        for await (const b of inner.batches(epoch)) {
          if (pruning) seen.push(prunedRatio(net, 1));
          yield b;
        }
      },
    };
    try {
      await packTask(net, 1, { kind: 'linear', classes: 4 }, data, {
        train: { ...FAST_TRAIN, epochs: 1 },
        prune: { ...FAST_PRUNE, ratios: [0.6], epochsPerStep: 1, rampEpochs, frequency: 1 },
        goal: 0,
        events: { emit: (e) => void (e.type === 'task-start' || (e.type === 'epoch' && e.phase === 'train' && (pruning = true))) },
      });
      return seen;
    } finally {
      inner.dispose();
      net.dispose();
    }
  };
  const oneShot = await seenDuringStep(0);
  assert.equal(oneShot[0], 0, 'nothing is pruned before the step starts');
  assert.ok(
    oneShot.slice(1).every((r) => Math.abs(r - 0.6) < 1e-3),
    `one-shot: every later iteration at 0.6, saw ${oneShot}`,
  );
  const ramp = await seenDuringStep(1);
  assert.ok(ramp[1]! < 0.6 - 1e-3, `a ramp is still below the target after its first update, saw ${ramp}`);
});
