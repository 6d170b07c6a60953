// Opening model files for CLI commands, the one-line check that a model has the tasks a command names, and the
// commit a run's code comes from.
import { execFileSync } from 'node:child_process';
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

/** The commit the run's code comes from, `+modified` when tracked files differ from it (taken at the start: a long run must not name a later HEAD). */
export function gitCommit(): string {
  const git = (...args: string[]): string => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') ? '+modified' : ''}`;
  } catch {
    return 'unknown';
  }
}
