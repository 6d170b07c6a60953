// Decodes image files to RGB uint8 HWC pixels of a fixed square size, one or many in parallel.
import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { JsColorType, ResizeFilterType, ResizeFit, Transformer } from '@napi-rs/image';
import { PaenetError } from '../common/errors.ts';

/**
 * Decodes one image (a path, or the file's bytes) to `size` x `size` RGB, uint8, HWC (row-major,
 * 3 bytes per pixel). Grayscale becomes 3 equal channels; alpha is dropped; 16-bit and float
 * images are scaled to 8 bits. A non-square or other-sized image is centre-cropped to square and
 * resized (triangle filter). Throws one line naming the file for a missing, unreadable,
 * undecodable, or truncated JPEG file.
 */
export async function decodeImage(input: string | Uint8Array, size: number): Promise<Uint8Array> {
  const name = typeof input === 'string' ? input : `<${input.length} bytes>`;
  let bytes: Uint8Array;
  if (typeof input === 'string') {
    try {
      bytes = await readFile(input);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw code === 'ENOENT'
        ? new PaenetError('PAENET_NOT_FOUND', `${name}: image file not found`)
        : new PaenetError('PAENET_IMAGE', `${name}: cannot read image (${code ?? String(e)})`);
    }
  } else {
    bytes = input;
  }
  return decodeBytes(bytes, size, name);
}

async function decodeBytes(bytes: Uint8Array, size: number, name: string): Promise<Uint8Array> {
  if (!Number.isInteger(size) || size < 1) throw new Error(`decodeImage: size must be a positive integer, got ${size}`);
  if (bytes.length === 0) throw new PaenetError('PAENET_IMAGE', `${name}: empty image file`);
  const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  // The decoder fills a cut-off JPEG with gray instead of failing; catch it by the end marker.
  if (jpeg && !hasJpegEnd(bytes)) throw new PaenetError('PAENET_IMAGE', `${name}: truncated JPEG (no end-of-image marker)`);
  let raw: Buffer;
  let colorType: JsColorType | undefined;
  try {
    // Cover = centre crop to the target aspect, then resize; an image already size x size is unchanged.
    raw = await new Transformer(bytes).resize(size, size, ResizeFilterType.Triangle, ResizeFit.Cover).rawPixels();
    const bpp = raw.length / (size * size);
    // rawPixels returns the source's own layout (L8 for gray JPEG, Rgb8 for colour JPEG, Rgba8 for
    // PNG with alpha, ...). Only 2 and 4 bytes/pixel are ambiguous; ask the header then.
    if (bpp === 2 || bpp === 4) colorType = jpeg ? undefined : new Transformer(bytes).metadataSync().colorType;
  } catch (e) {
    throw new PaenetError('PAENET_IMAGE', `${name}: cannot decode image (${e instanceof Error ? e.message : String(e)})`);
  }
  return toRgb(raw, size * size, colorType, name);
}

function hasJpegEnd(b: Uint8Array): boolean {
  // Allow a little trailing padding after the EOI marker (some writers append zeros).
  for (let i = b.length - 2; i >= Math.max(2, b.length - 64); i--) if (b[i] === 0xff && b[i + 1] === 0xd9) return true;
  return false;
}

// Converts the decoder's native pixel layout to RGB8.
function toRgb(raw: Buffer, px: number, colorType: JsColorType | undefined, name: string): Uint8Array {
  const bpp = raw.length / px;
  const out = new Uint8Array(px * 3);
  const little = endianness() === 'LE';
  const hi16 = (o: number): number => raw[little ? o + 1 : o]!;
  let channels: number;
  let read: (o: number) => number;
  switch (bpp) {
    case 1: // L8
    case 3: // Rgb8
      channels = bpp;
      read = (o) => raw[o]!;
      break;
    case 2: // La8 or L16
      channels = colorType === JsColorType.L16 ? 1 : 2;
      read = channels === 1 ? (o) => hi16(o * 2) : (o) => raw[o]!;
      break;
    case 4: // Rgba8 or La16
      channels = colorType === JsColorType.La16 ? 2 : 4;
      read = channels === 2 ? (o) => hi16(o * 2) : (o) => raw[o]!;
      break;
    case 6: // Rgb16
    case 8: // Rgba16
      channels = bpp / 2;
      read = (o) => hi16(o * 2);
      break;
    case 12: // Rgb32F
    case 16: {
      // Rgba32F
      channels = bpp / 4;
      const f = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
      read = (o) => Math.max(0, Math.min(255, Math.round(f[o]! * 255)));
      break;
    }
    default:
      throw new PaenetError('PAENET_IMAGE', `${name}: unexpected pixel layout (${raw.length} bytes for ${px} pixels)`);
  }
  for (let p = 0; p < px; p++) {
    const s = p * channels;
    if (channels < 3) {
      const v = read(s);
      out[p * 3] = v;
      out[p * 3 + 1] = v;
      out[p * 3 + 2] = v;
    } else {
      out[p * 3] = read(s);
      out[p * 3 + 1] = read(s + 1);
      out[p * 3 + 2] = read(s + 2);
    }
  }
  return out;
}

/** Options of {@link decodeMany}. */
export interface DecodeManyOptions {
  /** Decodes in flight at once (they run on libuv's thread pool). Default 16. */
  concurrency?: number;
  /** Called after each image (decoded or failed), at most about every 50 ms and at the end. */
  onProgress?: (done: number, total: number) => void;
  /** Called for each image that could not be decoded; it is skipped. */
  onError?: (index: number, path: string, message: string) => void;
  /** Back the pixels with a SharedArrayBuffer (for zero-copy use by worker threads). Default true. */
  shared?: boolean;
}

/** Result of {@link decodeMany}. */
export interface DecodedImages {
  /** Packed RGB HWC pixels of the kept images, `kept.length * size * size * 3` bytes. */
  pixels: Uint8Array;
  /** Indices (into the input paths) of the images kept, ascending; `pixels` follows this order. */
  kept: Int32Array;
  /** The images skipped, with the reason. */
  failed: { index: number; path: string; message: string }[];
  size: number;
}

/**
 * Decodes many images in parallel to `size` x `size` RGB. A missing or corrupt image is reported
 * (onError) and skipped, never thrown: check `failed.length`. Output order follows input order.
 */
export async function decodeMany(paths: readonly string[], size: number, options: DecodeManyOptions = {}): Promise<DecodedImages> {
  const stride = size * size * 3;
  const total = paths.length;
  const bytes = total * stride;
  const pixels = options.shared === false ? new Uint8Array(bytes) : new Uint8Array(new SharedArrayBuffer(bytes));
  const ok = new Uint8Array(total);
  const failed: { index: number; path: string; message: string }[] = [];
  let next = 0;
  let done = 0;
  let lastReport = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      const p = paths[i]!;
      try {
        pixels.set(await decodeImage(p, size), i * stride);
        ok[i] = 1;
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        failed.push({ index: i, path: p, message });
        options.onError?.(i, p, message);
      }
      done++;
      const now = Date.now();
      if (options.onProgress && (now - lastReport >= 50 || done === total)) {
        lastReport = now;
        options.onProgress(done, total);
      }
    }
  };
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 16, total));
  await Promise.all(Array.from({ length: concurrency }, worker));
  failed.sort((a, b) => a.index - b.index);
  // Compact in place so kept images are contiguous; no second large allocation.
  const kept = new Int32Array(total - failed.length);
  let w = 0;
  for (let i = 0; i < total; i++) {
    if (!ok[i]) continue;
    if (w !== i) pixels.copyWithin(w * stride, i * stride, (i + 1) * stride);
    kept[w++] = i;
  }
  return { pixels: pixels.subarray(0, w * stride), kept, failed, size };
}
