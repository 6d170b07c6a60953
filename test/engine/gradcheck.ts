// Finite-difference gradient checker for the engine's autograd (float64, central differences).
import assert from 'node:assert/strict';
import { noGrad, tensor, tidy, type Tensor } from '../../src/engine/index.ts';

/** An input given as plain values (float64) and a shape. */
export interface GradInput {
  values: ArrayLike<number>;
  shape: number[];
}

export interface GradcheckOptions {
  /** Central-difference step. @default 1e-6 */ eps?: number;
  /** @default 1e-5 */ atol?: number;
  /** @default 1e-5 */ rtol?: number;
  /** Indices of inputs to check (others are passed but not differentiated). @default all */ check?: number[];
  /** Allow an input whose gradient is zero everywhere (normally a sign the check is vacuous). @default false */ allowZero?: boolean;
}

export interface GradcheckResult {
  /** Elements compared. */ checked: number;
  /** Largest |analytic − numeric|. */ maxAbsError: number;
}

function asInput(x: Tensor | GradInput): { values: Float64Array; shape: number[] } {
  if ('values' in x) return { values: Float64Array.from(x.values), shape: [...x.shape] };
  assert.equal(x.dtype, 'float64', 'gradcheck inputs must be float64');
  return { values: Float64Array.from(x.data() as Float64Array), shape: [...x.shape] };
}

/**
 * Checks autograd against central differences for every element of every (checked) input.
 * `fn` receives fresh float64 leaf tensors (one per input) and must return a one-element float64 tensor.
 * Tensors `fn` creates are freed here (each evaluation runs in tidy()).
 */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: (Tensor | GradInput)[], o: GradcheckOptions = {}): GradcheckResult {
  const eps = o.eps ?? 1e-6;
  const atol = o.atol ?? 1e-5;
  const rtol = o.rtol ?? 1e-5;
  const specs = inputs.map(asInput);
  const checkIdx = o.check ?? specs.map((_, i) => i);

  const build = (values: Float64Array[], grad: boolean): Tensor[] =>
    specs.map((s, i) => tensor(values[i]!, s.shape, { dtype: 'float64', requiresGrad: grad && checkIdx.includes(i) }));

  // Analytic gradients.
  const analytic: Float64Array[] = tidy(() => {
    const xs = build(
      specs.map((s) => s.values),
      true,
    );
    const out = fn(...xs);
    assert.equal(out.numel, 1, `gradcheck: the function must return one element, got shape [${out.shape}]`);
    assert.equal(out.dtype, 'float64', 'gradcheck: the function must compute in float64');
    assert.ok(out.requiresGrad, 'gradcheck: the output does not require grad (no graph was recorded)');
    out.backward();
    return xs.map((x, i) => {
      if (!checkIdx.includes(i)) return new Float64Array(0);
      const g = x.grad;
      if (g === null) return new Float64Array(x.numel);
      assert.deepEqual(g.shape, x.shape, `gradcheck: gradient of input ${i} has the wrong shape`);
      return Float64Array.from(g.data() as Float64Array);
    });
  });

  const evaluate = (values: Float64Array[]): number => tidy(() => noGrad(() => fn(...build(values, false)).item()));

  let checked = 0;
  let maxAbsError = 0;
  const failures: string[] = [];
  for (const i of checkIdx) {
    const base = specs[i]!.values;
    let maxNumeric = 0;
    for (let j = 0; j < base.length; j++) {
      const plus = specs.map((s) => s.values);
      const minus = specs.map((s) => s.values);
      const p = Float64Array.from(base);
      const m = Float64Array.from(base);
      p[j] = base[j]! + eps;
      m[j] = base[j]! - eps;
      plus[i] = p;
      minus[i] = m;
      const numeric = (evaluate(plus) - evaluate(minus)) / (2 * eps);
      const a = analytic[i]![j]!;
      const err = Math.abs(a - numeric);
      maxAbsError = Math.max(maxAbsError, err);
      maxNumeric = Math.max(maxNumeric, Math.abs(numeric));
      checked++;
      if (!(err <= atol + rtol * Math.max(Math.abs(a), Math.abs(numeric)))) {
        failures.push(`input ${i} element ${j}: autograd ${a}, finite difference ${numeric}`);
      }
    }
    if (!o.allowZero) assert.ok(maxNumeric > 1e-8, `gradcheck: input ${i} has a zero gradient everywhere (vacuous check)`);
  }
  assert.equal(failures.length, 0, `gradcheck: ${failures.length} of ${checked} gradients differ:\n${failures.slice(0, 8).join('\n')}`);
  return { checked, maxAbsError };
}

/** Deterministic pseudo-random numbers (mulberry32), independent of libtorch's generator. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A float64 input with values uniform in [lo, hi), deterministic in `seed`. With `awayFrom`, values closer than
 * `gap` to any of those points (kinks such as 0 for relu/abs) are pushed away, so differences never straddle a kink.
 */
export function input(shape: number[], seed: number, lo = -1, hi = 1, awayFrom: number[] = [], gap = 0.05): GradInput {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, () => {
    let v = lo + (hi - lo) * r();
    for (const k of awayFrom) if (Math.abs(v - k) < gap) v = v < k ? k - gap : k + gap;
    return v;
  });
  return { values, shape };
}

/** Σ y·w with fixed, uneven weights w: a scalar whose gradient exercises every output element differently. */
export function wsum(y: Tensor, seed = 12345): Tensor {
  const r = rng(seed);
  const w = tensor(
    Float64Array.from({ length: y.numel }, () => 0.25 + 1.5 * r()),
    y.shape,
    { dtype: 'float64' },
  );
  return y.mul(w).sum();
}
