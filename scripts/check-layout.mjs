#!/usr/bin/env node
// Architecture check: imports point one way (cli/serve → eval → tasks → pae → engine), data and io know no model,
// and no source file grows past 600 lines. Prints every violation and exits 1 if there is one.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const src = join(root, 'src');
// What each top-level folder of src/ may import besides itself.
const allowed = {
  engine: [],
  io: [],
  data: [],
  pae: ['engine', 'io'],
  tasks: ['pae', 'engine', 'data', 'io'],
  eval: ['tasks', 'pae', 'engine', 'data', 'io'],
  serve: ['eval', 'tasks', 'pae', 'engine', 'data', 'io'],
  cli: ['serve', 'eval', 'tasks', 'pae', 'engine', 'data', 'io'],
};
const MAX_LINES = 600;
const problems = [];
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.ts')) files.push(p);
  }
})(src);
for (const file of files) {
  const rel = relative(src, file);
  const layer = rel.split('/')[0];
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n').length;
  if (lines > MAX_LINES) problems.push(`src/${rel}: ${lines} lines (limit ${MAX_LINES}): split it`);
  if (!(layer in allowed)) {
    problems.push(`src/${rel}: folder '${layer}' is not in the layer map of scripts/check-layout.mjs`);
    continue;
  }
  for (const m of text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)) {
    const target = relative(src, resolve(dirname(file), m[1]));
    const to = target.split('/')[0];
    if (to !== layer && !allowed[layer].includes(to))
      problems.push(`src/${rel}: imports src/${target} (${layer} must not depend on ${to})`);
  }
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`layout ok: ${files.length} files`);
