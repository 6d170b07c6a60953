// The architecture check itself: it passes a tree whose imports point down the layers, and fails one with an
// import reversed against the layer map, an import cycle (type-only included), or a folder outside the map.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';

const script = new URL('../../scripts/check-layout.mjs', import.meta.url).pathname;
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Writes a src/ tree of `files` (path → text) and runs the check on it. */
function check(files: Record<string, string>): { status: number | null; out: string } {
  const src = mkdtempSync(join(tmpdir(), 'paenet-layout-'));
  dirs.push(src);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(src, path)), { recursive: true });
    writeFileSync(join(src, path), text);
  }
  const r = spawnSync(process.execPath, [script, src], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

const downward = {
  'engine/tensor.ts': 'export const t = 1;\n',
  'pae/net.ts': "import { t } from '../engine/tensor.ts';\nexport const n = t;\n",
  'cli/main.ts': "import { n } from '../pae/net.ts';\nconsole.log(n);\n",
  'index.ts': "export { n } from './pae/net.ts';\n",
};

test('a tree whose imports point down the layers passes', () => {
  const r = check(downward);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /layout ok: 4 files/);
});

test('a reversed import (engine importing pae) fails, naming the file and the rule', () => {
  const r = check({ ...downward, 'engine/tensor.ts': "import type { n } from '../pae/net.ts';\nexport const t = 1;\n" });
  assert.equal(r.status, 1);
  assert.match(r.out, /src\/engine\/tensor\.ts: imports src\/pae\/net\.ts \(engine must not depend on pae\)/);
});

test('a layer importing the public entry fails', () => {
  const r = check({ ...downward, 'pae/net.ts': "import '../engine/tensor.ts';\nexport { t as n } from '../index.ts';\n" });
  assert.equal(r.status, 1);
  assert.match(r.out, /src\/pae\/net\.ts: imports src\/index\.ts/);
});

test('a type-only import cycle inside one layer fails', () => {
  const r = check({
    ...downward,
    'pae/a.ts': "import type { B } from './b.ts';\nexport type A = { b?: B };\n",
    'pae/b.ts': "import type { A } from './a.ts';\nexport type B = { a?: A };\n",
  });
  assert.equal(r.status, 1);
  assert.match(r.out, /import cycle: .*pae\/a\.ts ↔ .*pae\/b\.ts/);
});

test('a dynamic import closing a cycle fails too', () => {
  const r = check({
    ...downward,
    'cli/a.ts': "export const load = () => import('./b.ts');\n",
    'cli/b.ts': "import type { load } from './a.ts';\nexport type L = typeof load;\n",
  });
  assert.equal(r.status, 1);
  assert.match(r.out, /import cycle/);
});

test('a folder outside the layer map fails', () => {
  const r = check({ ...downward, 'misc/x.ts': 'export const x = 1;\n' });
  assert.equal(r.status, 1);
  assert.match(r.out, /folder 'misc' is not in the layer map/);
});
