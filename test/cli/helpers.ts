// Shared helpers for the CLI tests: run the real `paenet` command, temp folders, the one-line error contract.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** A file of the shared face data (never copied: the tests read it in place). Fails, never skips, when it is missing. */
export function dataFile(...parts: string[]): string {
  const p = join(repoRoot, 'data', ...parts);
  if (!existsSync(p)) throw new Error(`shared face data ${p} not found (link data -> ../shared/data)`);
  return p;
}

/** One libtorch thread, passive OpenMP waits, no debug stacks (they would break the one-line contract). */
export function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: '1', OMP_WAIT_POLICY: 'PASSIVE' };
  delete env.PAENET_DEBUG;
  delete env.PAENET_THREADS;
  return env;
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/paenet.mjs --threads 1 ...args` in the repository root and waits for it. */
export function paenet(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, ['bin/paenet.mjs', '--threads', '1', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: cliEnv(),
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same as {@link paenet}, without blocking: independent checks can run side by side. */
export function paenetAsync(...args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/paenet.mjs', '--threads', '1', ...args], {
      cwd: repoRoot,
      env: cliEnv(),
      timeout: 120_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => void (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => void (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Runs a command that must succeed (exit 0) and returns its parsed --json stdout. */
export function paenetJson<T>(...args: string[]): T {
  const r = paenet(...args);
  assert.equal(r.status, 0, `paenet ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    assert.fail(`paenet ${args.join(' ')}: stdout is not one JSON document:\n${r.stdout}`);
  }
}

/** A fresh temp folder for models and logs. */
export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `paenet-${tag}-`));
}

export function nonEmptyLines(s: string): string[] {
  return s.split(/\r?\n/).filter((l) => l.trim() !== '');
}

/**
 * The error contract: a non-zero exit code (`exit` when given: each PaenetError code has its own, src/common/errors.ts)
 * and exactly one non-empty line on stderr, mentioning `mentions` (typically the offending path) and matching
 * `problem`. Returns the line.
 */
export function assertOneLineError(r: CliResult, mentions: string, problem: RegExp, exit?: number): string {
  assert.notEqual(r.status, 0, `expected a failure, got exit 0; stdout:\n${r.stdout}`);
  assert.ok(r.status !== null, `killed by a signal, not an exit: ${r.stderr}`);
  if (exit !== undefined) assert.equal(r.status, exit, `expected exit ${exit}, got ${r.status}: ${r.stderr}`);
  const lines = nonEmptyLines(r.stderr);
  assert.equal(lines.length, 1, `expected exactly one line on stderr, got ${lines.length}:\n${r.stderr}`);
  const line = lines[0]!;
  assert.ok(line.includes(mentions), `stderr should name ${mentions}: ${line}`);
  assert.match(line, problem);
  assert.doesNotMatch(line, /^\s+at |TypeError|ERR_[A-Z_]+|Received undefined/, `not a raw exception: ${line}`);
  return line;
}
