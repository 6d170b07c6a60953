// What every benchmark takes and returns (bench/run.ts dispatches; each bench/<name>.ts implements `Benchmark`).
/** Command-line options shared by every benchmark (a benchmark ignores the ones it does not use). */
export interface BenchOptions {
  json: boolean;
  /** Intra-op threads; undefined = libtorch's default (what Python torch uses too). */
  threads: number | undefined;
  /** Timed steps per measurement; undefined = the benchmark's default. */
  steps: number | undefined;
  /** Warm-up steps excluded from timing; undefined = the benchmark's default. */
  warmup: number | undefined;
  /** Batch size; undefined = the benchmark's default. */
  batch: number | undefined;
  /** Training steps of the memory (leak) check. */
  memorySteps: number;
  /** Batch size of the memory check; undefined = the benchmark's default. */
  memoryBatch: number | undefined;
  /** Channels-last (NHWC) activations and conv weights, in paenet and torch alike. */
  channelsLast: boolean;
  /** Also time bf16 autocast and channels-last training (reference net, dlib ResNet, faceres). */
  precision: boolean;
  /** Skip the Python PyTorch comparison. */
  noTorch: boolean;
}

export type Log = (line: string) => void;
export type BenchResult = Record<string, number | string | boolean | null>;
export type Benchmark = (options: BenchOptions, log: Log) => Promise<BenchResult> | BenchResult;
