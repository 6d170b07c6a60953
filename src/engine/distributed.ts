// Data-parallel training: one command runs as N processes (ranks), each computing its slice of every batch; the
// gradients are averaged through libtorch's c10d ProcessGroupGloo (native/src/distributed.cc), so every rank takes
// the same step and holds the same weights. This file is the policy above the addon's blocking calls: the rendezvous
// from torchrun's variables, gradient buckets, rank 0 deciding for all, and one clear error when a rank is gone.
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { PaenetError } from '../common/errors.ts';
import { cat, tensor, zeros } from './creation.ts';
import { dtypeSize, type DType } from './dtype.ts';
import { native } from './native.ts';
import { noGrad } from './runtime.ts';
import { tidy } from './scope.ts';
import type { Tensor } from './tensor.ts';

/** Where a rank stands and how it finds the others (torchrun's RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT, LOCAL_RANK). */
export interface WorldSpec {
  rank: number;
  size: number;
  /** Rank on this machine (for per-machine resources; training needs no more than the rank). */
  localRank: number;
  /** Host of rank 0, which serves the rendezvous store. */
  masterAddr: string;
  masterPort: number;
  /** A collective (or the rendezvous) waiting longer than this fails: a rank that hangs or cannot be reached. */
  timeoutMs: number;
}

/**
 * The default collective timeout, torch.distributed's: the other ranks wait inside a collective while rank 0 alone
 * validates and writes checkpoints, which takes minutes on large validation sets. PAENET_DIST_TIMEOUT_S sets it.
 */
export const DEFAULT_TIMEOUT_S = 1800;

/**
 * Gradients are flattened into buckets of at most this many bytes, one allreduce per bucket. Why 16 MiB: an
 * allreduce over loopback costs ~1.8 ms even for 1k floats and then streams ~1 GB/s (engine-notes §1.1), so a few
 * MB already make the per-call latency small; a larger bucket only grows the flat copy held beside the gradients.
 * (PyTorch DDP's default is 25 MB for the same trade.) The paenet backbones fit one or a few buckets.
 */
export const BUCKET_BYTES = 16 << 20;

const BROKEN_HINT = 'end any rank still running, then rerun the same command with --resume to continue from the last checkpoint';

const int = (env: NodeJS.ProcessEnv, name: string, fallback?: number): number => {
  const raw = env[name];
  if (raw === undefined || raw === '') {
    if (fallback !== undefined) return fallback;
    throw new PaenetError('PAENET_INPUT', `${name} is not set (data-parallel runs need RANK and WORLD_SIZE)`);
  }
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new PaenetError('PAENET_INPUT', `${name} must be a non-negative integer, got '${raw}'`);
  return n;
};

/** The world torchrun-style variables describe, or null for a single process (WORLD_SIZE unset or 1). */
export function worldSpecFromEnv(env: NodeJS.ProcessEnv = process.env): WorldSpec | null {
  if (env.WORLD_SIZE === undefined || env.WORLD_SIZE === '') return null;
  const size = int(env, 'WORLD_SIZE');
  if (size <= 1) return null;
  const rank = int(env, 'RANK');
  if (rank >= size) throw new PaenetError('PAENET_INPUT', `RANK ${rank} is not below WORLD_SIZE ${size}`);
  const timeoutS = Number(env.PAENET_DIST_TIMEOUT_S ?? DEFAULT_TIMEOUT_S);
  if (!(timeoutS > 0)) throw new PaenetError('PAENET_INPUT', `PAENET_DIST_TIMEOUT_S must be a positive number of seconds`);
  return {
    rank,
    size,
    localRank: int(env, 'LOCAL_RANK', rank),
    masterAddr: env.MASTER_ADDR || '127.0.0.1',
    masterPort: int(env, 'MASTER_PORT', 29500),
    timeoutMs: Math.round(timeoutS * 1000),
  };
}

/** Whether this addon was built with c10d/gloo (libgloo-dev present at build time). */
export function distributedAvailable(): boolean {
  return native.distAvailable?.() ?? false;
}

/** A rank's process, for naming the dead one when a collective fails. */
interface Peer {
  host: string;
  pid: number;
}

/** Splits tensors (one dtype each bucket) into runs of at most BUCKET_BYTES, keeping their order. */
function buckets(tensors: Tensor[]): Tensor[][] {
  const out: Tensor[][] = [];
  const open = new Map<DType, { list: Tensor[]; bytes: number }>();
  for (const t of tensors) {
    const bytes = t.numel * dtypeSize(t.dtype);
    let b = open.get(t.dtype);
    if (b && b.bytes + bytes > BUCKET_BYTES) b = undefined;
    if (!b) {
      b = { list: [], bytes: 0 };
      open.set(t.dtype, b);
      out.push(b.list);
    }
    b.list.push(t);
    b.bytes += bytes;
  }
  return out;
}

/**
 * The processes of one job. A single process is a world of one whose collectives do nothing, so training code calls
 * them unconditionally. Every rank must call the same collectives in the same order (they match up by order).
 */
export class World {
  private broken: PaenetError | null = null;
  private peers: Peer[] = [];
  private jobDepth = 0;

  /** @internal Use {@link world} / {@link joinWorld}. */
  constructor(
    readonly rank: number,
    readonly size: number,
    private readonly timeoutMs: number,
    private readonly onJobEnd?: () => void,
  ) {}

  /** Rank 0: the one that decides, writes files and logs. */
  get isMain(): boolean {
    return this.rank === 0;
  }

  /** @internal Called once the process group exists: records every rank's process for error messages. */
  meetPeers(): void {
    this.call('the rendezvous', () =>
      native.distStoreSet!(`paenet/peer/${this.rank}`, JSON.stringify({ host: hostname(), pid: process.pid })),
    );
    this.peers = Array.from(
      { length: this.size },
      (_, r) => JSON.parse(this.call('the rendezvous', () => native.distStoreGet!(`paenet/peer/${r}`))) as Peer,
    );
  }

  /**
   * Averages tensors (gradients) over the ranks, in place, one allreduce per bucket. Every rank's part counts the
   * same, as in PyTorch DDP: exact for the even slices of full batches; a last, uneven batch (slices one image apart)
   * is averaged per rank rather than per image.
   */
  allReduceMean(tensors: Tensor[]): void {
    if (this.size === 1) return;
    this.eachBucket(tensors, 'averaging gradients', (flat) => {
      native.distAllReduce!(flat.handle);
      flat.div_(this.size);
    });
  }

  /** Sums numbers over the ranks (float64: losses, counts). */
  allReduceSum(values: number[]): number[] {
    if (this.size === 1) return values;
    return tidy(() => {
      const t = tensor(values, [values.length], { dtype: 'float64' });
      this.call('a sum over ranks', () => native.distAllReduce!(t.handle));
      return t.toArray();
    });
  }

  /** Overwrites every rank's tensors with rank 0's, in place (parameters, BN statistics, owner maps). */
  broadcast(tensors: Tensor[]): void {
    if (this.size === 1) return;
    this.eachBucket(tensors, 'copying rank 0 state', (flat) => native.distBroadcast!(flat.handle, 0));
  }

  /** Rank 0's numbers on every rank: rank 0 decides (a validation score), the others receive it. */
  fromMain(values: number[]): number[] {
    if (this.size === 1) return values;
    return tidy(() => {
      const t = tensor(values, [values.length], { dtype: 'float64' });
      this.call('receiving rank 0 numbers', () => native.distBroadcast!(t.handle, 0));
      return t.toArray();
    });
  }

  /**
   * Rank 0's value on every rank, as JSON (the others pass anything, e.g. null): rank 0 keeps its own value, the
   * others get its JSON copy (so NaN arrives as null).
   */
  fromMainJson<T>(value: T): T {
    if (this.size === 1) return value;
    const bytes = this.isMain ? new TextEncoder().encode(JSON.stringify(value ?? null)) : new Uint8Array(0);
    const [length] = this.fromMain([bytes.length]);
    const received = tidy(() => {
      const t = this.isMain ? tensor(bytes, [length!], { dtype: 'uint8' }) : zeros([length!], { dtype: 'uint8' });
      this.call('receiving rank 0 state', () => native.distBroadcast!(t.handle, 0));
      return new TextDecoder().decode(t.data() as Uint8Array);
    });
    return this.isMain ? value : (JSON.parse(received) as T);
  }

  /**
   * Checks that every rank holds the same `value` (a command line, a checkpoint stage, a state digest) and fails on
   * all of them, naming the ranks that differ from rank 0, when one does not: a diverged rank would otherwise
   * train on silently, or hang in a collective the others never call.
   */
  agree(what: string, value: string): void {
    if (this.size === 1) return;
    const main = this.fromMainJson(value);
    const flags = new Array<number>(this.size).fill(0);
    flags[this.rank] = main === value ? 0 : 1;
    const differ = this.allReduceSum(flags).flatMap((f, r) => (f > 0 ? [r] : []));
    if (differ.length > 0)
      throw new PaenetError(
        'PAENET_INPUT',
        `rank ${differ.join(', ')}: ${what} differs from rank 0's (${this.rank === 0 ? main : `${value} vs ${main}`})`,
        'start every rank with the same command, files and paenet build (a resumed run needs the checkpoint folder on every machine)',
      );
  }

  /** Waits until every rank gets here. */
  barrier(): void {
    if (this.size === 1) return;
    this.call('a barrier', () => native.distBarrier!());
  }

  /**
   * Runs a whole training job (add-task, prune, an experiment); nested jobs count as part of the outer one. When
   * the outermost job returns, the ranks meet once more and, if the CLI asked for it, the non-main ranks end there:
   * everything after a job (saving the model, reports) is rank 0's alone.
   */
  async job<T>(fn: () => Promise<T>): Promise<T> {
    this.jobDepth++;
    let result: T;
    try {
      result = await fn();
    } finally {
      this.jobDepth--;
    }
    if (this.jobDepth === 0 && this.size > 1) {
      this.barrier();
      if (!this.isMain) this.onJobEnd?.();
    }
    return result;
  }

  /** Flattens each bucket into one tensor, runs `op` on it and copies the result back. */
  private eachBucket(tensors: Tensor[], what: string, op: (flat: Tensor) => void): void {
    noGrad(() => {
      for (const bucket of buckets(tensors)) {
        tidy(() => {
          const flat = cat(bucket.map((t) => t.reshape([-1])));
          this.call(what, () => op(flat));
          let offset = 0;
          for (const t of bucket) {
            t.copy_(flat.narrow(0, offset, t.numel).view(t.shape));
            offset += t.numel;
          }
        });
      }
    });
  }

  /** Runs an addon call; a failure becomes one PaenetError naming the rank that is gone, and every later call fails the same. */
  private call<T>(what: string, fn: () => T): T {
    if (this.broken) throw this.broken;
    try {
      return fn();
    } catch (e) {
      this.broken = this.failure(what, e);
      throw this.broken;
    }
  }

  private failure(what: string, e: unknown): PaenetError {
    const detail = (e instanceof Error ? e.message : String(e)).split('\n')[0]!.replace(/^paenet: /, '');
    if (/no c10d\/gloo|does not bind|predates/.test(detail)) return new PaenetError('PAENET_UNSUPPORTED', detail);
    const dead = this.deadPeers();
    if (dead.length > 0)
      return new PaenetError(
        'PAENET_INTERNAL',
        `rank ${dead.map((r) => `${r} (pid ${this.peers[r]!.pid})`).join(', ')} ended: data-parallel training stopped on rank ${this.rank} while ${what}`,
        BROKEN_HINT,
      );
    if (/timed out|timeout/i.test(detail))
      return new PaenetError(
        'PAENET_INTERNAL',
        `rank ${this.rank}: no answer from the other ranks within ${this.timeoutMs / 1000} s while ${what} (a rank hangs or cannot be reached; PAENET_DIST_TIMEOUT_S sets the limit)`,
        BROKEN_HINT,
      );
    return new PaenetError('PAENET_INTERNAL', `rank ${this.rank}: lost the other ranks while ${what} (${detail})`, BROKEN_HINT);
  }

  /** Ranks on this machine whose process is gone. A peer just killed may still be unreaped for a moment: look twice. */
  private deadPeers(): number[] {
    const here = hostname();
    const look = (): number[] => this.peers.flatMap((p, r) => (r !== this.rank && p.host === here && !alive(p.pid) ? [r] : []));
    const first = look();
    if (first.length > 0) return first;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    return look();
  }
}

/** Whether a process runs (a zombie, killed but not yet reaped by its parent, does not). */
function alive(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (existsSync('/proc/self/stat')) {
    try {
      // The state field follows the parenthesised command name.
      const state = readFileSync(stat, 'utf8').replace(/^.*\)\s*/s, '')[0];
      return state !== 'Z' && state !== 'X';
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const SINGLE = new World(0, 1, 0);
let current: World = SINGLE;

/** This process's world: the joined one, or a world of one. */
export function world(): World {
  return current;
}

export interface JoinOptions {
  /** Runs on the non-main ranks when the outermost {@link World.job} returns (the CLI ends the process there). */
  onJobEnd?: () => void;
}

/**
 * Joins the process group `spec` describes (blocks until every rank has joined, or the timeout). Needs an addon
 * built with gloo (`apt-get install libgloo-dev`, then `npm run build:native`).
 */
export function joinWorld(spec: WorldSpec, o: JoinOptions = {}): World {
  if (current !== SINGLE) throw new Error('paenet: this process already joined a world');
  if (!native.distInit || !distributedAvailable())
    throw new PaenetError(
      'PAENET_UNSUPPORTED',
      native.distInit
        ? 'this build has no c10d/gloo (apt-get install libgloo-dev, then npm run build:native)'
        : 'the libtorch addon predates data-parallel training: run `npm run build:native`',
      'build the addon with gloo, or run with WORLD_SIZE unset (one process)',
    );
  const w = new World(spec.rank, spec.size, spec.timeoutMs, o.onJobEnd);
  try {
    native.distInit(spec.rank, spec.size, spec.masterAddr, spec.masterPort, spec.timeoutMs);
  } catch (e) {
    const detail = (e instanceof Error ? e.message : String(e)).split('\n')[0]!.replace(/^paenet: /, '');
    throw new PaenetError(
      'PAENET_INTERNAL',
      `rank ${spec.rank} of ${spec.size}: could not join the others at ${spec.masterAddr}:${spec.masterPort} (${detail})`,
      'start every rank within PAENET_DIST_TIMEOUT_S of each other, with the same MASTER_ADDR/MASTER_PORT (a free port on rank 0)',
    );
  }
  w.meetPeers();
  current = w;
  return w;
}
