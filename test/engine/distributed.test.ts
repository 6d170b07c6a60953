// Data-parallel training over c10d/gloo: 2 ranks × batch 16 end where one process × batch 32 ends (the same steps,
// rank 0's decisions), the two ranks hold bit-identical replicas, and each rank's loader slice is exactly its part
// of the one-process batch, augmentation included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatchLoader, mulberry32 } from '../../src/data/index.ts';
import { FACE_AUGMENT } from '../../src/tasks/image-task-data.ts';
import { runScenario, type Outcome, type Scenario } from './ddp-scenario.ts';
import { freePort, glooSkip } from './ddp-support.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * fp32 tolerance between 2 ranks and one process: the allreduce sums two 16-image gradients where the one process
 * reduces 32 images at once, so the float rounding differs (~1e-7 relative per step; measured max 1.2e-7 after 6
 * SGD steps). 1e-5 leaves room for that and still catches any real difference (a slice read twice, a gradient not
 * averaged, a step missed all move weights by 1e-3 or more).
 */
const TOLERANCE = 1e-5;

/** Runs `scenario` as 2 rank processes with `batch` images each; returns both outcomes. */
async function twoRanks(scenario: Scenario, batch: number): Promise<[Outcome, Outcome]> {
  const dir = mkdtempSync(join(tmpdir(), 'paenet-ddp-'));
  const port = await freePort();
  try {
    const runs = [0, 1].map(
      (rank) =>
        new Promise<Outcome>((resolve, reject) => {
          const out = join(dir, `rank${rank}.json`);
          const env = { ...process.env, RANK: String(rank), WORLD_SIZE: '2', MASTER_PORT: String(port), PAENET_DIST_TIMEOUT_S: '60' };
          const child = spawn(process.execPath, ['--import', 'tsx', 'test/engine/ddp-rank.ts', scenario, String(batch), out], {
            cwd: root,
            env: { ...env, OMP_NUM_THREADS: '1', OMP_WAIT_POLICY: 'PASSIVE' },
            stdio: ['ignore', 'ignore', 'pipe'],
            timeout: 180_000,
          });
          let stderr = '';
          child.stderr.setEncoding('utf8').on('data', (d: string) => void (stderr += d));
          child.on('close', (code) =>
            code === 0
              ? resolve(JSON.parse(readFileSync(out, 'utf8')) as Outcome)
              : reject(new Error(`rank ${rank} exited ${code}:\n${stderr}`)),
          );
        }),
    );
    return (await Promise.all(runs)) as [Outcome, Outcome];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Largest |a − b| over the float tensors; owner maps must be equal outright. */
function compareStates(actual: Outcome, expected: Outcome): number {
  assert.deepEqual(Object.keys(actual.state).sort(), Object.keys(expected.state).sort(), 'the same tensors');
  let max = 0;
  for (const [name, a] of Object.entries(actual.state)) {
    const b = expected.state[name]!;
    assert.equal(a.length, b.length, `${name}: size`);
    if (name.endsWith('/owner')) {
      assert.deepEqual(a, b, `${name}: owner map`);
      continue;
    }
    for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  }
  return max;
}

test('the loader gives each of 2 ranks its half of the one-process batch, augmented as that process augments it', async () => {
  const size = 16;
  const n = 40;
  const rng = mulberry32(5);
  const pixels = Uint8Array.from({ length: n * size * size * 3 }, () => Math.floor(rng.next() * 256));
  const labels = Array.from({ length: n }, (_, i) => i % 3);
  const make = (batchSize: number, shard?: { rank: number; size: number }) =>
    new BatchLoader(
      { pixels, labels, size },
      { batchSize, seed: 9, augment: { ...FACE_AUGMENT, eraseProb: 0.5 }, worker: false, ...(shard ? { shard } : {}) },
    );
  const one = make(16);
  const ranks = [make(8, { rank: 0, size: 2 }), make(8, { rank: 1, size: 2 })];
  try {
    // 40 images, global batch 16: two full batches and a last one of 8 (4 per rank).
    assert.equal(one.batchesPerEpoch, 3);
    assert.deepEqual(
      ranks.map((r) => r.batchesPerEpoch),
      [3, 3],
    );
    for (const epoch of [0, 1]) {
      const whole = [];
      for await (const b of one.epoch(epoch)) whole.push(b);
      const parts = await Promise.all(
        ranks.map(async (r) => {
          const out = [];
          for await (const b of r.epoch(epoch)) out.push(b);
          return out;
        }),
      );
      whole.forEach((b, k) => {
        const [p0, p1] = [parts[0]![k]!, parts[1]![k]!];
        assert.equal(p0.global, b.n);
        assert.deepEqual([...p0.indices, ...p1.indices], [...b.indices], `epoch ${epoch} batch ${k}: the same images`);
        assert.deepEqual([...p0.y, ...p1.y], [...b.y]);
        const joined = new Float32Array(b.x.length);
        joined.set(p0.x);
        joined.set(p1.x, p0.x.length);
        assert.ok(
          Buffer.from(joined.buffer).equals(Buffer.from(b.x.buffer, b.x.byteOffset, b.x.byteLength)),
          `epoch ${epoch} batch ${k}: the same pixels`,
        );
      });
    }
  } finally {
    await Promise.all([one, ...ranks].map((l) => l.close()));
  }
});

test('2 ranks × batch 16 train the weights 1 process × batch 32 trains, to fp32 rounding', { skip: glooSkip }, async () => {
  const [r0, r1] = await twoRanks('train', 16);
  // The replicas are one network, bit for bit.
  assert.deepEqual(r1, r0, 'rank 1 holds exactly rank 0 state');
  // The same steps in one process: batches of 32, each half normalised by its own BN statistics as a rank does.
  const reference = await runScenario('train', 16, 2);
  const diff = compareStates(r0, reference);
  assert.ok(diff <= TOLERANCE, `max weight difference ${diff} > ${TOLERANCE}`);
  assert.deepEqual(r0.accuracies, reference.accuracies, 'the validation scores rank 0 measured and every rank received');
  // Without the per-rank BN statistics the run really is another one: the comparison can tell them apart.
  const plain = await runScenario('train', 32);
  assert.ok(compareStates(r0, plain) > 1e-3, 'one batch-32 BN differs from two batch-16 BNs');
});

test(
  '2 ranks pack a task with one pruning step as 1 process does: same owner maps, records and decisions',
  { skip: glooSkip },
  async () => {
    const [r0, r1] = await twoRanks('pack', 16);
    assert.deepEqual(r1, r0, 'rank 1 holds exactly rank 0 state and took the same decisions');
    const reference = await runScenario('pack', 16, 2);
    const diff = compareStates(r0, reference);
    assert.ok(diff <= TOLERANCE, `max weight difference ${diff} > ${TOLERANCE}`);
    assert.deepEqual(r0.records, reference.records, 'pruning records (ratio, realised ratio, accuracy)');
    assert.deepEqual(r0.decisions, reference.decisions);
    assert.equal(r0.ratio, reference.ratio);
    assert.equal(r0.ownedWeights, reference.ownedWeights);
    assert.ok(
      r0.records!.some((r) => r.ratio > 0 && r.realised > 0.4),
      'the pruning step freed weights',
    );
  },
);
