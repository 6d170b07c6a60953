// Benchmark dispatcher: `npm run bench -- <name> [--json] [--threads N] [--steps N] [--memory-steps N] ...`.
// Each benchmark is a module in bench/ exporting `run(options, log)`, which returns a flat result object; the
// dispatcher prints that object as the last line of stdout (with --json: the only line; progress goes to stderr).
import { parseArgs } from 'node:util';
import type { BenchOptions, Benchmark, Log } from './options.ts';

/** Known benchmarks, loaded on demand so one benchmark's imports do not slow another. Add new ones here. */
const BENCHMARKS: Record<string, { describe: string; load: () => Promise<Benchmark> }> = {
  engine: {
    describe: 'reference conv net: paenet vs Python PyTorch training/inference img/s, RSS and tensor-leak check',
    load: async () => (await import('./engine.ts')).run,
  },
  serve: {
    describe:
      'serving: ms per face at batch 1, faces/s at batch 32 (onnxruntime-node vs libtorch eager), int8 vs fp32 per module, analyze, HTTP load test',
    load: async () => (await import('./serve.ts')).run,
  },
  quantize: {
    describe: "int8 vs fp32 onnxruntime graphs: each module's validation accuracy (top-1, 10-fold verification) and ms per face at batch 1",
    load: async () => (await import('./quantize.ts')).run,
  },
  ddp: {
    describe: 'data-parallel training: 2 ranks × 1 thread vs 1 process × 2 threads img/s, scaling efficiency, allreduce ms',
    load: async () => (await import('./ddp.ts')).run,
  },
};

const USAGE = `usage: npm run bench -- <benchmark> [options]

benchmarks:
${Object.entries(BENCHMARKS)
  .map(([n, b]) => `  ${n.padEnd(10)} ${b.describe}`)
  .join('\n')}

options:
  --json              print only the result JSON on stdout (progress on stderr)
  --threads N         intra-op threads (default: libtorch's default)
  --steps N           timed steps per measurement (default: the benchmark's)
  --warmup N          warm-up steps excluded from timing (default: the benchmark's)
  --batch N           batch size (default: the benchmark's)
  --memory-steps N    training steps of the memory check (default 1000; 0 skips it)
  --memory-batch N    batch size of the memory check (default: the benchmark's)
  --channels-last     NHWC activations and conv weights (paenet and torch alike)
  --precision         also time bf16 autocast / channels-last training (reference net, dlib ResNet, faceres)
  --no-torch          skip the Python PyTorch comparison
  --model FILE|NAME   bench this model file (serve, quantize); NAME: faceres-packed (bench/models.ts)
  --data TASK=FILE    validation data of a task instead of its record's (quantize; repeatable)
  --calibration FILE  training images (manifest or class folder) to calibrate int8 graphs on (repeatable)
  --calibration-images N  faces to calibrate int8 graphs on
  --keep-float ROLES  op roles int8 graphs keep in float: stem, head (comma-separated; 'none' for none)
  --limit N           at most N validation images per classify task (quantize)
`;

function positiveInt(name: string, v: string | undefined, allowZero = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1))
    throw new Error(`--${name} needs a ${allowZero ? 'non-negative' : 'positive'} integer, got '${v}'`);
  return n;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      threads: { type: 'string' },
      steps: { type: 'string' },
      warmup: { type: 'string' },
      batch: { type: 'string' },
      'memory-steps': { type: 'string' },
      'memory-batch': { type: 'string' },
      'channels-last': { type: 'boolean', default: false },
      'no-torch': { type: 'boolean', default: false },
      precision: { type: 'boolean', default: false },
      model: { type: 'string' },
      data: { type: 'string', multiple: true, default: [] },
      calibration: { type: 'string', multiple: true, default: [] },
      'calibration-images': { type: 'string' },
      'keep-float': { type: 'string' },
      limit: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const name = positionals[0];
  if (values.help || name === undefined) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  const bench = BENCHMARKS[name];
  if (!bench) {
    process.stderr.write(`unknown benchmark '${name}'\n\n${USAGE}`);
    return 2;
  }
  const options: BenchOptions = {
    json: values.json,
    threads: positiveInt('threads', values.threads),
    steps: positiveInt('steps', values.steps),
    warmup: positiveInt('warmup', values.warmup, true),
    batch: positiveInt('batch', values.batch),
    memorySteps: positiveInt('memory-steps', values['memory-steps'], true) ?? 1000,
    memoryBatch: positiveInt('memory-batch', values['memory-batch']),
    channelsLast: values['channels-last'],
    noTorch: values['no-torch'],
    precision: values.precision,
    model: values.model,
    data: values.data,
    calibration: values.calibration,
    calibrationImages: positiveInt('calibration-images', values['calibration-images']),
    keepFloat: values['keep-float'] === undefined ? undefined : values['keep-float'].split(',').filter((r) => r !== '' && r !== 'none'),
    limit: positiveInt('limit', values.limit),
  };
  const out = options.json ? process.stderr : process.stdout;
  const log: Log = (line) => void out.write(`${line}\n`);
  const result = await (await bench.load())(options, log);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
