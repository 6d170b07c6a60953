// Tests of image decoding: real RGB and grayscale faces, resizing, alpha, and bad files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transformer } from '@napi-rs/image';
import { decodeImage, decodeMany } from '../../src/data/image.ts';
import { mulberry32 } from '../../src/data/rng.ts';
import { DATA, naiveRows, needData, withTmp } from './fixtures.ts';

const utk = (): string => join(DATA, 'utkface-agegender', naiveRows('utkface-agegender')[0]!.path!);
const orl = join(DATA, 'orl-faces/images/orl_s1/orl_s1_0001.jpg');

test('RGB face: 64x64x3 bytes, equal to the decoder raw pixels, real value spread', { skip: needData('utkface-agegender') }, async () => {
  const px = await decodeImage(utk(), 64);
  assert.equal(px.length, 64 * 64 * 3);
  assert.deepEqual(px, new Uint8Array(new Transformer(readFileSync(utk())).rawPixelsSync()));
  const max = Math.max(...px);
  const min = Math.min(...px);
  assert.ok(max - min > 100, `range ${min}..${max}`);
  const small = await decodeImage(readFileSync(utk()), 32);
  assert.equal(small.length, 32 * 32 * 3);
});

test('grayscale ORL face becomes 3 equal channels', { skip: needData('orl-faces') }, async () => {
  const px = await decodeImage(orl, 64);
  const gray = new Transformer(readFileSync(orl)).rawPixelsSync();
  assert.equal(gray.length, 64 * 64); // the decoder gives 1 byte per pixel for gray JPEG
  for (let p = 0; p < 64 * 64; p++) {
    assert.equal(px[p * 3], gray[p]);
    assert.equal(px[p * 3 + 1], gray[p]);
    assert.equal(px[p * 3 + 2], gray[p]);
  }
});

test('RGBA PNG, non-square: alpha dropped, cropped and resized to size', async () => {
  const w = 6;
  const h = 4;
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) rgba.set([200, 100, 50, 128], i * 4);
  const png = await Transformer.fromRgbaPixels(rgba, w, h).png();
  const px = await decodeImage(png, 2);
  assert.deepEqual([...px], [200, 100, 50, 200, 100, 50, 200, 100, 50, 200, 100, 50]);
});

test('missing, corrupt and truncated files give one-line errors', { skip: needData('orl-faces') }, async () => {
  await withTmp(async (dir) => {
    const bad = join(dir, 'bad.jpg');
    const r = mulberry32(1);
    writeFileSync(bad, Buffer.from(Array.from({ length: 500 }, () => r.int(256))));
    await assert.rejects(decodeImage(join(dir, 'none.jpg'), 64), { message: `${join(dir, 'none.jpg')}: image file not found` });
    await assert.rejects(
      decodeImage(bad, 64),
      (e: Error) => e.message.startsWith(`${bad}: cannot decode image (`) && !e.message.includes('\n'),
    );
    const cut = join(dir, 'cut.jpg');
    writeFileSync(cut, readFileSync(orl).subarray(0, 400));
    await assert.rejects(decodeImage(cut, 64), { message: `${cut}: truncated JPEG (no end-of-image marker)` });
  });
});

test('decodeMany skips bad images with a count and keeps input order', { skip: needData('orl-faces') }, async () => {
  await withTmp(async (dir) => {
    const bad = join(dir, 'bad.jpg');
    const r = mulberry32(9);
    writeFileSync(bad, Buffer.from(Array.from({ length: 2000 }, () => r.int(256))));
    const good2 = join(DATA, 'orl-faces/images/orl_s2/orl_s2_0003.jpg');
    const paths = [orl, bad, join(dir, 'missing.jpg'), good2];
    const errors: number[] = [];
    let last: [number, number] = [0, 0];
    const d = await decodeMany(paths, 64, { concurrency: 3, onError: (i) => errors.push(i), onProgress: (a, b) => (last = [a, b]) });
    assert.deepEqual([...d.kept], [0, 3]);
    assert.deepEqual(
      d.failed.map((f) => f.index),
      [1, 2],
    );
    assert.deepEqual(errors.sort(), [1, 2]);
    assert.deepEqual(last, [4, 4]);
    assert.equal(d.pixels.length, 2 * 64 * 64 * 3);
    assert.ok(d.pixels.buffer instanceof SharedArrayBuffer);
    assert.deepEqual(d.pixels.subarray(64 * 64 * 3), await decodeImage(good2, 64));
    assert.deepEqual(d.pixels.subarray(0, 64 * 64 * 3), await decodeImage(orl, 64));
  });
});
