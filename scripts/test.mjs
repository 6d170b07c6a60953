#!/usr/bin/env node
// The test command: type-check, architecture check, then every test/**/*.test.ts with node's test runner via tsx.
// (Node 20's --test takes no globs, hence the file walk.) Arguments filter test files by substring.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);
const step = (args) => {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
// One libtorch thread and passive OpenMP waiting: tests stay deterministic and CI's shared cores stay usable.
const env = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '1' };
if (filters.length === 0) {
  step([join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', root]);
  step([join(root, 'scripts/check-layout.mjs')]);
}
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(relative(root, p));
  }
})(join(root, 'test'));
const chosen = filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files;
step(['--import', 'tsx', '--test', '--test-concurrency=1', ...chosen]);
