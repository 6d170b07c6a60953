// Data-parallel ranks from torchrun's variables: a training command started with RANK and WORLD_SIZE (by `paenet
// launch`, by torchrun, or by hand on several machines) joins the other ranks before it runs. Rank 0 is the job's
// voice; the other ranks print only their error line, so N processes read like one.
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { joinWorld, setNumThreads, worldSpecFromEnv } from '../engine/index.ts';

/** The commands that train, and so run data-parallel; any other command ignores the variables. */
export const TRAINING_COMMANDS: readonly string[] = ['add-task', 'prune', 'experiment'];

/**
 * A non-main rank's output: nothing on stdout, and on stderr only `paenet: ...` lines (its one-line error), unless
 * PAENET_DEBUG asks for everything. The CLI's notes and bars would otherwise repeat rank 0's N times.
 */
function quietRank(): void {
  if (process.env.PAENET_DEBUG) return;
  const done = (args: unknown[]): true => {
    const callback = args.find((a) => typeof a === 'function') as (() => void) | undefined;
    if (callback) queueMicrotask(callback);
    return true;
  };
  process.stdout.write = ((_chunk: unknown, ...rest: unknown[]) => done(rest)) as typeof process.stdout.write;
  const write = process.stderr.write.bind(process.stderr) as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return text.startsWith('paenet: ') ? write(chunk, ...rest) : done(rest);
  }) as typeof process.stderr.write;
}

/**
 * Adds the hook that makes a training command a rank when WORLD_SIZE > 1: libtorch threads default to this
 * machine's cores shared by its ranks (LOCAL_WORLD_SIZE, else WORLD_SIZE), the process joins the group (blocking
 * until every rank has), the ranks check they run the same command line, and the non-main ranks go quiet and end
 * when the training job ends (saving the model and reports is rank 0's).
 */
export function registerRanks(program: Command): void {
  program.hook('preAction', (root, action) => {
    if (!TRAINING_COMMANDS.includes(action.name())) return;
    const spec = worldSpecFromEnv();
    if (!spec) return;
    if ((root.opts() as { threads?: string }).threads === undefined && process.env.PAENET_THREADS === undefined) {
      const local = Number(process.env.LOCAL_WORLD_SIZE) || spec.size;
      setNumThreads(Math.max(1, Math.floor(availableParallelism() / local)));
    }
    const w = joinWorld(spec, { onJobEnd: () => process.exit(0) });
    if (!w.isMain) quietRank();
    w.agree('the command line', JSON.stringify(process.argv.slice(2)));
  });
}
