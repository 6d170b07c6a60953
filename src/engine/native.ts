// Loads the libtorch addon (native/) and describes its functions to TypeScript.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A tensor handle: an opaque number owned by the addon's handle table. */
export type Handle = number;
/** What an ATen operator call can return. */
export type OpResult = Handle | null | number | boolean | string | OpResult[];
/** An argument to an ATen operator, in schema order. */
export type OpArg = Handle | number | boolean | string | null | undefined | OpArg[];

/** The addon's surface (native/src/*.cc). */
export interface NativeAddon {
  opResolve(name: string, overload: string): number;
  opSchema(id: number): string;
  opCall(id: number, args: OpArg[], discard?: boolean): OpResult;
  fromBuffer(data: ArrayBufferView, shape: number[], dtype: number, device?: string): Handle;
  toBuffer(h: Handle): Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Uint16Array;
  shape(h: Handle): number[];
  dtype(h: Handle): number;
  device(h: Handle): string;
  item(h: Handle): number | boolean;
  requiresGrad(h: Handle, value?: boolean): boolean;
  grad(h: Handle): Handle | null;
  setGrad(h: Handle, grad: Handle | null): void;
  backward(h: Handle, grad: Handle | null, retainGraph: boolean): void;
  detach(h: Handle): Handle;
  dataPtr(h: Handle): number;
  free(h: Handle): void;
  liveCount(): number;
  liveBytes(): number;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  manualSeed(seed: number): void;
  /** Absent from an addon built before it existed (`npm run build:native` adds it). */
  rngState?(): Uint8Array;
  setRngState?(state: Uint8Array): void;
  setGradEnabled(enabled: boolean): boolean;
  isGradEnabled(): boolean;
  cudaDeviceCount(): number;
  buildInfo(): { torchVersion: string; config: string; parallel: string };
  emptyCache(): void;
  cacheStats(): { cachedBytes: number; hits: number };
  autocastEnter(device: 'cpu' | 'cuda', dtype: 'bfloat16' | 'float16'): boolean;
  autocastExit(device: 'cpu' | 'cuda', previous: boolean): void;
  autocastSetEnabled(device: 'cpu' | 'cuda', enabled: boolean): boolean;
  autocastEnabled(device: 'cpu' | 'cuda'): boolean;
  // Data-parallel collectives (native/src/distributed.cc); absent from an addon built before them. Without gloo at
  // build time distAvailable() is false and the others throw one line saying how to get it.
  distAvailable?(): boolean;
  distInit?(rank: number, size: number, masterAddr: string, masterPort: number, timeoutMs: number): void;
  /** In-place sum over every rank. */
  distAllReduce?(h: Handle): void;
  /** In place: every rank's tensor becomes `root`'s. */
  distBroadcast?(h: Handle, root: number): void;
  distBarrier?(): void;
  distStoreSet?(key: string, value: string): void;
  /** Waits for the key (up to the group's timeout). */
  distStoreGet?(key: string): string;
  distDestroy?(): void;
}

function load(): NativeAddon {
  // OpenMP reads this when libtorch loads: spin-waiting threads collapse under CPU contention (engine-notes §1.5).
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
  const file = join(root, 'native/build/Release/paenet_native.node');
  if (!existsSync(file)) {
    throw new Error(
      `paenet: the libtorch addon is not built (${file} is missing): run \`npm install\` in ${root} (needs \`apt-get install -y libtorch-dev\` or LIBTORCH=<dir>)`,
    );
  }
  const addon = createRequire(import.meta.url)(file) as NativeAddon;
  // A fixed default seed, as PyTorch has: without it two runs of the same command drew different initial weights
  // (measured with Debian's libtorch), so nothing that creates weights before seeding was reproducible.
  addon.manualSeed(DEFAULT_SEED);
  return addon;
}

/** The generators' seed at load: PyTorch's default_rng_seed_val. */
export const DEFAULT_SEED = 67280421310721;

/** The loaded addon (loaded once, on first import). */
export const native: NativeAddon = load();
