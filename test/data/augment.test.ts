// Tests of batch writing: normalisation, flips, seeded augmentation, crop-with-padding geometry, rotation, colour, erasing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  augmentInto,
  evalInto,
  FACE_AUGMENT_STRONG,
  NO_AUGMENT,
  NORM_MEAN,
  NORM_SCALE,
  type AugmentOptions,
} from '../../src/data/augment.ts';
import { mulberry32, type Rng } from '../../src/data/rng.ts';

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

// An Rng whose every draw is `v`: pins a drawn parameter to the end of its range (v = 0: the low end).
const constantRng = (v: number): Rng => ({ next: () => v, int: (n) => Math.floor(v * n), uniform: (lo, hi) => lo + (hi - lo) * v });
const planeAt = (out: Float32Array, c: number, x: number, y: number, side: number): number => out[c * side * side + y * side + x]!;

test('rotation by 90 degrees moves every pixel where the rotation says, either way', () => {
  const side = 9;
  const image = Uint8Array.from({ length: side * side * 3 }, () => rng.int(256));
  const out = new Float32Array(3 * side * side);
  const src = (c: number, x: number, y: number): number => norm(image[(y * side + x) * 3 + c]!);
  // Lowest draw: -90 degrees, clockwise as displayed, so output (x, y) shows source (y, side-1-x).
  augmentInto(image, [0], side, out, constantRng(0), { ...NO_AUGMENT, rotation: 90 });
  // Highest draw: just under +90, counter-clockwise, so output (x, y) shows source (side-1-y, x).
  const ccw = new Float32Array(out.length);
  augmentInto(image, [0], side, ccw, constantRng(1 - 2 ** -40), { ...NO_AUGMENT, rotation: 90 });
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        assert.ok(Math.abs(planeAt(out, c, x, y, side) - src(c, y, side - 1 - x)) < 1e-5, `cw ${c} ${x} ${y}`);
        assert.ok(Math.abs(planeAt(ccw, c, x, y, side) - src(c, side - 1 - y, x)) < 1e-5, `ccw ${c} ${x} ${y}`);
      }
    }
  }
});

test('a small rotation samples bilinearly inside and fills the corners black', () => {
  const side = 32;
  const flat = new Uint8Array(side * side * 3).fill(200);
  const out = new Float32Array(3 * side * side);
  augmentInto(flat, [0], side, out, constantRng(0), { ...NO_AUGMENT, rotation: 30 });
  assert.equal(planeAt(out, 0, 0, 0, side), Math.fround(norm(0)));
  assert.equal(planeAt(out, 2, side - 1, side - 1, side), Math.fround(norm(0)));
  assert.equal(planeAt(out, 1, side / 2, side / 2, side), Math.fround(norm(200)));
  for (const v of out) assert.ok(v >= norm(0) - 1e-6 && v <= norm(200) + 1e-6);
});

const newOptionsAtZero: AugmentOptions = { shift: 0, rotation: 0, saturation: 0, greyProb: 0, eraseProb: 0 };

// Counts the draws made through it, so a test sees how far a stream was advanced.
function countingRng(seed: number): Rng & { draws: number } {
  const inner = mulberry32(seed);
  const counted = {
    draws: 0,
    next: (): number => {
      counted.draws++;
      return inner.next();
    },
    int: (n: number): number => Math.floor(counted.next() * n),
    uniform: (lo: number, hi: number): number => lo + (hi - lo) * counted.next(),
  };
  return counted;
}

// FNV-1a of a float array's bytes: pins a whole batch in one number.
function fnv1a(values: Float32Array): string {
  let h = 0x811c9dc5;
  for (const byte of new Uint8Array(values.buffer, values.byteOffset, values.byteLength)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h.toString(16);
}

test('the older options give the batch the pre-rotation sampler gave, bit for bit', () => {
  const out = new Float32Array(4 * 3 * size * size);
  augmentInto(batch, [3, 1, 0, 2], size, out, mulberry32(42), { scale: [0.8, 1.25], pad: 3, brightness: 0.2, contrast: 0.3 });
  assert.equal(fnv1a(out), '1b8e5c4a'); // recorded from the separable sampler this one replaced
});

test('the newer options at zero strength change no output bit and draw nothing', () => {
  const out = new Float32Array(4 * 3 * size * size);
  const want = new Float32Array(out.length);
  evalInto(batch, [3, 1, 0, 2], size, want);
  augmentInto(batch, [3, 1, 0, 2], size, out, mulberry32(9), { ...NO_AUGMENT, ...newOptionsAtZero });
  assert.deepEqual(out, want);
  // With the older options on: the same batch, and six draws per sample as before the newer options existed.
  const [r1, r2] = [countingRng(11), countingRng(11)];
  augmentInto(batch, [3, 1, 0, 2], size, want, r1);
  augmentInto(batch, [3, 1, 0, 2], size, out, r2, newOptionsAtZero);
  assert.deepEqual(out, want);
  assert.deepEqual([r1.draws, r2.draws], [24, 24]);
});

test('greyscale (saturation factor 0) gives R = G = B, the Rec. 601 luma', () => {
  const out = new Float32Array(3 * size * size);
  const viaJitter = new Float32Array(out.length);
  augmentInto(batch, [2], size, out, mulberry32(5), { ...NO_AUGMENT, greyProb: 1 });
  // Saturation jitter 1 at its lowest draw is the same factor 0.
  augmentInto(batch, [2], size, viaJitter, constantRng(0), { ...NO_AUGMENT, saturation: 1 });
  assert.deepEqual(viaJitter, out);
  const plane = size * size;
  for (let k = 0; k < plane; k++) {
    assert.equal(out[k], out[k + plane]);
    assert.equal(out[k], out[k + 2 * plane]);
  }
  const [r, g, b] = [0, 1, 2].map((c) => batch[2 * plane * 3 + c]!);
  assert.ok(Math.abs(out[0]! - norm(0.299 * r! + 0.587 * g! + 0.114 * b!)) < 1e-6);
});

test('saturation jitter keeps the grey of each pixel and scales the colour around it', () => {
  const out = new Float32Array(3 * size * size);
  augmentInto(batch, [0], size, out, constantRng(1 - 2 ** -40), { ...NO_AUGMENT, saturation: 0.5 }); // factor ~1.5
  const plane = size * size;
  for (let k = 0; k < plane; k++) {
    const rgb = [0, 1, 2].map((c) => batch[k * 3 + c]!);
    const grey = 0.299 * rgb[0]! + 0.587 * rgb[1]! + 0.114 * rgb[2]!;
    for (let c = 0; c < 3; c++) {
      const want = Math.min(255, Math.max(0, grey + (rgb[c]! - grey) * 1.5));
      assert.ok(Math.abs(out[c * plane + k]! - norm(want)) < 1e-5, `pixel ${k} channel ${c}`);
    }
  }
});

// The changed pixels of `erased` against `plain`: their bounding box, and whether every pixel in it changed.
function changedBox(
  plain: Float32Array,
  erased: Float32Array,
  side: number,
): { x: number; y: number; w: number; h: number; solid: boolean } | null {
  let [x0, y0, x1, y1] = [side, side, -1, -1];
  const plane = side * side;
  const changed = (k: number): boolean => [0, 1, 2].some((c) => plain[c * plane + k] !== erased[c * plane + k]);
  for (let k = 0; k < plane; k++) {
    if (!changed(k)) continue;
    const [x, y] = [k % side, Math.floor(k / side)];
    [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
  }
  if (x1 < 0) return null;
  let solid = true;
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) solid &&= changed(y * side + x);
  return { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1, solid };
}

test('random erasing overwrites one rectangle within the area and aspect bounds, and nothing else', () => {
  const side = 32;
  const image = Uint8Array.from({ length: side * side * 3 }, () => rng.int(256));
  const plain = new Float32Array(3 * side * side);
  evalInto(image, [0], side, plain);
  const out = new Float32Array(plain.length);
  const shapes = new Set<string>();
  for (let seed = 0; seed < 40; seed++) {
    for (const fill of ['mean', 'noise'] as const) {
      augmentInto(image, [0], side, out, mulberry32(seed), { ...NO_AUGMENT, eraseProb: 1, eraseFill: fill });
      const box = changedBox(plain, out, side);
      assert.ok(box?.solid, `seed ${seed} ${fill}: changes are not one solid rectangle`);
      const area = (box.w * box.h) / (side * side);
      assert.ok(area >= 0.02 && area <= 0.2, `seed ${seed}: area ${area}`);
      assert.ok(box.h / box.w >= 0.3 && box.h / box.w <= 3.3, `seed ${seed}: aspect ${box.h / box.w}`);
      for (let c = 0; c < 3; c++) {
        for (let y = box.y; y < box.y + box.h; y++) {
          for (let x = box.x; x < box.x + box.w; x++) {
            const v = planeAt(out, c, x, y, side);
            if (fill === 'mean') assert.equal(v, 0);
            else assert.ok(v >= norm(0) && v <= norm(255));
          }
        }
      }
      shapes.add(`${box.x},${box.y},${box.w},${box.h}`);
    }
  }
  assert.ok(shapes.size > 20, `only ${shapes.size} distinct rectangles`);
});

test('random erasing happens with its probability', () => {
  const out = new Float32Array(3 * size * size);
  const plain = new Float32Array(out.length);
  evalInto(batch, [0], size, plain);
  let erased = 0;
  for (let seed = 0; seed < 400; seed++) {
    augmentInto(batch, [0], size, out, mulberry32(seed), { ...NO_AUGMENT, eraseProb: 0.25 });
    if (changedBox(plain, out, size)) erased++;
  }
  assert.ok(erased > 70 && erased < 130, `${erased} of 400 erased`);
});

test('the strong preset is seeded: same seed same batch, another seed another, values in range', () => {
  const a = new Float32Array(4 * 3 * size * size);
  const b = new Float32Array(a.length);
  augmentInto(batch, [3, 1, 0, 2], size, a, mulberry32(42), FACE_AUGMENT_STRONG);
  augmentInto(batch, [3, 1, 0, 2], size, b, mulberry32(42), FACE_AUGMENT_STRONG);
  assert.deepEqual(a, b);
  augmentInto(batch, [3, 1, 0, 2], size, b, mulberry32(43), FACE_AUGMENT_STRONG);
  assert.notDeepEqual(a, b);
  for (const v of a) assert.ok(v >= norm(0) && v <= norm(255));
});

test('bad values of the newer options are rejected with the value', () => {
  const run = (o: AugmentOptions): void => augmentInto(tiny, [0], 2, new Float32Array(12), mulberry32(1), o);
  assert.throws(() => run({ saturation: 1.5 }), /saturation must be in \[0, 1\], got 1.5/);
  assert.throws(() => run({ eraseProb: -0.1 }), /eraseProb must be in \[0, 1\], got -0.1/);
  assert.throws(() => run({ eraseArea: [0.3, 0.1] }), /eraseArea must satisfy 0 < lo <= hi <= 1, got \[0.3, 0.1\]/);
  assert.throws(() => run({ eraseAspect: [0, 2] }), /eraseAspect/);
  assert.throws(() => run({ eraseFill: 'zero' as 'mean' }), /eraseFill must be 'noise' or 'mean', got zero/);
});
