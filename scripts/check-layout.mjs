#!/usr/bin/env node
// Architecture check: imports point one way down the layer map below, no file imports itself back through a cycle
// (type-only imports included), and no source file grows past 600 lines. Prints every violation and exits 1.
// `node scripts/check-layout.mjs [SRC_DIR]` checks another tree (its own test uses that).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const src = resolve(process.argv[2] ?? join(root, 'src'));
// What each top-level folder of src/ may import besides itself. Leaves first; each layer sees only those below it.
const allowed = {
  common: [],
  engine: ['common'],
  io: ['common'],
  data: ['common'],
  metrics: ['common'],
  pae: ['engine', 'io', 'common'],
  tasks: ['pae', 'engine', 'data', 'io', 'metrics', 'common'],
  peers: ['tasks', 'pae', 'engine', 'data', 'io', 'metrics', 'common'],
  workflows: ['peers', 'tasks', 'pae', 'engine', 'data', 'io', 'metrics', 'common'],
  report: ['workflows', 'metrics', 'io', 'common'],
  serve: ['workflows', 'peers', 'tasks', 'pae', 'engine', 'data', 'io', 'metrics', 'common'],
  cli: ['serve', 'report', 'workflows', 'peers', 'tasks', 'pae', 'engine', 'data', 'io', 'metrics', 'common'],
};
// Files directly in src/ (the package's public entry points) may import any layer; no layer imports them.
const PUBLIC = '(public)';
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
const layerOf = (rel) => (rel.includes('/') ? rel.split('/')[0] : PUBLIC);
const edges = new Map(); // file -> files it imports (relative specifiers only)
// Static imports and re-exports (type-only included) and dynamic import('./x.ts') calls.
const IMPORTS = /^\s*(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]|\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/gm;
const specifiers = (text) => [...text.matchAll(IMPORTS)].map((m) => m[1] ?? m[2]);
for (const file of files) {
  const rel = relative(src, file);
  const layer = layerOf(rel);
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n').length;
  if (lines > MAX_LINES) problems.push(`src/${rel}: ${lines} lines (limit ${MAX_LINES}): split it`);
  if (layer !== PUBLIC && !(layer in allowed)) {
    problems.push(`src/${rel}: folder '${layer}' is not in the layer map of scripts/check-layout.mjs`);
    continue;
  }
  const targets = [];
  for (const spec of specifiers(text)) {
    const abs = resolve(dirname(file), spec);
    const target = relative(src, abs);
    targets.push(abs);
    const to = layerOf(target);
    if (to === PUBLIC && layer !== PUBLIC) problems.push(`src/${rel}: imports src/${target} (only the public entry imports layers, never the reverse)`);
    else if (layer !== PUBLIC && to !== layer && !allowed[layer].includes(to))
      problems.push(`src/${rel}: imports src/${target} (${layer} must not depend on ${to})`);
  }
  edges.set(file, targets);
}
// bench/ sits outside the layers (it may import any of them) but joins the cycle check.
const bench = join(root, 'bench');
if (process.argv[2] === undefined)
  for (const name of readdirSync(bench).filter((n) => n.endsWith('.ts'))) {
    const file = join(bench, name);
    const text = readFileSync(file, 'utf8');
    edges.set(file, specifiers(text).map((spec) => resolve(bench, spec)));
  }
// Cycles between files (Tarjan's strongly connected components): any component of two or more files is one.
let index = 0;
const idx = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const strong = (v) => {
  idx.set(v, index);
  low.set(v, index++);
  stack.push(v);
  onStack.add(v);
  for (const w of edges.get(v) ?? []) {
    if (!edges.has(w)) continue;
    if (!idx.has(w)) {
      strong(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      comp.push(relative(root, w));
    } while (w !== v);
    if (comp.length > 1 || (edges.get(v) ?? []).includes(v)) problems.push(`import cycle: ${comp.sort().join(' ↔ ')}`);
  }
};
for (const f of edges.keys()) if (!idx.has(f)) strong(f);
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`layout ok: ${files.length} files, no import cycles`);
