// "task 1 + own" sharing (the paper's share_only_task_1): a task sees task 1's weights and its own, never task 2's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed, noGrad, randn, tensor, tidy } from '../../src/engine/index.ts';
import { PackableNet } from '../../src/pae/network.ts';
import { outputBytes, tinyConfig } from './helpers.ts';

/** A tiny net whose weights are owned round-robin by tasks 1, 2, 3 (position i → task i % 3 + 1). */
function threeOwners(sharing3: 'cumulative' | 'task1'): PackableNet {
  manualSeed(11);
  const net = PackableNet.create(tinyConfig());
  noGrad(() => {
    for (const l of net.layers) {
      const n = l.owner.numel;
      const owners = tensor(
        Array.from({ length: n }, (_, i) => (i % 3) + 1),
        l.owner.shape,
        { dtype: 'uint8' },
      );
      l.owner.copy_(owners);
      owners.dispose();
      l.ownersChanged();
    }
  });
  net.addTaskSlot(1, 'cumulative', { kind: 'linear', classes: 2 });
  net.addTaskSlot(2, 'cumulative', { kind: 'linear', classes: 2 });
  net.addTaskSlot(3, sharing3, { kind: 'linear', classes: 2 });
  return net;
}

test("the use mask of 'task1' sharing is owner ∈ {1, k}; cumulative is 1 ≤ owner ≤ k", () => {
  for (const sharing of ['cumulative', 'task1'] as const) {
    const net = threeOwners(sharing);
    try {
      const l = net.layers[0]!;
      const mask = l.useMask(3, sharing).toArray();
      const owners = l.owner.toArray();
      owners.forEach((o, i) => {
        const expected = sharing === 'task1' ? o === 1 || o === 3 : o >= 1 && o <= 3;
        assert.equal(mask[i], expected ? 1 : 0, `${sharing}: position ${i} (owner ${o})`);
      });
    } finally {
      net.dispose();
    }
  }
});

test("with 'task1' sharing, task 2's weight values cannot change task 3's outputs; cumulatively they do", () => {
  for (const sharing of ['cumulative', 'task1'] as const) {
    const net = threeOwners(sharing);
    const x = randn([2, 3, 16, 16]);
    try {
      const before = outputBytes(net, 3, x);
      // Scale every weight owned by task 2.
      noGrad(() => {
        for (const l of net.layers) tidy(() => void l.weight.detach().copy_(l.weight.mul(l.owner.eq(2).float().mul(2).add(1))));
      });
      const after = outputBytes(net, 3, x);
      if (sharing === 'task1') assert.deepEqual(after, before, 'task 3 ignores task 2 under task1 sharing');
      else assert.notDeepEqual(after, before, 'task 3 uses task 2 cumulatively');
    } finally {
      x.dispose();
      net.dispose();
    }
  }
});
