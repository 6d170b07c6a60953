// Tests that atomic writes publish complete files, clean up temp files, and never damage the target on failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, writeFileAtomicSync, type AtomicWriteData } from '../../src/io/atomic-write.ts';

type Writer = (path: string, data: AtomicWriteData) => Promise<void>;

const writers: [string, Writer][] = [
  ['writeFileAtomic', writeFileAtomic],
  ['writeFileAtomicSync', async (path, data) => writeFileAtomicSync(path, data)],
];

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'paenet-atomic-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

for (const [name, write] of writers) {
  test(`${name}: writes a single buffer and leaves no temp file`, async () => {
    await withDir(async (dir) => {
      const target = join(dir, 'model.pae');
      await write(target, Buffer.from('hello world'));
      assert.equal(await readFile(target, 'utf8'), 'hello world');
      assert.deepEqual(await readdir(dir), ['model.pae']);
    });
  });

  test(`${name}: writes chunks in order, honouring subarray offsets`, async () => {
    await withDir(async (dir) => {
      const target = join(dir, 'chunks.bin');
      const backing = new Uint8Array([9, 9, 3, 4, 9]);
      await write(target, [new Uint8Array([1, 2]), backing.subarray(2, 4), new Uint8Array(0), new Uint8Array([5])]);
      assert.deepEqual([...(await readFile(target))], [1, 2, 3, 4, 5]);
      assert.deepEqual(await readdir(dir), ['chunks.bin']);
    });
  });

  test(`${name}: empty input creates an empty file`, async () => {
    await withDir(async (dir) => {
      const target = join(dir, 'empty.bin');
      await write(target, []);
      assert.equal((await readFile(target)).byteLength, 0);
    });
  });

  test(`${name}: replaces an existing file completely`, async () => {
    await withDir(async (dir) => {
      const target = join(dir, 'model.pae');
      await writeFile(target, 'a much longer original content');
      await write(target, Buffer.from('short'));
      assert.equal(await readFile(target, 'utf8'), 'short');
      assert.deepEqual(await readdir(dir), ['model.pae']);
    });
  });

  test(`${name}: missing target directory fails with a one-line message naming the path`, async () => {
    await withDir(async (dir) => {
      const target = join(dir, 'no-such-dir', 'model.pae');
      await assert.rejects(write(target, Buffer.from('x')), (err: Error) => {
        assert.ok(err.message.includes(target), err.message);
        assert.ok(!err.message.includes('\n'), err.message);
        return true;
      });
      assert.deepEqual(await readdir(dir), []);
    });
  });

  test(`${name}: an invalid chunk is rejected and leaves the old target intact`, async () => {
    await withDir(async (dir) => {
      const target = join(dir, 'model.pae');
      await writeFile(target, 'original');
      // A non-buffer chunk must not be skipped silently, which would publish a file missing data.
      const bad = [Buffer.from('new data'), 42 as unknown as Uint8Array];
      await assert.rejects(write(target, bad), (err: Error) => err.message.includes(target));
      assert.equal(await readFile(target, 'utf8'), 'original');
      assert.deepEqual(await readdir(dir), ['model.pae']);
    });
  });

  test(`${name}: a failed rename removes the temp file and leaves the target untouched`, async () => {
    await withDir(async (dir) => {
      // Renaming a file over a non-empty directory fails on every platform.
      const target = join(dir, 'occupied');
      await mkdir(target);
      await writeFile(join(target, 'keep.txt'), 'keep');
      await assert.rejects(write(target, Buffer.from('x')), (err: Error) => err.message.includes(target));
      assert.deepEqual(await readdir(dir), ['occupied']);
      assert.equal(await readFile(join(target, 'keep.txt'), 'utf8'), 'keep');
    });
  });
}

test('concurrent atomic writes to one target each leave a complete file and no temp files', async () => {
  await withDir(async (dir) => {
    const target = join(dir, 'race.bin');
    const payloads = Array.from({ length: 8 }, (_, i) => Buffer.alloc(64 * 1024, i + 1));
    await Promise.all(payloads.map((p) => writeFileAtomic(target, p)));
    const got = await readFile(target);
    assert.ok(
      payloads.some((p) => p.equals(got)),
      'final file must equal exactly one of the payloads',
    );
    assert.deepEqual(await readdir(dir), ['race.bin']);
  });
});
