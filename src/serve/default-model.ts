// The shipped model: models/paenet-face.pae at the package root (identity, gender, age and expression packed in one
// backbone), used by `analyze`, `verify` and `serve` when no model file is named.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PaenetError } from '../common/errors.ts';
import { loadModel, type PaeModel } from '../pae/index.ts';

/** The shipped model's path. This file sits one folder below src/ (or dist/ once built), as the package root's models/ does. */
export function defaultModelPath(): string {
  return fileURLToPath(new URL('../../models/paenet-face.pae', import.meta.url));
}

/** The shipped model's path when it is there; otherwise one line saying so and what to pass instead. */
export function requireDefaultModel(): string {
  const path = defaultModelPath();
  if (!existsSync(path))
    throw new PaenetError(
      'PAENET_NOT_FOUND',
      `${path}: the shipped model is not in this checkout yet; pass a model file`,
      'name one: `--model FILE.pae` (or a first argument ending in .pae), e.g. `paenet analyze --model my.pae photo.jpg`',
    );
  return path;
}

/** Loads the shipped model (the caller disposes it). */
export function loadDefaultModel(): PaeModel {
  return loadModel(requireDefaultModel());
}
