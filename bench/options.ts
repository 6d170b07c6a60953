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
  /** A model file (or a built-in name, bench/models.ts) to bench instead of the benchmark's own. */
  model: string | undefined;
  /** `TASK=FILE` validation data replacing what a task's record names (a manifest, or an identity task's pairs file). */
  data: string[];
  /** Training images (manifests or class folders) to calibrate int8 graphs on; default: the tasks' own manifests. */
  calibration: string[];
  /** Faces to calibrate int8 graphs on; undefined = the benchmark's default. */
  calibrationImages: number | undefined;
  /** Op roles to keep in float in int8 graphs ('stem', 'head'); undefined = the exporter's default. */
  keepFloat: string[] | undefined;
  /** At most this many validation images per classify task (a quick run); undefined = all. */
  limit: number | undefined;
}

export type Log = (line: string) => void;
export type BenchResult = Record<string, number | string | boolean | null>;
export type Benchmark = (options: BenchOptions, log: Log) => Promise<BenchResult> | BenchResult;
