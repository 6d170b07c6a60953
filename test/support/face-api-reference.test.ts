import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeImage } from '../../src/data/image.ts';
import { FACE_API_CROP_SIZE, FACE_API_DESCRIPTOR_LENGTH, faceApiRecognizer } from './face-api-reference.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dataDir = existsSync(join(root, 'data')) ? join(root, 'data') : join(root, '..', 'shared', 'data');
const celebaDir = join(dataDir, 'celeba-identity');

// The tfjs face-api uses (the same module instance the reference loads), to count live tensors.
const require = createRequire(import.meta.url);
const faceApiTf = () =>
  (
    require(join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'dist', 'face-api.node-wasm.js')) as {
      tf: { memory(): { numTensors: number } };
    }
  ).tf;

/** Three manifest rows: two of one identity, one of another. */
function pickImages(): { path: string; identity: string }[] {
  const lines = readFileSync(join(celebaDir, 'manifest.csv'), 'utf8').trim().split('\n');
  const header = lines[0]!.split(',');
  const pathCol = header.indexOf('path');
  const idCol = header.indexOf('identity');
  const rows = lines.slice(1).map((l) => {
    const f = l.split(',');
    return { path: join(celebaDir, f[pathCol]!), identity: f[idCol]! };
  });
  const a = rows[0]!;
  const a2 = rows.find((r) => r.identity === a.identity && r.path !== a.path);
  const b = rows.find((r) => r.identity !== a.identity);
  assert.ok(a2 && b, 'manifest needs two images of one identity and one of another');
  return [a, a2, b];
}

async function crop(path: string): Promise<Float32Array> {
  return Float32Array.from(await decodeImage(path, FACE_API_CROP_SIZE));
}

function distance(x: Float32Array, y: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i]! - y[i]!) ** 2;
  return Math.sqrt(s);
}

test('face-api reference recognizer: wasm backend, 128-d deterministic descriptors that tell people apart', async () => {
  let t = performance.now();
  const rec = await faceApiRecognizer();
  const loadMs = performance.now() - t;
  try {
    assert.equal(rec.backend, 'wasm');
    assert.equal(await faceApiRecognizer(), rec, 'second call reuses the loaded recognizer');

    const images = pickImages();
    const crops = await Promise.all(images.map((i) => crop(i.path)));
    const tensorsBefore = faceApiTf().memory().numTensors;

    t = performance.now();
    const [first] = await rec.descriptors([crops[0]!]);
    const oneMs = performance.now() - t;
    t = performance.now();
    const descs = await rec.descriptors(crops);
    const threeMs = performance.now() - t;
    assert.equal(faceApiTf().memory().numTensors, tensorsBefore, 'no tfjs tensors leaked');
    console.log(
      `face-api reference: load ${loadMs.toFixed(0)} ms, first descriptor ${oneMs.toFixed(0)} ms, then 3 in ${threeMs.toFixed(0)} ms (backend ${rec.backend})`,
    );

    assert.equal(descs.length, 3);
    for (const d of descs) {
      assert.equal(d.length, FACE_API_DESCRIPTOR_LENGTH);
      assert.ok(d.every(Number.isFinite), 'finite');
      assert.ok(
        d.some((v) => v !== d[0]),
        'not all equal',
      );
    }
    assert.deepEqual(descs[0], first, 'same crop gives the same descriptor');

    const same = distance(descs[0]!, descs[1]!);
    const other = distance(descs[0]!, descs[2]!);
    console.log(
      `face-api reference: distance same identity (${images[0]!.identity}) ${same.toFixed(3)}, ` +
        `different (${images[0]!.identity} vs ${images[2]!.identity}) ${other.toFixed(3)}`,
    );
    assert.ok(other > 0.1, `different people's descriptors differ (distance ${other})`);

    await assert.rejects(rec.descriptors([new Float32Array(10)]), /expected 67500/);
  } finally {
    rec.dispose();
  }
});
