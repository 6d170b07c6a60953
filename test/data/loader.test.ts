// Tests of BatchLoader: epoch coverage, seeded order, worker/main-thread equality, clean shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BatchLoader, type Batch } from '../../src/data/loader.ts';
import { FACE_AUGMENT_STRONG, NORM_MEAN, NORM_SCALE } from '../../src/data/augment.ts';

const size = 4;
const count = 50;
const stride = size * size * 3;
// Image i is filled with the value i, so a batch's x tells which images it holds.
const pixels = new Uint8Array(count * stride);
for (let i = 0; i < count; i++) pixels.fill(i, i * stride, (i + 1) * stride);
const labels = Array.from({ length: count }, (_, i) => i % 3);

async function collect(loader: BatchLoader, epoch: number): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader.epoch(epoch)) out.push(b);
  return out;
}

test('each epoch visits every image once; x, y and indices agree', async () => {
  const loader = new BatchLoader({ pixels, labels, size }, { batchSize: 8, seed: 1 });
  try {
    for (const epoch of [0, 1]) {
      const batches = await collect(loader, epoch);
      assert.equal(batches.length, 7);
      assert.equal(loader.usesWorker, true);
      assert.deepEqual(
        batches.map((b) => b.n),
        [8, 8, 8, 8, 8, 8, 2],
      );
      const seen = batches.flatMap((b) => [...b.indices]);
      assert.deepEqual(
        [...seen].sort((a, b) => a - b),
        labels.map((_, i) => i),
      );
      assert.notDeepEqual(
        seen,
        labels.map((_, i) => i),
      ); // shuffled
      for (const b of batches) {
        assert.equal(b.x.length, b.n * 3 * size * size);
        for (let k = 0; k < b.n; k++) {
          const i = b.indices[k]!;
          assert.equal(b.y[k], labels[i]);
          assert.equal(b.x[k * 3 * size * size + 5], Math.fround((i - NORM_MEAN) / NORM_SCALE));
        }
      }
    }
  } finally {
    await loader.close();
  }
});

test('order is fixed by seed and epoch', async () => {
  const a = new BatchLoader({ pixels, labels, size }, { batchSize: 8, seed: 7, worker: false });
  const b = new BatchLoader({ pixels, labels, size }, { batchSize: 16, seed: 7, worker: false });
  const c = new BatchLoader({ pixels, labels, size }, { batchSize: 8, seed: 8, worker: false });
  assert.deepEqual(a.order(3), b.order(3));
  assert.notDeepEqual(a.order(3), a.order(4));
  assert.notDeepEqual(a.order(3), c.order(3));
  const flat = (bs: Batch[]): number[] => bs.flatMap((x) => [...x.indices]);
  assert.deepEqual(flat(await collect(a, 3)), [...a.order(3)]);
  await Promise.all([a.close(), b.close(), c.close()]);
});

test('augmented batches are identical from the worker and the main thread', async () => {
  const opts = { batchSize: 16, seed: 5, augment: { pad: 1 }, dropLast: true };
  const w = new BatchLoader({ pixels, labels, size }, { ...opts, worker: true });
  const m = new BatchLoader({ pixels, labels, size }, { ...opts, worker: false });
  const [bw, bm] = [await collect(w, 2), await collect(m, 2)];
  assert.equal(w.usesWorker, true);
  assert.equal(m.usesWorker, false);
  assert.equal(bw.length, 3);
  assert.deepEqual(
    bw.map((b) => b.x),
    bm.map((b) => b.x),
  );
  await w.close();
  await m.close();
});

test('the strong preset (rotation, colour, erasing) crosses to the worker and builds the same batches', async () => {
  const big = 24; // large enough that rotation and erasing visibly change every image
  const images = Uint8Array.from({ length: 8 * big * big * 3 }, (_, k) => (k * 37) % 256);
  const data = { pixels: images, labels: new Array(8).fill(0), size: big };
  const opts = { batchSize: 4, seed: 3, augment: FACE_AUGMENT_STRONG };
  const w = new BatchLoader(data, { ...opts, worker: true });
  const m = new BatchLoader(data, { ...opts, worker: false });
  const plain = new BatchLoader(data, { ...opts, augment: false, worker: false });
  try {
    const [bw, bm, bp] = [await collect(w, 1), await collect(m, 1), await collect(plain, 1)];
    assert.equal(w.usesWorker, true);
    assert.deepEqual(
      bw.map((b) => b.x),
      bm.map((b) => b.x),
    );
    assert.notDeepEqual(
      bw.map((b) => b.x),
      bp.map((b) => b.x),
    );
  } finally {
    await Promise.all([w.close(), m.close(), plain.close()]);
  }
});

test('a subset of indices; non-shared pixels are accepted', async () => {
  const loader = new BatchLoader({ pixels: Uint8Array.from(pixels), labels, size, indices: [4, 9, 2] }, { batchSize: 2, shuffle: false });
  const batches = await collect(loader, 0);
  assert.deepEqual(
    batches.map((b) => [...b.indices]),
    [[4, 9], [2]],
  );
  await loader.close();
  assert.throws(() => new BatchLoader({ pixels, labels: [1], size }, { batchSize: 2 }), /1 labels for 50 images/);
});

test('breaking early without close() does not keep the process alive', () => {
  const loaderUrl = new URL('../../src/data/loader.ts', import.meta.url).href;
  const script = `
    import { BatchLoader } from ${JSON.stringify(loaderUrl)};
    const loader = new BatchLoader({ pixels: new Uint8Array(new SharedArrayBuffer(40 * 48)), labels: new Array(40).fill(0), size: 4 }, { batchSize: 4, augment: {} });
    for await (const b of loader.epoch(0)) { if (!loader.usesWorker) process.exit(3); break; }
    console.log('done');`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    timeout: 15000,
    encoding: 'utf8',
  });
  assert.equal(r.error, undefined, 'child did not exit by itself');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'done');
});
