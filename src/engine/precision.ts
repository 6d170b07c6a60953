// Training precision: fp32, or bf16 autocast on CPUs with native bf16 arithmetic (AVX512-BF16 / AMX).
// Autocast runs the listed ops (convs, matmuls) in bf16 on bf16 copies of fp32 weights: the weights, their
// gradients and the optimizer state stay fp32 ("master weights"), so what a task owns is still stored and
// updated in fp32 and evaluation, export and serving never change.
import { readFileSync } from 'node:fs';
import { native } from './native.ts';

/** What a training command asks for; 'auto' picks bf16 where the CPU computes it natively. */
export type Precision = 'fp32' | 'bf16' | 'auto';
export const PRECISIONS: readonly Precision[] = ['fp32', 'bf16', 'auto'];

let bf16Support: boolean | undefined;

/** True when this CPU has native bf16 arithmetic (without it bf16 is emulated and slower than fp32). */
export function cpuHasBf16(): boolean {
  if (bf16Support === undefined) {
    try {
      const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
      bf16Support = /\b(avx512_bf16|amx_bf16)\b/.test(flags);
    } catch {
      bf16Support = false; // no /proc (not Linux): assume no native bf16
    }
  }
  return bf16Support;
}

/** The precision a run really uses: 'auto' becomes bf16 on a bf16 CPU, fp32 elsewhere. */
export function resolvePrecision(p: Precision | undefined): 'fp32' | 'bf16' {
  if (p === undefined || p === 'auto') return cpuHasBf16() ? 'bf16' : 'fp32';
  if (p !== 'fp32' && p !== 'bf16') throw new Error(`paenet: --precision must be fp32, bf16 or auto, got '${String(p)}'`);
  return p;
}

/**
 * Runs `fn` (a forward and its loss) under bf16 autocast when `precision` is bf16, as
 * `torch.autocast('cpu', torch.bfloat16)` does; nests. The outermost exit clears autocast's cache of bf16 weight
 * copies, so the next step casts the weights the optimizer has just updated, never stale ones.
 * Call backward() outside, as PyTorch does.
 */
export function autocast<T>(precision: 'fp32' | 'bf16', fn: () => T): T {
  if (precision === 'fp32') return fn();
  const previous = native.autocastEnter('cpu', 'bfloat16');
  try {
    return fn();
  } finally {
    native.autocastExit('cpu', previous);
  }
}

/**
 * Runs `fn` in fp32 inside an autocast region (outside one it just runs it): for ops whose bf16 kernels are slower
 * than fp32 ones. Measured with Debian's libtorch 1.13 (oneDNN), 2 threads: the weight gradient of a stride-2 conv
 * in bf16 takes 350–520 ms where fp32 takes 12–34 ms (32×32×32×32 input, 64 3×3 filters; the same in Python
 * PyTorch), which made whole bf16 training steps 4–8× slower than fp32. Inputs must be cast by the caller.
 */
export function fp32Island<T>(fn: () => T): T {
  if (!native.autocastEnabled('cpu')) return fn();
  const previous = native.autocastSetEnabled('cpu', false);
  try {
    return fn();
  } finally {
    native.autocastSetEnabled('cpu', previous);
  }
}

/** Whether a bf16 autocast region is open (for tests and assertions). */
export function autocastActive(): boolean {
  return native.autocastEnabled('cpu');
}
