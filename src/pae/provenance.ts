// Who made a model: paenet's and libtorch's versions, when and where — stamped into every model file's manifest.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { engineInfo } from '../engine/index.ts';
import type { Provenance } from './model.ts';

// package.json sits two folders up from src/pae/ and from dist/pae/ alike.
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** paenet's version (package.json). */
export const PAENET_VERSION = pkg.version;

/** The provenance record of a model created now. */
export function provenance(): Provenance {
  return { paenetVersion: PAENET_VERSION, torchVersion: engineInfo().torchVersion, created: new Date().toISOString(), host: hostname() };
}
