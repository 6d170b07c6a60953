// Crash-safe file replacement: write a sibling temp file, fsync it, rename it over the target.
import * as fs from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Bytes to write: one buffer, or chunks written in order so large models are never concatenated. */
export type AtomicWriteData = Uint8Array | Uint8Array[];

// Some platforms reject single writes above ~2 GiB, so large chunks are written in slices.
const MAX_WRITE = 1 << 30;

// Checked up front: a non-buffer chunk has no byteLength and would otherwise be skipped silently,
// publishing a file with data missing.
function chunksOf(path: string, data: AtomicWriteData): Uint8Array[] {
  const chunks = Array.isArray(data) ? data : [data];
  chunks.forEach((chunk, i) => {
    if (!(chunk instanceof Uint8Array)) {
      throw new Error(`${path}: atomic write failed (chunk ${i} is not a Uint8Array)`);
    }
  });
  return chunks;
}

// Same directory as the target, so the final rename never crosses a filesystem boundary.
function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

function failure(path: string, err: unknown): Error {
  const reason = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ');
  return new Error(`${path}: atomic write failed (${reason})`, { cause: err });
}

/**
 * Atomically replaces `path` with `data`: readers see either the old file or the complete new one,
 * never a partial write, even across a crash. On failure the temp file is removed, any existing
 * target is left untouched, and an Error naming `path` is thrown.
 */
export async function writeFileAtomic(path: string, data: AtomicWriteData): Promise<void> {
  const chunks = chunksOf(path, data);
  const tmp = tempPathFor(path);
  let created = false;
  try {
    const handle = await open(tmp, 'wx');
    created = true;
    try {
      for (const chunk of chunks) {
        let done = 0;
        while (done < chunk.byteLength) {
          const len = Math.min(chunk.byteLength - done, MAX_WRITE);
          const { bytesWritten } = await handle.write(chunk, done, len);
          done += bytesWritten;
        }
      }
      // Data must be durable before the rename publishes it, or a crash could expose an empty file.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
    created = false;
  } catch (err) {
    if (created) await unlink(tmp).catch(() => undefined);
    throw failure(path, err);
  }
  await syncDir(dirname(path));
}

/** Synchronous twin of {@link writeFileAtomic}, with the same guarantees. */
export function writeFileAtomicSync(path: string, data: AtomicWriteData): void {
  const chunks = chunksOf(path, data);
  const tmp = tempPathFor(path);
  let created = false;
  try {
    const fd = fs.openSync(tmp, 'wx');
    created = true;
    try {
      for (const chunk of chunks) {
        let done = 0;
        while (done < chunk.byteLength) {
          const len = Math.min(chunk.byteLength - done, MAX_WRITE);
          done += fs.writeSync(fd, chunk, done, len);
        }
      }
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path);
    created = false;
  } catch (err) {
    if (created) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        // Already gone or unremovable; the original error is the one worth reporting.
      }
    }
    throw failure(path, err);
  }
  syncDirSync(dirname(path));
}

// Persists the rename itself; best effort because some platforms (Windows) cannot fsync a directory.
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort: the file itself is already durable and in place.
  }
}

function syncDirSync(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Best effort: the file itself is already durable and in place.
  }
}
