// Shared test helpers: where the real face data lives, naive manifest counting, temp folders.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's data folder (a link to the shared face data; never copied into the repo). */
export const DATA = fileURLToPath(new URL('../../data/', import.meta.url));

/**
 * Never skips: the suite needs the shared face data (README: `data/` links to ../shared/data, which
 * `npm test` sets up). A missing set fails loudly here instead of silently skipping real-data tests.
 */
export function needData(set: string): false {
  if (!existsSync(join(DATA, set, 'manifest.csv')))
    throw new Error(`shared data set ${set} not found under ${DATA} (link data -> ../shared/data)`);
  return false;
}

/** Reads a (quote-free) manifest with a plain split, independent of the code under test. */
export function naiveRows(set: string): Record<string, string>[] {
  const lines = readFileSync(join(DATA, set, 'manifest.csv'), 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  const header = lines[0]!.split(',');
  return lines.slice(1).map((l) => {
    const cells = l.split(',');
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
  });
}

/** Runs `fn` with a fresh temp folder, removed afterwards. */
export async function withTmp<T>(fn: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'paenet-data-test-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A fresh temp folder, removed when the test process exits. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
