// Tests of batch writing: normalisation, flips, seeded augmentation, crop-with-padding geometry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { augmentInto, evalInto, NO_AUGMENT, NORM_MEAN, NORM_SCALE } from '../../src/data/augment.ts';
import { mulberry32 } from '../../src/data/rng.ts';

const norm = (v: number): number => (v - NORM_MEAN) / NORM_SCALE;
// One 2x2 RGB image, HWC: row 0 = (1,2,3) (4,5,6); row 1 = (7,8,9) (10,11,12).
const tiny = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
// Expected NCHW planes (R, G, B), each row-major 2x2.
const plain = [1, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 12].map(norm);
const mirrored = [4, 1, 10, 7, 5, 2, 11, 8, 6, 3, 12, 9].map(norm);

test('eval path: HWC -> normalised NCHW, and horizontal flip', () => {
  const out = new Float32Array(12);
  evalInto(tiny, [0], 2, out);
  assert.deepEqual([...out], plain.map(Math.fround));
  evalInto(tiny, [0], 2, out, true);
  assert.deepEqual([...out], mirrored.map(Math.fround));
  assert.equal(norm(0), -127.5 / 128);
  assert.equal(norm(255), 127.5 / 128);
});

test('augment with flip always / never and nothing else equals the eval path', () => {
  const out = new Float32Array(12);
  augmentInto(tiny, [0], 2, out, mulberry32(1), { ...NO_AUGMENT, flipProb: 1 });
  assert.deepEqual([...out], mirrored.map(Math.fround));
  augmentInto(tiny, [0], 2, out, mulberry32(1), NO_AUGMENT);
  assert.deepEqual([...out], plain.map(Math.fround));
});

const size = 16;
const rng = mulberry32(3);
const batch = Uint8Array.from({ length: 4 * size * size * 3 }, () => rng.int(256));

test('same seed gives the same augmented batch; another seed does not', () => {
  const a = new Float32Array(4 * 3 * size * size);
  const b = new Float32Array(a.length);
  augmentInto(batch, [3, 1, 0, 2], size, a, mulberry32(42));
  augmentInto(batch, [3, 1, 0, 2], size, b, mulberry32(42));
  assert.deepEqual(a, b);
  augmentInto(batch, [3, 1, 0, 2], size, b, mulberry32(43));
  assert.notDeepEqual(a, b);
  for (const v of a) assert.ok(v >= norm(0) && v <= norm(255));
});

test('crop with padding is an integer shift with black fill', () => {
  const out = new Float32Array(3 * size * size);
  const seen = new Set<string>();
  for (let seed = 0; seed < 20; seed++) {
    augmentInto(batch, [1], size, out, mulberry32(seed), { ...NO_AUGMENT, pad: 2 });
    let found = '';
    for (let dy = -2; dy <= 2 && !found; dy++) {
      for (let dx = -2; dx <= 2 && !found; dx++) {
        let ok = true;
        for (let c = 0; c < 3 && ok; c++) {
          for (let y = 0; y < size && ok; y++) {
            for (let x = 0; x < size && ok; x++) {
              const sx = x - dx;
              const sy = y - dy;
              const inside = sx >= 0 && sx < size && sy >= 0 && sy < size;
              const want = inside ? norm(batch[size * size * 3 + (sy * size + sx) * 3 + c]!) : norm(0);
              ok = out[c * size * size + y * size + x] === Math.fround(want);
            }
          }
        }
        if (ok) found = `${dx},${dy}`;
      }
    }
    assert.ok(found, `seed ${seed}: output is not a shift of the input`);
    seen.add(found);
  }
  assert.ok(seen.size > 3, `only shifts ${[...seen]}`);
});

test('bad indices and short output buffers are rejected', () => {
  assert.throws(() => evalInto(tiny, [1], 2, new Float32Array(12)), /image index 1 outside 0..0/);
  assert.throws(() => evalInto(tiny, [0, 0], 2, new Float32Array(12)), /output holds 1 images, batch has 2/);
});
