// Photos in: decoded (EXIF-rotated, RGB) by sharp with a pixel limit, and square face crops cut from them.
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import { PaenetError } from '../common/errors.ts';

/** A decoded photo: HWC RGB bytes. */
export interface Photo {
  pixels: Uint8Array;
  width: number;
  height: number;
}

/** Photos larger than this many pixels are refused (a decompression bomb costs no memory). */
export const MAX_PHOTO_PIXELS = 50_000_000;

/** Decodes a photo file or buffer; one line naming `source` when it is not an image or too large. */
export async function decodePhoto(input: string | Uint8Array, source = typeof input === 'string' ? input : 'upload'): Promise<Photo> {
  if (typeof input === 'string' && !existsSync(input)) throw new PaenetError('PAENET_NOT_FOUND', `${source}: no such file`);
  try {
    const { data, info } = await sharp(input, { limitInputPixels: MAX_PHOTO_PIXELS, failOn: 'error' })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  } catch (e) {
    const m = (e as Error).message;
    if (/pixel limit/i.test(m))
      throw new PaenetError(
        'PAENET_IMAGE',
        `${source}: image too large (over ${MAX_PHOTO_PIXELS} pixels)`,
        'downscale the photo: faces are analysed at a few hundred pixels anyway',
      );
    throw new PaenetError(
      'PAENET_IMAGE',
      `${source}: not a decodable image (${m.split('\n')[0]})`,
      'send a JPEG, PNG, WebP, GIF, TIFF or AVIF image',
    );
  }
}

/** A smaller copy whose longer side is at most `maxSide` (detection does not need megapixels), and its scale. */
export async function downscale(p: Photo, maxSide: number): Promise<{ photo: Photo; scale: number }> {
  const scale = Math.min(1, maxSide / Math.max(p.width, p.height));
  if (scale === 1) return { photo: p, scale };
  const width = Math.max(1, Math.round(p.width * scale));
  const height = Math.max(1, Math.round(p.height * scale));
  const data = await sharp(p.pixels, { raw: { width: p.width, height: p.height, channels: 3 } })
    .resize(width, height)
    .raw()
    .toBuffer();
  return { photo: { pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height }, scale };
}

/** [x, y, width, height] in photo pixels. */
export type Box = [number, number, number, number];

/**
 * The square crop the models were trained on around a detector box: side 1.2× the box's longer side, centre moved
 * up by 5 % of the box (as the shared in-the-wild crops), black beyond the photo's edges, resized to `size`.
 */
export async function faceCrop(p: Photo, box: Box, size: number): Promise<Uint8Array> {
  const [x, y, w, h] = box;
  const side = Math.max(1, Math.round(1.2 * Math.max(w, h)));
  const left = Math.round(x + w / 2 - side / 2);
  const top = Math.round(y + h / 2 - 0.05 * h - side / 2);
  // Pad the photo so the square fits (a separate pass: sharp extracts before it extends within one pipeline), then cut it.
  const pad = {
    top: Math.max(0, -top),
    left: Math.max(0, -left),
    bottom: Math.max(0, top + side - p.height),
    right: Math.max(0, left + side - p.width),
  };
  let src: Photo = p;
  if (pad.top || pad.left || pad.bottom || pad.right) {
    const padded = await sharp(p.pixels, { raw: { width: p.width, height: p.height, channels: 3 } })
      .extend({ ...pad, background: { r: 0, g: 0, b: 0 } })
      .raw()
      .toBuffer();
    src = { pixels: padded, width: p.width + pad.left + pad.right, height: p.height + pad.top + pad.bottom };
  }
  const data = await sharp(src.pixels, { raw: { width: src.width, height: src.height, channels: 3 } })
    .extract({ left: left + pad.left, top: top + pad.top, width: side, height: side })
    .resize(size, size)
    .raw()
    .toBuffer();
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** The face's crop at each side in `sizes` (each task takes its own input size), side → crop. */
export async function faceCrops(p: Photo, box: Box, sizes: readonly number[]): Promise<Map<number, Uint8Array>> {
  return new Map(await Promise.all(sizes.map(async (s) => [s, await faceCrop(p, box, s)] as const)));
}
