// Timing shared by the benchmarks: repeated calls after a warm-up, and the median (robust to a shared machine).

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Times `steps` calls of `fn` after `warmup` untimed ones; returns seconds per call. */
export function timeSteps(fn: () => void, warmup: number, steps: number): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1e3);
  }
  return times;
}
