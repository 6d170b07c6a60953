// bf16 training: autocast casts inside its region only, never reuses a stale bf16 copy of a weight after the
// optimizer moved it, learns as well as fp32, and leaves every earlier task bit-identical (fp32 evaluation).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autocast, autocastActive, F, manualSeed, noGrad, randn, resolvePrecision, cpuHasBf16, tidy } from '../../src/engine/index.ts';
import { PackableNet } from '../../src/pae/network.ts';
import { openFree } from '../../src/pae/ownership.ts';
import { packTask } from '../../src/pae/strategy.ts';
import { cosineLr, trainTask } from '../../src/pae/trainer.ts';
import { assertSameBytes, FAST_TRAIN, outputBytes, tinyConfig } from '../pae/helpers.ts';
import { SyntheticTask } from '../pae/synthetic.ts';

test('autocast: convs and matmuls run in bf16 inside the region, fp32 outside; regions nest', () => {
  tidy(() => {
    const x = randn([2, 3, 8, 8]);
    const w = randn([4, 3, 3, 3]);
    assert.equal(autocastActive(), false);
    const inside = autocast('bf16', () => {
      assert.equal(autocastActive(), true);
      autocast('bf16', () => assert.equal(autocastActive(), true));
      assert.equal(autocastActive(), true, 'an inner region does not close the outer one');
      return F.conv2d(x, w, null, { padding: 1 }).dtype;
    });
    assert.equal(inside, 'bfloat16');
    assert.equal(autocastActive(), false);
    assert.equal(F.conv2d(x, w, null, { padding: 1 }).dtype, 'float32');
    assert.equal(
      autocast('fp32', () => F.conv2d(x, w, null, { padding: 1 }).dtype),
      'float32',
    );
  });
});

test('autocast: a weight updated between two regions is cast afresh (no stale bf16 copy)', () => {
  tidy(() => {
    const x = randn([4, 8]);
    const w = randn([8, 8]);
    w.requiresGrad = true; // autocast caches casts of leaf tensors that require grad: the trap
    const before = autocast('bf16', () => x.matmul(w).float());
    noGrad(() => w.mul_(2)); // what optimizer.step() does to a weight between two steps
    const after = autocast('bf16', () => x.matmul(w).float());
    const expected = before.mul(2);
    assert.ok(after.sub(expected).abs().max().item() < 0.05 * expected.abs().max().item(), 'the second forward saw the updated weight');
  });
});

test('resolvePrecision: auto follows the CPU, explicit values stay, nonsense is one line', () => {
  assert.equal(resolvePrecision('auto'), cpuHasBf16() ? 'bf16' : 'fp32');
  assert.equal(resolvePrecision('fp32'), 'fp32');
  assert.equal(resolvePrecision('bf16'), 'bf16');
  assert.throws(() => resolvePrecision('fp8' as never), /--precision must be fp32, bf16 or auto, got 'fp8'/);
});

test('bf16 training reaches fp32 validation accuracy within 1 point, and earlier tasks stay bit-identical', async () => {
  const run = async (precision: 'fp32' | 'bf16'): Promise<{ accuracy: number; earlierSame: boolean }> => {
    manualSeed(11);
    const net = PackableNet.create(tinyConfig());
    const first = new SyntheticTask('quadrant', { seed: 3 });
    const second = new SyntheticTask('channel', { seed: 4, train: 192, val: 96 });
    try {
      // Task 1 packed in fp32 and pruned to free room for task 2.
      await packTask(net, 1, { kind: 'linear', classes: first.classes }, first, {
        train: FAST_TRAIN,
        prune: { ratios: [0.5], epochsPerStep: 1, rampEpochs: 0, frequency: 1, lr: 1e-3, stopBelowGoal: true },
        goal: 0,
        maxExpansions: 0,
      });
      const reference = outputBytes(net, 1, first.probe);
      net.addTaskSlot(2, 'cumulative', { kind: 'linear', classes: second.classes });
      openFree(net, 2);
      const r = await trainTask(net, 2, second, { ...FAST_TRAIN, epochs: 6, precision });
      let earlierSame = true;
      try {
        assertSameBytes(outputBytes(net, 1, first.probe), reference, 'task 1 after task 2');
      } catch {
        earlierSame = false;
      }
      return { accuracy: r.best, earlierSame };
    } finally {
      net.dispose();
    }
  };
  const fp32 = await run('fp32');
  const bf16 = await run('bf16');
  assert.ok(fp32.earlierSame && bf16.earlierSame, 'task 1 is bit-identical after training task 2 (fp32 and bf16)');
  assert.ok(fp32.accuracy > 0.6, `fp32 learns the task (${fp32.accuracy})`);
  assert.ok(bf16.accuracy >= fp32.accuracy - 0.01, `bf16 ${bf16.accuracy} within 1 point of fp32 ${fp32.accuracy}`);
});

test('cosine schedule: warm-up rises linearly, then anneals from the base lr to the minimum', () => {
  assert.equal(cosineLr(0.1, 0, 0, 100, 10), 0.01);
  assert.equal(cosineLr(0.1, 0, 9, 100, 10), 0.1);
  assert.equal(cosineLr(0.1, 0.001, 10, 100, 10), 0.1);
  assert.ok(Math.abs(cosineLr(0.1, 0.001, 55, 100, 10) - (0.001 + 0.099 / 2)) < 1e-12, 'half-way is the midpoint');
  assert.ok(Math.abs(cosineLr(0.1, 0.001, 100, 100, 10) - 0.001) < 1e-12, 'ends at the minimum');
});
