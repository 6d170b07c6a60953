// Data-parallel training speed: 2 ranks × 1 thread (gloo allreduce of the masked gradients every step) against one
// process × 2 threads on the same global batch, and one process × 1 thread on one rank's batch (the ideal per-rank
// rate). One task training in the free weights of a fresh resnet-small, as add-task trains it (masked gradients, Adam).
// `npm run bench -- ddp [--batch N per rank] [--steps N] [--warmup N]`; this file is also the rank process it spawns.
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { F, joinWorld, manualSeed, optim, randint, randn, setNumThreads, tidy, world, worldSpecFromEnv } from '../src/engine/index.ts';
import { configFromPreset, maskGradients, openFree, PackableNet } from '../src/pae/index.ts';
import { averageGradients } from '../src/pae/replicas.ts';
import type { BenchOptions, BenchResult, Log } from './options.ts';
import { median } from './timing.ts';

const PRESET = 'resnet-small';

/**
 * Median seconds of a training step of `batch` images, and of the gradient allreduce alone: timed after the steps,
 * each after a barrier, since inside a step it also waits for the slower rank (large on a shared machine).
 */
function trainStep(batch: number, warmup: number, steps: number): { step: number; allreduce: number } {
  manualSeed(0);
  const net = PackableNet.create(configFromPreset(PRESET));
  net.addTaskSlot(1, 'cumulative', { kind: 'linear', classes: 8 });
  openFree(net, 1);
  const { masked, free } = net.taskParameters(1);
  const params = [...masked.map((m) => m.weight), ...free];
  const opt = new optim.Adam(params, { lr: 1e-3 });
  const size = net.config.inputSize;
  const x = randn([batch, 3, size, size]);
  const y = randint(0, 8, [batch]);
  net.training = true;
  const stepTimes: number[] = [];
  const reduceTimes: number[] = [];
  try {
    for (let i = 0; i < warmup + steps; i++) {
      const t0 = performance.now();
      tidy(() => {
        opt.zeroGrad();
        F.crossEntropy(net.forward(x, 1), y).backward();
        maskGradients(net, 1, 0);
        averageGradients(params);
        opt.step();
      });
      if (i >= warmup) stepTimes.push((performance.now() - t0) / 1e3);
    }
    for (let i = 0; i < steps && world().size > 1; i++) {
      world().barrier();
      const t0 = performance.now();
      averageGradients(params);
      reduceTimes.push((performance.now() - t0) / 1e3);
    }
  } finally {
    opt.dispose();
    net.dispose();
    x.dispose();
    y.dispose();
  }
  return { step: median(stepTimes), allreduce: reduceTimes.length ? median(reduceTimes) : 0 };
}

/** Floats the step averages: every backbone weight, and the task's BN affine and head. */
function gradientFloats(): number {
  const net = PackableNet.create(configFromPreset(PRESET));
  try {
    net.addTaskSlot(1, 'cumulative', { kind: 'linear', classes: 8 });
    const { masked, free } = net.taskParameters(1);
    return [...masked.map((m) => m.weight), ...free].reduce((n, t) => n + t.numel, 0);
  } finally {
    net.dispose();
  }
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Runs 2 rank processes of this file; returns each rank's timings. */
async function twoRanks(batch: number, warmup: number, steps: number): Promise<{ step: number; allreduce: number }[]> {
  const port = await freePort();
  const file = fileURLToPath(import.meta.url);
  return Promise.all(
    [0, 1].map(
      (rank) =>
        new Promise<{ step: number; allreduce: number }>((resolve, reject) => {
          const env = { ...process.env, RANK: String(rank), WORLD_SIZE: '2', MASTER_PORT: String(port), OMP_WAIT_POLICY: 'PASSIVE' };
          const child = spawn(process.execPath, ['--import', 'tsx', file, String(batch), String(warmup), String(steps)], { env });
          let out = '';
          let err = '';
          child.stdout.setEncoding('utf8').on('data', (d: string) => void (out += d));
          child.stderr.setEncoding('utf8').on('data', (d: string) => void (err += d));
          child.on('close', (code) =>
            code === 0
              ? resolve(JSON.parse(out) as { step: number; allreduce: number })
              : reject(new Error(`rank ${rank}: exit ${code}\n${err}`)),
          );
        }),
    ),
  );
}

export async function run(o: BenchOptions, log: Log): Promise<BenchResult> {
  const batch = o.batch ?? 32;
  const warmup = o.warmup ?? 3;
  const steps = o.steps ?? 10;
  log(`ddp: ${PRESET}, ${batch} images per rank, ${warmup} warm-up + ${steps} timed steps`);
  log('2 ranks × 1 thread ...');
  const ranks = await twoRanks(batch, warmup, steps);
  const ddpStep = Math.max(...ranks.map((r) => r.step));
  log('1 process × 2 threads, the same global batch ...');
  setNumThreads(2);
  const two = trainStep(2 * batch, warmup, steps);
  log("1 process × 1 thread, one rank's batch ...");
  setNumThreads(1);
  const one = trainStep(batch, warmup, steps);
  const ddp = (2 * batch) / ddpStep;
  return {
    backbone: PRESET,
    batch_per_rank: batch,
    ddp_2rank_img_s: Number(ddp.toFixed(1)),
    single_2thread_img_s: Number(((2 * batch) / two.step).toFixed(1)),
    single_1thread_img_s: Number((batch / one.step).toFixed(1)),
    /** ddp img/s over twice one rank's rate alone: 1 = perfect scaling. */
    scaling_efficiency: Number((ddp / ((2 * batch) / one.step)).toFixed(3)),
    ddp_vs_2threads: Number((ddp / ((2 * batch) / two.step)).toFixed(3)),
    /** One step's gradient allreduce (all buckets), the ranks already in step. */
    allreduce_ms: Number((1000 * Math.max(...ranks.map((r) => r.allreduce))).toFixed(2)),
    gradient_mb: Number(((4 * gradientFloats()) / 1e6).toFixed(2)),
  };
}

// Run as a script: a rank process (spawned above, RANK set) times its step and prints the timings; otherwise the
// whole benchmark with its defaults, one JSON line on stdout (`node --import tsx bench/ddp.ts`).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.env.RANK !== undefined) {
    const [batch, warmup, steps] = process.argv.slice(2).map(Number) as [number, number, number];
    joinWorld(worldSpecFromEnv()!);
    setNumThreads(1);
    const r = trainStep(batch, warmup, steps);
    world().barrier();
    process.stdout.write(JSON.stringify(r));
  } else {
    const defaults = { batch: undefined, steps: undefined, warmup: undefined } as unknown as BenchOptions;
    const result = await run(defaults, (line) => process.stderr.write(`${line}\n`));
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
}
