// Opening model files for CLI commands, and the one-line check that a model has the tasks a command names.
import { PaenetError } from '../common/errors.ts';
import { loadModel, type PaeModel } from '../pae/index.ts';

export { loadModel as openModel };
export { PAENET_VERSION, provenance } from '../pae/index.ts';

/** One line naming the model file when it has no task called one of `names`. */
export function requireTasks(file: string, model: PaeModel, names: readonly string[] = []): void {
  const known = model.tasks.map((x) => x.name);
  for (const t of names)
    if (!known.includes(t))
      throw new PaenetError('PAENET_INPUT', `${file}: no task named '${t}'`, `its tasks: ${known.join(', ') || 'none'}`);
}
