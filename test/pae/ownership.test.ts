// Gradient masking: a task's step moves only the weights it owns; old tasks' weights, BN and heads stay bit-identical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed, noGrad, tidy } from '../../src/engine/index.ts';
import { PackableNet } from '../../src/pae/network.ts';
import { countOwned, maskGradients, openFree, prunedRatio, releaseToRatio } from '../../src/pae/ownership.ts';
import { trainTask, defaultLoss } from '../../src/pae/trainer.ts';
import { FAST_TRAIN, ownersOf, rawBytes, tinyConfig, TINY_WEIGHTS, weightsOf } from './helpers.ts';
import { SyntheticTask } from './synthetic.ts';

/**
 * Task 1 owns half of every layer; task 2 owns a quarter and another quarter is free.
 * (Per layer: 216 → 108/54/54, 1152 → 576/288/288, 4608 → 2304/1152/1152, 1024 → 512/256/256.)
 */
function twoTasks(): PackableNet {
  manualSeed(3);
  const net = PackableNet.create(tinyConfig());
  net.addTaskSlot(1, 'cumulative', { kind: 'linear', classes: 4 });
  assert.equal(openFree(net, 1), TINY_WEIGHTS);
  for (const l of net.layers) releaseToRatio(l, 1, 0.5);
  net.addTaskSlot(2, 'cumulative', { kind: 'linear', classes: 3 });
  assert.equal(openFree(net, 2), 3500);
  for (const l of net.layers) releaseToRatio(l, 2, 0.5);
  assert.deepEqual(
    net.layers.map((l) => [countOwned(l, 1), countOwned(l, 2), countOwned(l, 0)]),
    [
      [108, 54, 54],
      [576, 288, 288],
      [2304, 1152, 1152],
      [512, 256, 256],
    ],
  );
  assert.equal(prunedRatio(net, 2), 0.5);
  return net;
}

test('openFree gives exactly the free weights to the new task and touches no owned weight', () => {
  const net = twoTasks();
  try {
    const before = net.layers.map(ownersOf);
    net.addTaskSlot(3, 'cumulative', { kind: 'linear', classes: 2 });
    assert.equal(openFree(net, 3), 54 + 288 + 1152 + 256);
    net.layers.forEach((l, li) => {
      const after = ownersOf(l);
      before[li]!.forEach((o, i) => assert.equal(after[i], o === 0 ? 3 : o, `${l.spec.name}[${i}]`));
    });
    assert.equal(openFree(net, 3), 0, 'nothing left to open');
  } finally {
    net.dispose();
  }
});

test('after backward + maskGradients for task 2, only task-2 weights have a non-zero gradient', () => {
  const net = twoTasks();
  const data = new SyntheticTask('channel', { seed: 4 });
  try {
    const wd = 5e-4;
    const raw: Float32Array[] = [];
    const masked: Float32Array[] = [];
    tidy(() => {
      const b = data.firstBatch();
      const loss = defaultLoss(net, 2, b);
      loss.backward();
      for (const l of net.layers) raw.push(Float32Array.from(l.weight.grad!.data() as Float32Array));
      maskGradients(net, 2, wd);
      for (const l of net.layers) masked.push(Float32Array.from(l.weight.grad!.data() as Float32Array));
      // Task 1's BN and head are not even in the graph; task 2's are.
      assert.equal(net.heads.get(1)!.weight.grad, null);
      assert.equal(net.layers[0]!.norm(1).bias.grad, null);
      assert.ok(net.heads.get(2)!.weight.grad!.abs().sum().item() > 0);
      assert.ok(net.layers[0]!.norm(2).bias.grad!.abs().sum().item() > 0);
      b.x.dispose();
      b.y.dispose();
    });
    net.layers.forEach((l, li) => {
      const owners = ownersOf(l);
      const w = weightsOf(l);
      let own = 0;
      let ownNonZero = 0;
      let oldNonZeroRaw = 0;
      let old = 0;
      owners.forEach((o, i) => {
        const g = masked[li]![i]!;
        if (o !== 2) {
          // g * 0 may be -0: numerically zero, and a zero step either way.
          assert.ok(g === 0, `${l.spec.name}[${i}] (owner ${o}) has gradient ${g}`);
          if (o === 1) {
            old++;
            if (raw[li]![i] !== 0) oldNonZeroRaw++;
          }
          return;
        }
        own++;
        if (g !== 0) ownNonZero++;
        // Owned: the raw gradient plus L2 decay of the weight.
        const expected = raw[li]![i]! + wd * w[i]!;
        assert.ok(Math.abs(g - expected) <= 1e-6 * Math.abs(expected) + 1e-12, `${l.spec.name}[${i}]: ${g} vs ${expected}`);
      });
      assert.ok(ownNonZero > 0.9 * own, `${l.spec.name}: ${ownNonZero}/${own} own weights have a gradient`);
      // Non-vacuous: before masking, task 1's weights (which task 2 computes with) did receive gradient.
      assert.ok(oldNonZeroRaw > 0.5 * old, `${l.spec.name}: ${oldNonZeroRaw}/${old} task-1 weights had a raw gradient`);
    });
  } finally {
    for (const l of net.layers) l.weight.zeroGrad();
    net.dispose();
    data.dispose();
  }
});

test("an epoch of trainTask for task 2 leaves task 1's weights, owners, BN and head bit-identical", async () => {
  const net = twoTasks();
  const data = new SyntheticTask('channel', { seed: 5 });
  try {
    // Give task 1 non-default BN statistics, as a trained task would have.
    net.training = true;
    noGrad(() => tidy(() => void net.forward(data.probe, 1)));
    net.training = false;
    const owners = net.layers.map(ownersOf);
    const weights = net.layers.map(weightsOf);
    const bytes = (task: number): Buffer[] => {
      const out: Buffer[] = [];
      for (const l of net.layers) {
        const n = l.norm(task);
        out.push(rawBytes(n.weight), rawBytes(n.bias), rawBytes(n.runningMean), rawBytes(n.runningVar));
      }
      const h = net.heads.get(task)!;
      out.push(rawBytes(h.weight), rawBytes(h.bias!));
      return out;
    };
    const task1 = bytes(1);
    const task2 = bytes(2);
    await trainTask(net, 2, data, { ...FAST_TRAIN, epochs: 1, weightDecay: 5e-4 });
    assert.deepEqual(bytes(1), task1, "task 1's BN (γ, β, running stats) and head are unchanged");
    assert.notDeepEqual(bytes(2), task2, "task 2's BN/head did train");
    net.layers.forEach((l, li) => {
      assert.deepEqual(ownersOf(l), owners[li], `${l.spec.name}: owner map unchanged by training`);
      const w = weightsOf(l);
      const bits = new Uint32Array(w.buffer);
      const oldBits = new Uint32Array(weights[li]!.buffer);
      let moved = 0;
      owners[li]!.forEach((o, i) => {
        if (o !== 2) assert.equal(bits[i], oldBits[i], `${l.spec.name}[${i}] (owner ${o}) changed: ${weights[li]![i]} → ${w[i]}`);
        else if (bits[i] !== oldBits[i]) moved++;
        if (o === 0) assert.equal(w[i], 0, 'free weights stay 0');
      });
      assert.ok(moved > 0.5 * countOwned(l, 2), `${l.spec.name}: ${moved} task-2 weights moved`);
    });
  } finally {
    net.dispose();
    data.dispose();
  }
});
