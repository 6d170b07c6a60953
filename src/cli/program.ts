// The paenet program: every subcommand, and the error contract (one line on stderr with the fix, an exit code per
// error code).
import { availableParallelism } from 'node:os';
import { Command, CommanderError } from 'commander';
import { errorCode, exitCode, PaenetError } from '../common/errors.ts';
import { setNumThreads } from '../engine/index.ts';
import { registerAddTask } from './commands/add-task.ts';
import { registerAnalyze } from './commands/analyze.ts';
import { registerCompact } from './commands/compact.ts';
import { registerEval } from './commands/eval.ts';
import { registerExperiment } from './commands/experiment.ts';
import { registerExport } from './commands/export.ts';
import { registerImport } from './commands/import.ts';
import { registerInfo } from './commands/info.ts';
import { registerInit } from './commands/init.ts';
import { registerLaunch } from './commands/launch.ts';
import { registerPredict } from './commands/predict.ts';
import { registerPrune } from './commands/prune.ts';
import { registerServe } from './commands/serve.ts';
import { registerDemo } from './commands/demo.ts';
import { registerShip } from './commands/ship.ts';
import { PAENET_VERSION } from './model-io.ts';

/** Builds the program (tests call it with exitOverride). */
export function buildProgram(): Command {
  const program = new Command('paenet')
    .description('pack face verification, age, gender, expression and your own tasks into one compact network (PAE)')
    .version(PAENET_VERSION)
    .option('--threads <n>', 'libtorch threads (default: PAENET_THREADS or every CPU)')
    .showHelpAfterError()
    .hook('preAction', (cmd) => {
      const raw = (cmd.opts() as { threads?: string }).threads ?? process.env.PAENET_THREADS;
      const n = raw === undefined ? availableParallelism() : Number(raw);
      if (!Number.isInteger(n) || n < 1) throw new PaenetError('PAENET_INPUT', `--threads must be a positive integer, got '${raw}'`);
      setNumThreads(n);
    });
  registerInit(program);
  registerImport(program);
  registerAddTask(program);
  registerPrune(program);
  registerInfo(program);
  registerEval(program);
  registerPredict(program);
  registerExperiment(program);
  registerShip(program);
  registerDemo(program);
  registerExport(program);
  registerCompact(program);
  registerAnalyze(program);
  registerServe(program);
  registerLaunch(program);
  return program;
}

/** The one stderr line of a failure: `paenet: <message>`, and for a PaenetError its hint. */
function errorLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const line = message.startsWith('paenet:') ? message : `paenet: ${message}`;
  return e instanceof PaenetError ? `${line}; hint: ${e.hint}` : line;
}

/** Runs the CLI: errors are one line on stderr; the exit code is the error code's (usage errors 2, others 1). */
export async function main(argv = process.argv): Promise<void> {
  const program = buildProgram().exitOverride();
  // Subcommands copy the exit callback when they are created, before this point: override theirs too, or their
  // usage errors would process.exit(1) instead of reaching the handler below (exit code 2).
  for (const command of program.commands) command.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    process.stderr.write(`${errorLine(e)}\n`);
    if (process.env.PAENET_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    process.exitCode = exitCode(errorCode(e));
  }
}
