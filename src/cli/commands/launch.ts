// paenet launch --nproc N -- COMMAND ...: a training command as N data-parallel ranks on this machine, each a child
// `paenet` process with torchrun's variables (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR/PORT).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { PaenetError } from '../../common/errors.ts';
import { distributedAvailable } from '../../engine/index.ts';
import { registerRanks, TRAINING_COMMANDS } from '../ranks.ts';

/**
 * After one rank fails, the others get this long to notice (a dead peer's sockets close at once, so they normally
 * end within a second, each with its one line) before the launcher ends them: a rank that hangs must not keep the
 * job alive.
 */
const GRACE_MS = 10_000;

interface Options {
  nproc: string;
  masterPort?: string;
}

interface Exit {
  rank: number;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A port free on loopback now, for rank 0's rendezvous store (what torchrun's standalone mode does). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function positive(flag: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new PaenetError('PAENET_INPUT', `${flag} must be a positive integer, got '${raw}'`);
  return n;
}

/**
 * Starts the ranks and resolves when every one has ended, with the first that failed (the cause: the others end
 * because it did); after it, the rest get GRACE_MS.
 */
function runRanks(nproc: number, port: number, args: string[]): Promise<Exit | undefined> {
  const bin = fileURLToPath(new URL('../../../bin/paenet.mjs', import.meta.url));
  const children: ChildProcess[] = [];
  const forward = (signal: NodeJS.Signals) => () => children.forEach((c) => c.exitCode === null && c.kill(signal));
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt).on('SIGTERM', onTerm);
  let grace: NodeJS.Timeout | undefined;
  let first: Exit | undefined;
  const exits = Array.from({ length: nproc }, (_, rank) => {
    const env = {
      ...process.env,
      RANK: String(rank),
      LOCAL_RANK: String(rank),
      WORLD_SIZE: String(nproc),
      LOCAL_WORLD_SIZE: String(nproc),
      MASTER_ADDR: '127.0.0.1',
      MASTER_PORT: String(port),
    };
    const child = spawn(process.execPath, [...process.execArgv, bin, ...args], { env, stdio: 'inherit' });
    children.push(child);
    return new Promise<Exit>((resolve) => {
      const end = (e: Exit): void => {
        if ((e.code !== 0 || e.signal) && first === undefined) {
          first = e;
          grace = setTimeout(forward('SIGTERM'), GRACE_MS);
        }
        resolve(e);
      };
      child.once('error', () => end({ rank, pid: child.pid ?? 0, code: 1, signal: null }));
      child.once('exit', (code, signal) => end({ rank, pid: child.pid ?? 0, code, signal }));
    });
  });
  return Promise.all(exits)
    .then(() => first)
    .finally(() => {
      clearTimeout(grace);
      process.off('SIGINT', onInt).off('SIGTERM', onTerm);
    });
}

export function registerLaunch(program: Command): void {
  // Any training command started with RANK/WORLD_SIZE (by this launcher, torchrun or by hand) joins its ranks.
  registerRanks(program);
  program
    .command('launch')
    .description('run a training command (add-task, prune, experiment) as N data-parallel processes on this machine')
    .requiredOption('--nproc <n>', 'processes (ranks): each takes 1/N of every batch, so --batch-size is per rank')
    .option('--master-port <port>', "rank 0's rendezvous port on 127.0.0.1 (default: a free one)")
    .argument('<command...>', 'after --: the paenet command and its options, e.g. -- add-task model.pae --name age ...')
    .action(async (command: string[], o: Options, cmd: Command) => {
      const nproc = positive('--nproc', o.nproc);
      if (!TRAINING_COMMANDS.includes(command[0] ?? ''))
        throw new PaenetError(
          'PAENET_INPUT',
          `launch runs ${TRAINING_COMMANDS.join(', ')}; got '${command[0] ?? ''}'`,
          'put the command after --: paenet launch --nproc 2 -- add-task model.pae ...',
        );
      if (nproc > 1 && !distributedAvailable())
        throw new PaenetError(
          'PAENET_UNSUPPORTED',
          'this build has no c10d/gloo (apt-get install libgloo-dev, then npm run build:native)',
          'build the addon with gloo, or run the command without launch (one process)',
        );
      const port = o.masterPort ? positive('--master-port', o.masterPort) : await freePort();
      const threads = (cmd.parent?.opts() as { threads?: string } | undefined)?.threads;
      const first = await runRanks(nproc, port, [...(threads ? ['--threads', threads] : []), ...command]);
      if (!first) return;
      // A rank that exited with a code printed its own line: end with its code. One killed by a signal said nothing.
      if (first.signal === null) {
        process.exitCode = first.code ?? 1;
        return;
      }
      throw new PaenetError(
        'PAENET_INTERNAL',
        `rank ${first.rank} (pid ${first.pid}) was killed by ${first.signal}: the data-parallel job stopped`,
        'rerun the same command with --resume to continue from the last checkpoint',
      );
    });
}
