#!/usr/bin/env node
// Builds what the npm package runs: src/ → dist/ (JavaScript + .d.ts, tsconfig.build.json), plus every non-TypeScript
// file under src/ copied beside the compiled code (the web page's script, ...), since src/ finds those relative to
// itself at run time. Run by `npm run build` and by `npm pack` (prepack). dist/ is rebuilt from scratch each time so
// a moved or deleted module leaves nothing stale behind.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
if (!existsSync(tsc)) {
  console.error('paenet: TypeScript is not installed (a devDependency): run `npm ci` in the repository first');
  process.exit(1);
}

rmSync(dist, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) {
  console.error('paenet: compiling src/ to dist/ failed (see the errors above)');
  process.exit(1);
}

let assets = 0;
(function copyAssets(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) copyAssets(p);
    else if (!p.endsWith('.ts')) {
      cpSync(p, join(dist, relative(src, p)));
      assets++;
    }
  }
})(src);
console.log(`paenet: built dist/ from src/ (${assets} asset file(s) copied)`);
