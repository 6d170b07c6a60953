// Process-wide engine settings: gradient mode, seeds, threads, devices.
import { native } from './native.ts';

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const previous = native.setGradEnabled(enabled);
  try {
    return fn();
  } finally {
    native.setGradEnabled(previous);
  }
}

/** Runs `fn` with autograd recording off (like `torch.no_grad()`); nests and restores. */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs `fn` with autograd recording on. */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}

/** The seed every process starts from (set when the addon loads). */
export { DEFAULT_SEED } from './native.ts';

/** Seeds libtorch's generators (CPU and CUDA): same seed, same draws. Every process starts at DEFAULT_SEED. */
export function manualSeed(seed: number): void {
  native.manualSeed(seed);
}

/**
 * The CPU generator's state (torch.get_rng_state()): a checkpoint mid-training records it, so dropout after a
 * resume draws what the uninterrupted run drew. CUDA generators are not included (training runs on the CPU).
 */
export function rngState(): Uint8Array {
  if (!native.rngState) throw new Error(staleAddon('rngState'));
  return native.rngState();
}

/** Restores a state {@link rngState} returned (in this libtorch version). */
export function setRngState(state: Uint8Array): void {
  if (!native.setRngState) throw new Error(staleAddon('setRngState'));
  native.setRngState(state);
}

function staleAddon(what: string): string {
  return `paenet: the libtorch addon predates ${what} (built from older sources): run \`npm run build:native\``;
}

/** Intra-op threads used by libtorch kernels. */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`paenet: setNumThreads needs a positive integer, got ${n}`);
  native.setNumThreads(n);
}

export function getNumThreads(): number {
  return native.getNumThreads();
}

/** Devices this libtorch can use: 'cpu', plus 'cuda:N' when built against a CUDA libtorch with a GPU. */
export function availableDevices(): string[] {
  const n = native.cudaDeviceCount();
  return ['cpu', ...Array.from({ length: n }, (_, i) => `cuda:${i}`)];
}

/** True when a CUDA device can be used. */
export function cudaAvailable(): boolean {
  return native.cudaDeviceCount() > 0;
}

/** libtorch version and build configuration. */
export function engineInfo(): { torchVersion: string; threads: number; devices: string[] } {
  return { torchVersion: native.buildInfo().torchVersion, threads: getNumThreads(), devices: availableDevices() };
}

/**
 * Frees the large CPU buffers the addon caches for reuse (freed tensors' memory is kept, up to
 * PAENET_CPU_CACHE_MB, default a quarter of physical memory between 512 MB and 8 GB, so same-shaped steps do not page-fault fresh memory).
 */
export function emptyCache(): void {
  native.emptyCache();
}

/** Bytes held in the addon's CPU buffer cache, and how many allocations it served. */
export function cacheStats(): { cachedBytes: number; hits: number } {
  return native.cacheStats();
}
