// Installed npm packages by name: their folder (whatever their `exports` map allows) and version.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

/** Folder of an installed package, e.g. '@vladmandic/face-api' (searched like require, whatever its `exports` allow). */
export function packageRoot(name: string): string {
  for (const base of require.resolve.paths(name) ?? []) {
    const dir = join(base, name);
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new Error(`paenet: the npm package ${name} is not installed (npm ci installs it)`);
}

/** Version of an installed package. */
export function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(join(packageRoot(name), 'package.json'), 'utf8')) as { version: string }).version;
}
