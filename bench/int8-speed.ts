// int8 vs fp32 serving speed, module by module: for each task alone and for every task together, an onnxruntime
// runtime on the fp32 graph and one on the int8 graph, timed at batch 1 on one real face (its crops at every side
// the tasks take). The two runtimes of a pair alternate call by call and the median is kept, so a load that comes
// and goes on a shared machine falls on both alike.
import type { PaeModel } from '../src/pae/index.ts';
import type { FloatRole } from '../src/serve/onnx/quantize-plan.ts';
import { createRuntime, type FaceCrops, type TaskRuntime } from '../src/serve/runtime.ts';
import type { ImageSet } from '../src/tasks/index.ts';
import type { BenchResult, Log } from './options.ts';
import { median } from './timing.ts';

const FLOAT_ROLES: readonly FloatRole[] = ['stem', 'head'];

/** --keep-float's roles, checked; undefined = the exporter's default. */
export function floatRoles(given: readonly string[] | undefined): FloatRole[] | undefined {
  return given?.map((r) => {
    if (!FLOAT_ROLES.includes(r as FloatRole)) throw new Error(`--keep-float takes ${FLOAT_ROLES.join(', ')} or none, got '${r}'`);
    return r as FloatRole;
  });
}

/** One face: the first crop of each side's set. */
function firstFace(sets: ReadonlyMap<number, ImageSet>): FaceCrops {
  return new Map([...sets].map(([s, set]) => [s, set.pixels.subarray(0, s * s * 3)]));
}

/**
 * Each runtime's batch-1 call times (ms), the runtimes called in turn `steps` times after `warmup` rounds, the one
 * going first changing every round.
 */
async function alternate(runtimes: TaskRuntime[], face: FaceCrops, warmup: number, steps: number): Promise<number[][]> {
  const times = runtimes.map((): number[] => []);
  for (let k = 0; k < warmup + steps; k++)
    for (let j = 0; j < runtimes.length; j++) {
      const i = (j + k) % runtimes.length;
      const t0 = performance.now();
      await runtimes[i]!.run([face]);
      if (k >= warmup) times[i]!.push(performance.now() - t0);
    }
  return times;
}

/**
 * `${module}_fp32_ms_b1`, `${module}_int8_ms_b1` (medians) and `${module}_int8_speedup_b1` (fp32 ms / int8 ms) for
 * each task and for `all` (every task in one graph), the smallest per-module speedup, and the same speedups of the
 * fastest calls (`..._speedup_b1_min`: what the kernels do when no other process takes the cores, the better
 * estimate on a loaded machine). `calibration`: side → crops, at every side the model's tasks take.
 */
export async function int8Speed(
  model: PaeModel,
  calibration: ReadonlyMap<number, ImageSet>,
  o: { float?: FloatRole[] | undefined; threads?: number | undefined; warmup: number; steps: number },
  log: Log,
): Promise<BenchResult> {
  const face = firstFace(calibration);
  const groups: [string, string[]][] = [
    ...model.tasks.map((t): [string, string[]] => [t.name, [t.name]]),
    ['all', model.tasks.map((t) => t.name)],
  ];
  const result: BenchResult = {};
  let [slowest, slowestMin] = [Infinity, Infinity];
  for (const [name, tasks] of groups) {
    const threads = o.threads ? { threads: o.threads } : {};
    const fp32 = await createRuntime(model, 'onnx', tasks, threads);
    const int8 = await createRuntime(model, 'onnx', tasks, { ...threads, int8: { calibration, ...(o.float ? { float: o.float } : {}) } });
    try {
      const [ta, tb] = await alternate([fp32, int8], face, o.warmup, o.steps);
      const [a, b] = [median(ta!), median(tb!)];
      const speedup = a / b;
      const fastest = Math.min(...ta!) / Math.min(...tb!);
      Object.assign(result, {
        [`${name}_fp32_ms_b1`]: +a.toFixed(2),
        [`${name}_int8_ms_b1`]: +b.toFixed(2),
        [`${name}_int8_speedup_b1`]: +speedup.toFixed(2),
        [`${name}_int8_speedup_b1_min`]: +fastest.toFixed(2),
      });
      if (name !== 'all') [slowest, slowestMin] = [Math.min(slowest, speedup), Math.min(slowestMin, fastest)];
      log(
        `${name}: fp32 ${a.toFixed(2)} ms, int8 ${b.toFixed(2)} ms per face at batch 1 (median ${speedup.toFixed(2)}×, ` +
          `fastest calls ${fastest.toFixed(2)}×)`,
      );
    } finally {
      await fp32.dispose();
      await int8.dispose();
    }
  }
  result.int8_min_module_speedup_b1 = +slowest.toFixed(2);
  result.int8_min_module_speedup_b1_min = +slowestMin.toFixed(2);
  return result;
}
