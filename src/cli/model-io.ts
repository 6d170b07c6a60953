// Opening and creating model files for CLI commands, with provenance filled in.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { PaenetError } from '../common/errors.ts';
import { engineInfo } from '../engine/index.ts';
import { loadModel, type PaeModel, type Provenance } from '../pae/index.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** paenet's version (package.json). */
export const PAENET_VERSION = pkg.version;

export function provenance(): Provenance {
  return { paenetVersion: PAENET_VERSION, torchVersion: engineInfo().torchVersion, created: new Date().toISOString(), host: hostname() };
}

export { loadModel as openModel };

/** One line naming the model file when it has no task called one of `names`. */
export function requireTasks(file: string, model: PaeModel, names: readonly string[] = []): void {
  const known = model.tasks.map((x) => x.name);
  for (const t of names)
    if (!known.includes(t))
      throw new PaenetError('PAENET_INPUT', `${file}: no task named '${t}'`, `its tasks: ${known.join(', ') || 'none'}`);
}
