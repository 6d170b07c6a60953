// Seeded, prefetching batch iterator over decoded images; augmentation runs in a worker thread.
import { Worker } from 'node:worker_threads';
import type { AugmentOptions } from './augment.ts';
import { buildBatchX, type BatchRequest } from './batch-build.ts';
import { mixSeed, mulberry32, shuffleInPlace } from './rng.ts';

/** Decoded images and their labels. */
export interface LoaderData {
  /** Packed uint8 RGB HWC images, `size` x `size` each (e.g. `decodeMany(...).pixels`). */
  pixels: Uint8Array;
  /** Class index of each image in `pixels`. */
  labels: ArrayLike<number>;
  size: number;
  /** Iterate only these images (e.g. one k-fold's train indices). Default: all. */
  indices?: ArrayLike<number>;
}

/** Options of {@link BatchLoader}. */
export interface BatchLoaderOptions {
  batchSize: number;
  /** Seed of the shuffles and augmentation. Default 0. */
  seed?: number;
  /** Shuffle each epoch (seeded by seed and epoch). Default true. */
  shuffle?: boolean;
  /** Training augmentation, or false (default) for the plain eval path. */
  augment?: AugmentOptions | false;
  /** Eval path only: mirror every image. Default false. */
  flip?: boolean;
  /** Drop a last, smaller batch. Default false. */
  dropLast?: boolean;
  /** Build batches in a worker thread (default true); false builds them on the main thread. */
  worker?: boolean;
  /** Batches prepared ahead of the consumer. Default 2. */
  prefetch?: number;
  /**
   * Data-parallel: this process is rank `rank` of `size`. Every rank walks the same shuffled order; batch b of the
   * epoch is the global batch of `batchSize × size` images one process would take, and each rank builds its slice
   * of it (augmented as that process would have). Default: one process.
   */
  shard?: Shard;
}

/** A data-parallel rank's place: rank `rank` of `size` processes. */
export interface Shard {
  rank: number;
  size: number;
}

/** One batch: inputs, labels, and which images they are. */
export interface Batch {
  /** float32 NCHW, n x 3 x size x size, normalised (x - 127.5) / 128. Owned by the consumer. */
  x: Float32Array;
  y: Int32Array;
  n: number;
  /** Image indices (into LoaderData.pixels) of this batch. */
  indices: Int32Array;
  epoch: number;
  /** Batch number within the epoch. */
  index: number;
  /** Images in the global batch this one is a slice of (= n in one process). */
  global: number;
}

// tsx registers its loader in the main thread only, so a worker running TypeScript sources must
// register it itself before importing the worker module.
// Only dynamic import here: the eval'd code runs as CommonJS or as ESM (--input-type=module).
const WORKER_BOOT = `
(async () => {
  const { workerData } = await import('node:worker_threads');
  if (workerData.tsxApi) (await import(workerData.tsxApi)).register();
  await import(workerData.url);
})();
`;

function workerModule(): { url: string; tsxApi: string | null } {
  const url = new URL(import.meta.url.endsWith('.ts') ? './batch-worker.ts' : './batch-worker.js', import.meta.url).href;
  let tsxApi: string | null = null;
  if (url.endsWith('.ts')) {
    try {
      tsxApi = import.meta.resolve('tsx/esm/api');
    } catch {
      tsxApi = null; // no tsx: the worker fails to load and the loader falls back to the main thread
    }
  }
  return { url, tsxApi };
}

interface Pending {
  req: BatchRequest;
  resolve: (x: Float32Array) => void;
  reject: (e: Error) => void;
}

/**
 * Yields shuffled, augmented batches: `for await (const b of loader.epoch(e))`. While the consumer
 * works on batch b, batches b+1..b+prefetch are built in a worker thread. Each epoch visits every
 * selected image exactly once, in an order fixed by (seed, epoch); augmentation of a batch is fixed
 * by (seed, epoch, batch), so results do not depend on timing. The worker never keeps the process
 * alive while idle; call `close()` when done. If the worker cannot start (e.g. no TypeScript
 * loader in the worker), batches are built on the main thread instead.
 */
export class BatchLoader {
  readonly size: number;
  private readonly pixels: Uint8Array;
  private readonly labels: Int32Array;
  private readonly selection: Int32Array;
  private readonly opts: Required<Omit<BatchLoaderOptions, 'augment'>> & { augment: AugmentOptions | false };
  private readonly shard: Shard;
  private worker: Worker | null = null;
  private workerFailed = false;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  constructor(data: LoaderData, options: BatchLoaderOptions) {
    const { size } = data;
    const count = data.pixels.length / (size * size * 3);
    if (!Number.isInteger(count))
      throw new Error(`BatchLoader: ${data.pixels.length} pixel bytes are not a whole number of ${size}x${size}x3 images`);
    if (data.labels.length !== count) throw new Error(`BatchLoader: ${data.labels.length} labels for ${count} images`);
    if (!(Number.isInteger(options.batchSize) && options.batchSize > 0))
      throw new Error(`BatchLoader: batchSize must be a positive integer, got ${options.batchSize}`);
    this.size = size;
    // The worker reads pixels through shared memory; copy once if they are not shared yet.
    if (data.pixels.buffer instanceof SharedArrayBuffer) this.pixels = data.pixels;
    else {
      this.pixels = new Uint8Array(new SharedArrayBuffer(data.pixels.length));
      this.pixels.set(data.pixels);
    }
    this.labels = Int32Array.from(data.labels);
    this.selection = data.indices ? Int32Array.from(data.indices) : Int32Array.from({ length: count }, (_, i) => i);
    for (const i of this.selection) if (i < 0 || i >= count) throw new Error(`BatchLoader: index ${i} outside 0..${count - 1}`);
    const shard = options.shard ?? { rank: 0, size: 1 };
    if (!(Number.isInteger(shard.size) && shard.size >= 1 && Number.isInteger(shard.rank) && shard.rank >= 0 && shard.rank < shard.size))
      throw new Error(`BatchLoader: shard rank ${shard.rank} of ${shard.size} is not a rank in 0..size-1`);
    if (this.selection.length < shard.size)
      throw new Error(`BatchLoader: ${this.selection.length} images cannot be split over ${shard.size} ranks`);
    this.shard = shard;
    this.opts = {
      batchSize: options.batchSize,
      seed: options.seed ?? 0,
      shuffle: options.shuffle ?? true,
      augment: options.augment ?? false,
      flip: options.flip ?? false,
      dropLast: options.dropLast ?? false,
      worker: options.worker ?? true,
      prefetch: Math.max(1, options.prefetch ?? 2),
      shard,
    };
  }

  /** Number of images visited per epoch. */
  get length(): number {
    return this.selection.length;
  }

  /** True while batches are built in a worker thread (false before the first epoch or after a fallback). */
  get usesWorker(): boolean {
    return this.worker !== null;
  }

  /** Images per step over all ranks: batchSize × ranks. */
  get globalBatchSize(): number {
    return this.opts.batchSize * this.shard.size;
  }

  /**
   * Number of batches per epoch (the same on every rank). A last, smaller global batch that cannot give every
   * rank an image is dropped: a rank with an empty slice would have nothing to compute its part of the step on.
   */
  get batchesPerEpoch(): number {
    const g = this.globalBatchSize;
    const full = Math.floor(this.selection.length / g);
    const rest = this.selection.length - full * g;
    return full + (!this.opts.dropLast && rest >= this.shard.size ? 1 : 0);
  }

  /** The image order of an epoch (deterministic in seed and epoch). */
  order(epoch: number): Int32Array {
    const order = Int32Array.from(this.selection);
    if (this.opts.shuffle) shuffleInPlace(order, mulberry32(mixSeed(this.opts.seed, epoch, 0x5eed)));
    return order;
  }

  /** Iterates the batches of epoch `epoch`; breaking out early is fine. */
  async *epoch(epoch: number): AsyncGenerator<Batch, void, undefined> {
    if (this.closed) throw new Error('BatchLoader: epoch() after close()');
    const order = this.order(epoch);
    const bs = this.globalBatchSize;
    const { rank, size } = this.shard;
    const total = this.batchesPerEpoch;
    const queue: Promise<Batch>[] = [];
    let scheduled = 0;
    const schedule = (): void => {
      while (scheduled < total && queue.length < this.opts.prefetch) {
        const b = scheduled++;
        const global = order.slice(b * bs, Math.min((b + 1) * bs, order.length));
        // This rank's slice; slices of an uneven last batch differ by one image at most.
        const lo = Math.floor((rank * global.length) / size);
        const hi = Math.floor(((rank + 1) * global.length) / size);
        const indices = global.slice(lo, hi);
        const p = this.build(global.subarray(0, hi), lo, mixSeed(this.opts.seed, epoch, b)).then((x): Batch => {
          const y = new Int32Array(indices.length);
          for (let k = 0; k < indices.length; k++) y[k] = this.labels[indices[k]!]!;
          return { x, y, n: indices.length, indices, epoch, index: b, global: global.length };
        });
        p.catch(() => {}); // a batch abandoned by an early break must not raise an unhandled rejection
        queue.push(p);
      }
    };
    schedule();
    for (let b = 0; b < total; b++) {
      const batch = await queue.shift()!;
      schedule(); // start the next build before handing this batch over
      yield batch;
    }
  }

  /** Stops the worker. Batches still being built are rejected; the loader cannot be used again. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new Error('BatchLoader: closed'));
    this.pending.clear();
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }

  private build(indices: Int32Array, from: number, seed: number): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new Error('BatchLoader: closed'));
    const req: BatchRequest = { id: this.nextId++, indices, from, seed, augment: this.opts.augment, flip: this.opts.flip };
    const w = this.opts.worker && !this.workerFailed ? this.ensureWorker() : null;
    if (w === null) return this.buildHere(req);
    return new Promise<Float32Array>((resolve, reject) => {
      if (this.pending.size === 0) w.ref(); // keep the process alive only while work is owed
      this.pending.set(req.id, { req, resolve, reject });
      w.postMessage(req);
    });
  }

  // Main-thread fallback: still asynchronous, so the consumer gets the current batch first.
  private buildHere(req: BatchRequest): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      setImmediate(() => {
        try {
          resolve(buildBatchX(this.pixels, this.size, req));
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
    });
  }

  private ensureWorker(): Worker | null {
    if (this.worker) return this.worker;
    let w: Worker;
    try {
      w = new Worker(WORKER_BOOT, { eval: true, workerData: { ...workerModule(), pixels: this.pixels, size: this.size } });
    } catch {
      this.workerFailed = true;
      return null;
    }
    w.unref();
    w.on('message', (m: { id: number; x?: Float32Array; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) w.unref();
      if (m.x) p.resolve(m.x);
      else p.reject(new Error(`BatchLoader: ${m.error ?? 'worker sent no data'}`));
    });
    const fail = (why: unknown): void => {
      // Worker died or never started: build what it owed here, and from now on.
      if (this.worker !== w) return;
      this.worker = null;
      this.workerFailed = true;
      const reason = why instanceof Error ? why.message.split('\n')[0] : `exit code ${String(why)}`;
      process.emitWarning(`BatchLoader: worker thread failed (${reason}); building batches on the main thread`);
      const owed = [...this.pending.values()];
      this.pending.clear();
      for (const p of owed) this.buildHere(p.req).then(p.resolve, p.reject);
    };
    w.on('error', fail);
    w.on('exit', fail);
    this.worker = w;
    return w;
  }
}
