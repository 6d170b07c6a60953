// Numeric results of the engine against values computed by hand (or by plain-JS reference code in this file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  F,
  nn,
  optim,
  tensor,
  scalar,
  zeros,
  ones,
  full,
  randn,
  rand,
  randint,
  randperm,
  cat,
  stack,
  where,
  tidy,
  keep,
  dispose,
  liveTensors,
  noGrad,
  enableGrad,
  isGradEnabled,
  manualSeed,
  type DType,
  type Tensor,
} from '../../src/engine/index.ts';

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `${what}[${i}]: got ${a}, expected ${e} (±${tol})`);
  }
}
const long = (values: number[], shape?: number[]): Tensor => tensor(values, shape ?? [values.length], { dtype: 'int64' });
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

// ---- linear algebra and convolution ----

test('2x2 matmul', () => {
  tidy(() => {
    const a = tensor([1, 2, 3, 4], [2, 2]);
    const b = tensor([5, 6, 7, 8], [2, 2]);
    // [[1·5+2·7, 1·6+2·8], [3·5+4·7, 3·6+4·8]]
    assert.deepEqual(a.matmul(b).toArray(), [19, 22, 43, 50]);
    assert.deepEqual(a.mm(b).toArray(), [19, 22, 43, 50]);
    assert.deepEqual(b.matmul(a).toArray(), [23, 34, 31, 46]);
    assert.deepEqual(a.matmul(b).shape, [2, 2]);
  });
});

/** Plain-JS cross-correlation of one 2-D channel with zero padding (what conv2d computes). */
function conv2dRef(x: number[][], k: number[][], pad: number, stride: number, bias = 0): number[][] {
  const H = x.length,
    W = x[0]!.length,
    kh = k.length,
    kw = k[0]!.length;
  const at = (i: number, j: number): number => (i < 0 || j < 0 || i >= H || j >= W ? 0 : x[i]![j]!);
  const oh = Math.floor((H + 2 * pad - kh) / stride) + 1,
    ow = Math.floor((W + 2 * pad - kw) / stride) + 1;
  return Array.from({ length: oh }, (_, i) =>
    Array.from({ length: ow }, (_, j) => {
      let s = bias;
      for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) s += k[a]![b]! * at(i * stride - pad + a, j * stride - pad + b);
      return s;
    }),
  );
}

test('1-channel 3x3 conv2d with a known kernel', () => {
  tidy(() => {
    // x[i][j] = 4i + j + 1 (1..16); Sobel-x kernel. Without padding every output is Σ rowweight·(x[.][j] − x[.][j+2]) = 4·(−2) = −8.
    const x = tensor(
      range(16).map((v) => v + 1),
      [1, 1, 4, 4],
    );
    const sobel = [1, 0, -1, 2, 0, -2, 1, 0, -1];
    const k = tensor(sobel, [1, 1, 3, 3]);
    assert.deepEqual(F.conv2d(x, k).toArray(), [-8, -8, -8, -8]);
    assert.deepEqual(F.conv2d(x, k, tensor([0.5], [1])).toArray(), [-7.5, -7.5, -7.5, -7.5]);
    // With padding 1 the border sees zeros: compare with the plain-JS reference, and check two corners by hand.
    const xs = [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10, 11, 12],
      [13, 14, 15, 16],
    ];
    const ks = [
      [1, 0, -1],
      [2, 0, -2],
      [1, 0, -1],
    ];
    const padded = F.conv2d(x, k, null, { padding: 1 }).toArray();
    close(padded, conv2dRef(xs, ks, 1, 1).flat());
    // Top-left: window rows (0, 1..2 of x) cols (pad, 0, 1): −(2·2 + 1·6) = −10. Top-right: 2·3 + 1·7 = 13.
    assert.equal(padded[0], -10);
    assert.equal(padded[3], 13);
    const strided = F.conv2d(x, k, tensor([1], [1]), { padding: 1, stride: 2 });
    assert.deepEqual(strided.shape, [1, 1, 2, 2]);
    close(strided.toArray(), conv2dRef(xs, ks, 1, 2, 1).flat());
  });
});

// ---- batch normalisation ----

test('BatchNorm1d training output and running statistics (momentum 0.1), then eval', () => {
  tidy(() => {
    const bn = new nn.BatchNorm1d(2);
    // Channel 0: 1,2,3,4 (mean 2.5, biased var 1.25, unbiased 5/3); channel 1: 2,4,6,8 (mean 5, var 5, unbiased 20/3).
    const x = tensor([1, 2, 2, 4, 3, 6, 4, 8], [4, 2]);
    const y = bn.forward(x).toArray();
    const s0 = Math.sqrt(1.25 + 1e-5),
      s1 = Math.sqrt(5 + 1e-5);
    close(
      y,
      [(1 - 2.5) / s0, (2 - 5) / s1, (2 - 2.5) / s0, (4 - 5) / s1, (3 - 2.5) / s0, (6 - 5) / s1, (4 - 2.5) / s0, (8 - 5) / s1],
      1e-5,
    );
    close(bn.buffer('runningMean').toArray(), [0.25, 0.5], 1e-6, 'running mean');
    close(bn.buffer('runningVar').toArray(), [0.9 + 0.1 * (5 / 3), 0.9 + 0.1 * (20 / 3)], 1e-6, 'running var');
    bn.forward(x);
    const rm = [0.9 * 0.25 + 0.1 * 2.5, 0.9 * 0.5 + 0.1 * 5];
    const rv = [0.9 * (0.9 + 0.1 * (5 / 3)) + 0.1 * (5 / 3), 0.9 * (0.9 + 0.1 * (20 / 3)) + 0.1 * (20 / 3)];
    close(bn.buffer('runningMean').toArray(), rm, 1e-6, 'running mean after two steps');
    close(bn.buffer('runningVar').toArray(), rv, 1e-6, 'running var after two steps');
    // Eval: (x − running mean)/√(running var + eps), and the running statistics stay put.
    bn.eval();
    const e = bn.forward(tensor([1, 2], [1, 2])).toArray();
    close(e, [(1 - rm[0]!) / Math.sqrt(rv[0]! + 1e-5), (2 - rm[1]!) / Math.sqrt(rv[1]! + 1e-5)], 1e-5, 'eval output');
    close(bn.buffer('runningMean').toArray(), rm, 1e-6, 'running mean unchanged in eval');
    bn.dispose();
  });
});

test('F.batchNorm on NCHW with affine parameters and a custom momentum', () => {
  tidy(() => {
    // One channel, values 0, 2, 4, 6 over N×H×W: mean 3, biased var 5, unbiased 20/3.
    const x = tensor([0, 2, 4, 6], [2, 1, 1, 2]);
    const rm = zeros([1]);
    const rv = ones([1]);
    const y = F.batchNorm(x, rm, rv, tensor([2], [1]), tensor([1], [1]), { training: true, momentum: 0.5 }).toArray();
    const s = Math.sqrt(5 + 1e-5);
    close(
      y,
      [0, 2, 4, 6].map((v) => (2 * (v - 3)) / s + 1),
      1e-5,
    );
    close(rm.toArray(), [1.5]);
    close(rv.toArray(), [0.5 + 0.5 * (20 / 3)]);
  });
});

// ---- losses and margin heads ----

/** torch's cross-entropy (class weights, label smoothing, 'mean' | 'sum' | 'none') in plain JS. */
function crossEntropyRef(
  logits: number[][],
  target: number[],
  weight: number[] | null,
  eps: number,
  reduction: 'mean' | 'sum' | 'none',
): number | number[] {
  const C = logits[0]!.length;
  const w = weight ?? Array(C).fill(1);
  const per = logits.map((row, i) => {
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    const logp = row.map((v) => v - lse);
    const y = target[i]!;
    const nll = -w[y]! * logp[y]!;
    const smooth = -logp.reduce((s, lp, c) => s + w[c]! * lp, 0);
    return { nll, smooth, wy: w[y]! };
  });
  if (reduction === 'none') return per.map((p) => (1 - eps) * p.nll + (eps / C) * p.smooth);
  const nll = per.reduce((s, p) => s + p.nll, 0);
  const smooth = per.reduce((s, p) => s + p.smooth, 0);
  // 'mean' divides both parts by the summed target weights (torch's weighted mean).
  const denom = reduction === 'mean' ? per.reduce((s, p) => s + p.wy, 0) : 1;
  return (1 - eps) * (nll / denom) + (eps / C) * (smooth / denom);
}

test('crossEntropy on a 2x3 example: plain, class weights, label smoothing, both', () => {
  tidy(() => {
    const rows = [
      [1, 2, 0.5],
      [0.1, -1, 2],
    ];
    const target = [1, 2];
    const logits = tensor(rows.flat(), [2, 3]);
    const t = long(target);
    const weights = [0.2, 1, 3];
    const w = tensor(weights, [3]);
    // Plain: mean of −log softmax at the target, by hand.
    const lse0 = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(0.5));
    const lse1 = Math.log(Math.exp(0.1) + Math.exp(-1) + Math.exp(2));
    const plain = (lse0 - 2 + (lse1 - 2)) / 2;
    close([F.crossEntropy(logits, t).item()], [plain], 1e-6, 'plain');
    // Weighted: (w1·nll0 + w2·nll1)/(w1 + w2).
    close([F.crossEntropy(logits, t, { weight: w }).item()], [(1 * (lse0 - 2) + 3 * (lse1 - 2)) / 4], 1e-6, 'weighted');
    for (const eps of [0.1, 0.25]) {
      close(
        [F.crossEntropy(logits, t, { labelSmoothing: eps }).item()],
        [crossEntropyRef(rows, target, null, eps, 'mean') as number],
        1e-6,
        `smoothing ${eps}`,
      );
      close(
        [F.crossEntropy(logits, t, { weight: w, labelSmoothing: eps }).item()],
        [crossEntropyRef(rows, target, weights, eps, 'mean') as number],
        1e-6,
        `weights+smoothing ${eps}`,
      );
      close(
        [F.crossEntropy(logits, t, { weight: w, labelSmoothing: eps, reduction: 'sum' }).item()],
        [crossEntropyRef(rows, target, weights, eps, 'sum') as number],
        1e-6,
        'sum',
      );
      close(
        F.crossEntropy(logits, t, { weight: w, labelSmoothing: eps, reduction: 'none' }).toArray(),
        crossEntropyRef(rows, target, weights, eps, 'none') as number[],
        1e-6,
        'none',
      );
    }
    // Smoothing with ε: −[(1−ε)·logp_y + ε/C·Σ logp] for row 0, by hand.
    const lp0 = [1 - lse0, 2 - lse0, 0.5 - lse0];
    const row0 = -(0.9 * lp0[1]! + (0.1 / 3) * (lp0[0]! + lp0[1]! + lp0[2]!));
    close([F.crossEntropy(logits.slice(0, 0, 1), t.slice(0, 0, 1), { labelSmoothing: 0.1 }).item()], [row0], 1e-6, 'row 0 by hand');
  });
});

test('MarginSoftmax logits (cosface, arcface) and evaluation logits by hand', () => {
  tidy(() => {
    const W = [
      [1, 0],
      [0, 1],
      [0.6, 0.8],
    ];
    const E = [
      [1, 1],
      [2, -1],
      [-0.6, -0.79],
    ];
    const labels = [2, 0, 2];
    const cos = E.map((e) => W.map((w) => (e[0]! * w[0]! + e[1]! * w[1]!) / (Math.hypot(...e) * Math.hypot(...w))));
    const s = 10;
    const emb = tensor(E.flat(), [3, 2]);
    const lab = long(labels);
    const cosface = new nn.MarginSoftmax(2, 3, { kind: 'cosface', scale: s, margin: 0.35 });
    cosface.loadStateDict(new Map([['weight', tensor(W.flat(), [3, 2])]]));
    const expectCos = cos.flatMap((row, i) => row.map((c, j) => s * (j === labels[i] ? c - 0.35 : c)));
    // e.g. row 0's target: 10·((0.6 + 0.8)/√2 − 0.35) = 6.3995; row 1's target: 10·(2/√5 − 0.35) = 5.4443.
    close(cosface.logits(emb, lab).toArray(), expectCos, 1e-5, 'cosface logits');
    close(
      cosface.forward(emb).toArray(),
      cos.flat().map((c) => s * c),
      1e-5,
      'evaluation logits',
    );
    const ce = crossEntropyRef(
      cos.map((row, i) => row.map((c, j) => s * (j === labels[i] ? c - 0.35 : c))),
      labels,
      null,
      0,
      'mean',
    ) as number;
    close([cosface.loss(emb, lab).item()], [ce], 1e-5, 'cosface loss');

    const arcface = new nn.MarginSoftmax(2, 3, { kind: 'arcface', scale: s, margin: 0.5 });
    arcface.loadStateDict(new Map([['weight', tensor(W.flat(), [3, 2])]]));
    // cos(θ + m) where θ + m < π; row 2 points almost opposite its centre, so it takes cos θ − m·sin m instead.
    const arc = (c: number): number => (Math.acos(c) + 0.5 < Math.PI ? Math.cos(Math.acos(c) + 0.5) : c - 0.5 * Math.sin(0.5));
    assert.ok(Math.acos(cos[2]![2]!) + 0.5 > Math.PI, 'row 2 exercises the fallback branch');
    const expectArc = cos.flatMap((row, i) => row.map((c, j) => s * (j === labels[i] ? arc(c) : c)));
    close(arcface.logits(emb, lab).toArray(), expectArc, 1e-5, 'arcface logits');
    cosface.dispose();
    arcface.dispose();
  });
});

// ---- optimisers (scalar float64 parameter, loss = p², gradient 2p) ----

function runOptimizer(make: (p: Tensor) => optim.Optimizer, p0: number, steps: number): number[] {
  const p = tensor([p0], [1], { dtype: 'float64', requiresGrad: true });
  const opt = make(p);
  const out: number[] = [];
  for (let s = 0; s < steps; s++) {
    tidy(() => p.mul(p).sum().backward());
    opt.step();
    opt.zeroGrad();
    out.push(p.item());
  }
  opt.dispose();
  p.dispose();
  return out;
}

/** torch.optim.SGD on f(p) = p², in plain JS. */
function sgdRef(p0: number, steps: number, lr: number, momentum = 0, dampening = 0, nesterov = false, wd = 0): number[] {
  let p = p0;
  let buf: number | null = null;
  const out: number[] = [];
  for (let s = 0; s < steps; s++) {
    let d = 2 * p + wd * p;
    if (momentum !== 0) {
      buf = buf === null ? d : momentum * buf + (1 - dampening) * d;
      d = nesterov ? d + momentum * buf : buf;
    }
    p -= lr * d;
    out.push(p);
  }
  return out;
}

/** torch.optim.Adam / AdamW on f(p) = p², in plain JS. */
function adamRef(p0: number, steps: number, lr: number, b1: number, b2: number, eps: number, wd: number, decoupled: boolean): number[] {
  let p = p0,
    m = 0,
    v = 0;
  const out: number[] = [];
  for (let t = 1; t <= steps; t++) {
    let g = 2 * p;
    if (wd !== 0) {
      if (decoupled) p *= 1 - lr * wd;
      else g += wd * p;
    }
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const denom = Math.sqrt(v) / Math.sqrt(1 - b2 ** t) + eps;
    p -= (lr / (1 - b1 ** t)) * (m / denom);
    out.push(p);
  }
  return out;
}

test('SGD one and two steps: plain, momentum, dampening, nesterov, weight decay', () => {
  // Plain SGD by hand: p1 = 1.5 − 0.1·3 = 1.2; p2 = 1.2 − 0.1·2.4 = 0.96.
  close(
    runOptimizer((p) => new optim.SGD([p], { lr: 0.1 }), 1.5, 2),
    [1.2, 0.96],
    1e-12,
  );
  // Momentum 0.9 by hand: buf1 = 3, p1 = 1.2; buf2 = 0.9·3 + 2.4 = 5.1, p2 = 1.2 − 0.51 = 0.69.
  close(
    runOptimizer((p) => new optim.SGD([p], { lr: 0.1, momentum: 0.9 }), 1.5, 2),
    [1.2, 0.69],
    1e-12,
  );
  // Nesterov by hand: d1 = 3 + 0.9·3 = 5.7, p1 = 0.93; g2 = 1.86, buf2 = 2.7 + 1.86 = 4.56, d2 = 1.86 + 4.104 = 5.964, p2 = 0.3336.
  close(
    runOptimizer((p) => new optim.SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true }), 1.5, 2),
    [0.93, 0.3336],
    1e-12,
  );
  const cases: [string, optim.SGDConfig, number[]][] = [
    ['weight decay', { lr: 0.05, weightDecay: 0.1 }, sgdRef(1.5, 3, 0.05, 0, 0, false, 0.1)],
    ['momentum + weight decay', { lr: 0.05, momentum: 0.8, weightDecay: 0.1 }, sgdRef(1.5, 3, 0.05, 0.8, 0, false, 0.1)],
    ['dampening', { lr: 0.05, momentum: 0.8, dampening: 0.5 }, sgdRef(1.5, 3, 0.05, 0.8, 0.5)],
    ['nesterov + weight decay', { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 }, sgdRef(1.5, 3, 0.05, 0.9, 0, true, 0.01)],
  ];
  for (const [name, config, expected] of cases)
    close(
      runOptimizer((p) => new optim.SGD([p], config), 1.5, 3),
      expected,
      1e-12,
      name,
    );
  assert.throws(() => new optim.SGD([], { lr: 0.1, nesterov: true }), /Nesterov/);
});

test('Adam and AdamW one and two steps (bias correction, eps outside the square root, weight decay)', () => {
  // First Adam step by hand: m̂ = g, v̂ = g², so p1 = p0 − lr·g/(|g| + eps) = 1.5 − 0.1·3/(3 + 1e-8).
  close(
    runOptimizer((p) => new optim.Adam([p], { lr: 0.1 }), 1.5, 1),
    [1.5 - (0.1 * 3) / (3 + 1e-8)],
    1e-12,
    'adam step 1',
  );
  // Second step by hand: m1 = 0.1·3, v1 = 0.001·9; then m2, v2 and the bias corrections 1 − 0.9², 1 − 0.999².
  const p1 = 1.5 - (0.1 * 3) / (3 + 1e-8);
  const g2 = 2 * p1;
  const m2 = 0.9 * (0.1 * 3) + 0.1 * g2;
  const v2 = 0.999 * (0.001 * 9) + 0.001 * g2 * g2;
  const p2 = p1 - (0.1 / (1 - 0.81)) * (m2 / (Math.sqrt(v2) / Math.sqrt(1 - 0.999 ** 2) + 1e-8));
  close(
    runOptimizer((p) => new optim.Adam([p], { lr: 0.1 }), 1.5, 2),
    [p1, p2],
    1e-12,
    'adam step 2',
  );
  const cases: [string, (p: Tensor) => optim.Optimizer, number[]][] = [
    ['adam eps 0.1 (PAE)', (p) => new optim.Adam([p], { lr: 0.01, eps: 0.1 }), adamRef(1.5, 3, 0.01, 0.9, 0.999, 0.1, 0, false)],
    ['adam betas', (p) => new optim.Adam([p], { lr: 0.01, betas: [0.5, 0.9] }), adamRef(1.5, 3, 0.01, 0.5, 0.9, 1e-8, 0, false)],
    ['adam L2', (p) => new optim.Adam([p], { lr: 0.01, weightDecay: 0.1, eps: 0.1 }), adamRef(1.5, 3, 0.01, 0.9, 0.999, 0.1, 0.1, false)],
    [
      'adamw decoupled',
      (p) => new optim.AdamW([p], { lr: 0.01, weightDecay: 0.1, eps: 0.1 }),
      adamRef(1.5, 3, 0.01, 0.9, 0.999, 0.1, 0.1, true),
    ],
  ];
  for (const [name, make, expected] of cases) close(runOptimizer(make, 1.5, 3), expected, 1e-12, name);
  // AdamW's first step by hand: p ← 1.5·(1 − 0.01·0.1) = 1.4985, then − 0.01·3/(3 + 0.1).
  close(
    runOptimizer((p) => new optim.AdamW([p], { lr: 0.01, weightDecay: 0.1, eps: 0.1 }), 1.5, 1),
    [1.4985 - 0.03 / 3.1],
    1e-12,
    'adamw step 1',
  );
});

test('optimizer resetState forgets momentum; parameter groups keep their own lr', () => {
  const p = tensor([1.5], [1], { dtype: 'float64', requiresGrad: true });
  const q = tensor([1], [1], { dtype: 'float64', requiresGrad: true });
  const opt = new optim.SGD([{ params: [p] }, { params: [q], lr: 0.01 }], { lr: 0.1, momentum: 0.9 });
  const step = (): void => {
    tidy(() => p.mul(p).add(q.mul(q)).sum().backward());
    opt.step();
    opt.zeroGrad();
  };
  step();
  close([p.item(), q.item()], [1.2, 1 - 0.01 * 2], 1e-12);
  opt.resetState();
  step(); // with a fresh buffer the second step is plain: 1.2 − 0.1·2.4
  close([p.item(), q.item()], [0.96, 0.98 - 0.01 * 1.96], 1e-12);
  opt.lr = 0.5;
  assert.deepEqual(
    opt.groups.map((g) => g.lr),
    [0.5, 0.5],
  );
  opt.dispose();
  p.dispose();
  q.dispose();
});

// ---- learning-rate schedules ----

function withOptimizer<T>(lr: number, fn: (opt: optim.Optimizer) => T): T {
  const p = zeros([1], { requiresGrad: true });
  const opt = new optim.SGD([p], { lr });
  try {
    return fn(opt);
  } finally {
    opt.dispose();
    p.dispose();
  }
}

test('StepLR sequence', () => {
  withOptimizer(1, (opt) => {
    const s = new optim.StepLR(opt, 2, 0.5);
    close(
      range(6).map(() => s.step()),
      [1, 0.5, 0.5, 0.25, 0.25, 0.125],
      1e-15,
    );
    assert.equal(opt.lr, 0.125);
  });
});

test('CosineLR sequence (clamps at the end)', () => {
  withOptimizer(1, (opt) => {
    const s = new optim.CosineLR(opt, 4, 0.1);
    // minLr + (1 − minLr)·(1 + cos(πe/4))/2 for e = 1..4, then stays at minLr.
    const c = Math.SQRT1_2;
    close(
      range(6).map(() => s.step()),
      [0.1 + (0.9 * (1 + c)) / 2, 0.55, 0.1 + (0.9 * (1 - c)) / 2, 0.1, 0.1, 0.1],
      1e-12,
    );
  });
});

test('ReduceLROnPlateau sequence (max mode, patience, minLr; min mode with threshold)', () => {
  withOptimizer(1, (opt) => {
    const s = new optim.ReduceLROnPlateau(opt, { mode: 'max', factor: 0.5, patience: 2, minLr: 0.2 });
    const metrics = [1, 2, 2, 2, 2, 1, 3, 3, 3, 3, 3, 3, 3];
    const dropped: boolean[] = [];
    const lrs: number[] = [];
    for (const m of metrics) {
      dropped.push(s.step(m));
      lrs.push(opt.lr);
    }
    // Improvements at 1, 2 and 3; the third non-improving epoch after each drops the lr (then the count restarts).
    assert.deepEqual(dropped, [false, false, false, false, true, false, false, false, false, true, false, false, true]);
    close(lrs, [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2], 1e-15);
    assert.equal(s.drops, 3);
  });
  withOptimizer(1, (opt) => {
    const s = new optim.ReduceLROnPlateau(opt, { mode: 'min', factor: 0.1, patience: 1, threshold: 0.05 });
    // 1.0 improves; 0.97 is within the threshold (no improvement); 0.96 neither → drop; 0.9 improves.
    assert.deepEqual(
      [1, 0.97, 0.96, 0.9, 0.89, 0.88].map((m) => s.step(m)),
      [false, false, true, false, false, true],
    );
    close([opt.lr], [0.01], 1e-15);
  });
});

// ---- dtypes and round trips ----

test('dtype round trips through tensor() and data()', () => {
  tidy(() => {
    const f32 = tensor(new Float32Array([0.1, -2.5, 3e38]), [3]);
    assert.equal(f32.dtype, 'float32');
    assert.ok(f32.data() instanceof Float32Array);
    assert.deepEqual(Array.from(f32.data() as Float32Array), [Math.fround(0.1), -2.5, Math.fround(3e38)]);
    assert.deepEqual(tensor([0.1, 1 / 3]).toArray(), [Math.fround(0.1), Math.fround(1 / 3)], 'numbers default to float32');

    const f64 = tensor(new Float64Array([0.1, 1e-300, -1 / 3]), [3]);
    assert.equal(f64.dtype, 'float64');
    assert.deepEqual(Array.from(f64.data() as Float64Array), [0.1, 1e-300, -1 / 3]);

    const big = new BigInt64Array([-(2n ** 62n), 9007199254740993n, 0n, 42n]);
    const i64 = tensor(big, [2, 2]);
    assert.equal(i64.dtype, 'int64');
    assert.deepEqual(i64.shape, [2, 2]);
    assert.deepEqual(Array.from(i64.data() as BigInt64Array), Array.from(big), 'int64 beyond 2^53 survives');
    assert.deepEqual(tensor([1, -2, 3.7], [3], { dtype: 'int64' }).data(), new BigInt64Array([1n, -2n, 3n]));

    const u8 = tensor(new Uint8Array([0, 128, 255]), [3]);
    assert.equal(u8.dtype, 'uint8');
    assert.deepEqual(u8.data(), new Uint8Array([0, 128, 255]));

    const b = tensor([0, 2, -1, 0.5], [4], { dtype: 'bool' });
    assert.equal(b.dtype, 'bool');
    assert.deepEqual(b.data(), new Uint8Array([0, 1, 1, 1]));
    const b2 = tensor(new Uint8Array([1, 0]), [2], { dtype: 'bool' });
    assert.equal(b2.dtype, 'bool');
    assert.deepEqual(b2.toArray(), [1, 0]);

    const i32 = tensor(new Int32Array([-7, 2147483647]), [2]);
    assert.equal(i32.dtype, 'int32');
    assert.deepEqual(i32.data(), new Int32Array([-7, 2147483647]));

    // Conversions: float → int truncates toward zero, non-zero → true, bool → 0/1 floats.
    assert.deepEqual(tensor([1.7, -1.7, 2.5]).to('int64').toArray(), [1, -1, 2]);
    assert.deepEqual(tensor([0, 0.5, -3]).to('bool').toArray(), [0, 1, 1]);
    assert.deepEqual(b.to('float32').toArray(), [0, 1, 1, 1]);
    assert.equal(tensor([1], [1], { dtype: 'float64' }).float().dtype, 'float32');
    assert.equal(tensor([1.9]).long().dtype, 'int64');
    assert.deepEqual(scalar(2.5).shape, []);
    assert.equal(scalar(2.5).item(), 2.5);
    assert.equal(zeros([2], { dtype: 'float64' }).dtype, 'float64');
    assert.deepEqual(full([2, 1], 7, { dtype: 'int32' }).data(), new Int32Array([7, 7]));
  });
});

// ---- shape ops ----

test('slicing, narrowing, selecting and views', () => {
  tidy(() => {
    const x = tensor(range(12), [3, 4]); // [[0,1,2,3],[4,5,6,7],[8,9,10,11]]
    assert.deepEqual(x.slice(1, 1, 4, 2).toArray(), [1, 3, 5, 7, 9, 11]);
    assert.deepEqual(x.slice(0, -1).toArray(), [8, 9, 10, 11], 'x[-1:]');
    assert.deepEqual(x.slice(0, 0, -1).toArray(), [0, 1, 2, 3, 4, 5, 6, 7], 'x[:-1]');
    assert.deepEqual(x.slice(1, 2).shape, [3, 2]);
    assert.deepEqual(x.narrow(1, 2, 2).toArray(), [2, 3, 6, 7, 10, 11]);
    assert.deepEqual(x.select(0, 1).toArray(), [4, 5, 6, 7]);
    assert.deepEqual(x.select(1, -1).toArray(), [3, 7, 11]);
    assert.deepEqual(x.indexSelect(0, long([2, 0])).toArray(), [8, 9, 10, 11, 0, 1, 2, 3]);
    assert.deepEqual(x.index([long([0, 2]), long([3, 1])]).toArray(), [3, 9]);
    assert.deepEqual(x.gather(1, long([0, 3, 1, 1, 2, 0], [3, 2])).toArray(), [0, 3, 5, 5, 10, 8]);
    // A slice is a view: it starts 4 floats (16 bytes) into row 1, and writing into it changes the base.
    const row1 = x.select(0, 1);
    assert.equal(row1.dataPtr() - x.dataPtr(), 16);
    row1.fill_(-1);
    assert.deepEqual(x.toArray(), [0, 1, 2, 3, -1, -1, -1, -1, 8, 9, 10, 11]);
  });
});

test('cat, stack, chunk, split', () => {
  tidy(() => {
    const a = tensor([1, 2, 3, 4], [2, 2]);
    const b = tensor([5, 6], [1, 2]);
    assert.deepEqual(cat([a, b]).toArray(), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(cat([a, b]).shape, [3, 2]);
    assert.deepEqual(cat([a, a], 1).toArray(), [1, 2, 1, 2, 3, 4, 3, 4]);
    const c = tensor([10, 20, 30, 40], [2, 2]);
    assert.deepEqual(stack([a, c]).shape, [2, 2, 2]);
    assert.deepEqual(stack([a, c]).toArray(), [1, 2, 3, 4, 10, 20, 30, 40]);
    assert.deepEqual(stack([a, c], 2).toArray(), [1, 10, 2, 20, 3, 30, 4, 40]);
    assert.deepEqual(stack([a, c], 1).toArray(), [1, 2, 10, 20, 3, 4, 30, 40]);
    const parts = tensor(range(5)).split(2);
    assert.deepEqual(
      parts.map((p) => p.toArray()),
      [[0, 1], [2, 3], [4]],
    );
    assert.deepEqual(
      tensor(range(6), [2, 3])
        .chunk(3, 1)
        .map((p) => p.toArray()),
      [
        [0, 3],
        [1, 4],
        [2, 5],
      ],
    );
    assert.throws(() => cat([a, tensor([1, 2, 3], [1, 3])]), /aten::cat/);
  });
});

test('permute, transpose, reshape, flip, expand, repeat', () => {
  tidy(() => {
    const x = tensor(range(24), [2, 3, 4]); // x[i][j][k] = 12i + 4j + k
    const p = x.permute([2, 0, 1]);
    assert.deepEqual(p.shape, [4, 2, 3]);
    const expected: number[] = [];
    for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) expected.push(12 * i + 4 * j + k);
    assert.deepEqual(p.toArray(), expected);
    const m = tensor(range(6), [2, 3]);
    assert.deepEqual(m.transpose(0, 1).toArray(), [0, 3, 1, 4, 2, 5]);
    assert.deepEqual(m.t().shape, [3, 2]);
    assert.deepEqual(m.reshape([3, 2]).toArray(), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(m.reshape([-1]).shape, [6]);
    assert.deepEqual(m.flip([1]).toArray(), [2, 1, 0, 5, 4, 3]);
    assert.deepEqual(m.flip([0, 1]).toArray(), [5, 4, 3, 2, 1, 0]);
    assert.deepEqual(tensor([1, 2], [2, 1]).expand([2, 3]).toArray(), [1, 1, 1, 2, 2, 2]);
    assert.deepEqual(tensor([1, 2], [1, 2]).repeat([2, 2]).toArray(), [1, 2, 1, 2, 1, 2, 1, 2]);
    assert.deepEqual(m.unsqueeze(0).shape, [1, 2, 3]);
    assert.deepEqual(m.unsqueeze(0).squeeze(0).shape, [2, 3]);
    assert.deepEqual(x.flatten(1).shape, [2, 12]);
  });
});

test('reductions by hand', () => {
  tidy(() => {
    const x = tensor([1, 5, 2, 8, 3, 4], [2, 3]);
    assert.equal(x.sum().item(), 23);
    assert.deepEqual(x.sum(0).toArray(), [9, 8, 6]);
    close(x.mean(1).toArray(), [8 / 3, 5]);
    const [mv, mi] = x.max(1);
    assert.deepEqual(mv.toArray(), [5, 8]);
    assert.deepEqual(mi.toArray(), [1, 0]);
    assert.deepEqual(x.min(0)[0].toArray(), [1, 3, 2]);
    assert.deepEqual(x.argmax(1).toArray(), [1, 0]);
    // Unbiased variance of row 0 (1, 5, 2): mean 8/3, Σd² = 25/9 + 49/9 + 4/9 = 78/9, /2 = 13/3.
    close(x.var(1).toArray(), [13 / 3, 7], 1e-6);
    close(x.var(1, false).toArray(), [26 / 9, 14 / 3], 1e-6);
    close(x.std().toArray(), [Math.sqrt((1 + 25 + 4 + 64 + 9 + 16 - (23 * 23) / 6) / 5)], 1e-6);
    close([x.norm().item()], [Math.sqrt(1 + 25 + 4 + 64 + 9 + 16)], 1e-6);
    close(x.norm(1, 1).toArray(), [8, 15]);
  });
});

// ---- comparisons, masks, where ----

test('comparisons, logical ops, where and maskedFill', () => {
  tidy(() => {
    const a = tensor([1, 2, 3, 4]);
    const b = tensor([4, 2, 1, 4]);
    assert.equal(a.eq(b).dtype, 'bool');
    assert.deepEqual(a.eq(b).toArray(), [0, 1, 0, 1]);
    assert.deepEqual(a.ne(b).toArray(), [1, 0, 1, 0]);
    assert.deepEqual(a.lt(b).toArray(), [1, 0, 0, 0]);
    assert.deepEqual(a.le(b).toArray(), [1, 1, 0, 1]);
    assert.deepEqual(a.gt(b).toArray(), [0, 0, 1, 0]);
    assert.deepEqual(a.ge(b).toArray(), [0, 1, 1, 1]);
    assert.deepEqual(a.gt(2).toArray(), [0, 0, 1, 1]);
    assert.deepEqual(a.eq(3).toArray(), [0, 0, 1, 0]);
    const c = a.gt(2);
    assert.deepEqual(c.logicalNot().toArray(), [1, 1, 0, 0]);
    assert.deepEqual(c.logicalAnd(a.lt(4)).toArray(), [0, 0, 1, 0]);
    assert.deepEqual(c.logicalOr(a.eq(1)).toArray(), [1, 0, 1, 1]);
    assert.equal(c.countNonzero(), 2);
    assert.equal(c.any().item(), 1);
    assert.equal(c.all().item(), 0);
    assert.deepEqual(where(c, a, b).toArray(), [4, 2, 3, 4]);
    assert.deepEqual(where(c, 0, b).toArray(), [4, 2, 0, 0]);
    assert.deepEqual(where(c, a, -1).toArray(), [-1, -1, 3, 4]);
    assert.deepEqual(where(c, 1, 0).toArray(), [0, 0, 1, 1]);
    assert.deepEqual(a.maskedFill(c, -5).toArray(), [1, 2, -5, -5]);
    assert.deepEqual(a.toArray(), [1, 2, 3, 4], 'maskedFill is out of place');
    assert.deepEqual(a.maskedSelect(c).toArray(), [3, 4]);
    // Broadcast mask: one column mask over two rows.
    assert.deepEqual(
      tensor([1, 2, 3, 4], [2, 2])
        .maskedFill(tensor([1, 0], [1, 2], { dtype: 'bool' }), 0)
        .toArray(),
      [0, 2, 0, 4],
    );
  });
});

// ---- in-place ops ----

test('in-place ops write into the same storage (dataPtr unchanged)', () => {
  tidy(() => {
    const t = zeros([4]);
    const ptr = t.dataPtr();
    const same = (what: string): void => assert.equal(t.dataPtr(), ptr, `${what} moved the storage`);
    t.add_(1);
    same('add_');
    t.mul_(3);
    same('mul_');
    t.sub_(0.5);
    same('sub_');
    t.div_(2);
    same('div_');
    assert.deepEqual(t.toArray(), [1.25, 1.25, 1.25, 1.25]);
    t.add_(tensor([1, 2, 3, 4]), 2);
    same('add_(tensor, alpha)');
    assert.deepEqual(t.toArray(), [3.25, 5.25, 7.25, 9.25]);
    t.clamp_(4, 8);
    same('clamp_');
    assert.deepEqual(t.toArray(), [4, 5.25, 7.25, 8]);
    t.copy_(tensor([4, 9, 16, 25]));
    same('copy_');
    t.sqrt_();
    same('sqrt_');
    assert.deepEqual(t.toArray(), [2, 3, 4, 5]);
    t.addcmul_(tensor([1, 1, 1, 1]), tensor([1, 2, 3, 4]), 0.5);
    same('addcmul_');
    assert.deepEqual(t.toArray(), [2.5, 4, 5.5, 7]);
    t.addcdiv_(tensor([1, 2, 3, 4]), tensor([2, 2, 2, 2]), 2);
    same('addcdiv_');
    assert.deepEqual(t.toArray(), [3.5, 6, 8.5, 11]);
    t.lerp_(tensor([5.5, 6, 8.5, 15]), 0.5);
    same('lerp_');
    assert.deepEqual(t.toArray(), [4.5, 6, 8.5, 13]);
    t.maskedFill_(tensor([1, 0, 0, 1], [4], { dtype: 'bool' }), 0);
    same('maskedFill_');
    t.indexPut_([long([1, 2])], tensor([7, 8]));
    same('indexPut_');
    assert.deepEqual(t.toArray(), [0, 7, 8, 0]);
    t.indexPut_([long([1, 1])], tensor([1, 2]), true);
    same('indexPut_ accumulate');
    assert.deepEqual(t.toArray(), [0, 10, 8, 0]);
    t.mul_(tensor([2, 2, 2, 2]))
      .div_(tensor([4, 4, 4, 4]))
      .sub_(tensor([1, 1, 1, 1]));
    same('tensor in-place ops');
    t.fill_(3);
    same('fill_');
    t.zero_();
    same('zero_');
    assert.deepEqual(t.toArray(), [0, 0, 0, 0]);
    // The out-of-place counterpart does allocate: proves dataPtr can tell.
    assert.notEqual(t.add(1).dataPtr(), ptr);
  });
});

// ---- autograd mode and seeds ----

test('noGrad stops graph recording, nests and restores (also on throw)', () => {
  tidy(() => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    assert.equal(isGradEnabled(), true);
    assert.equal(x.mul(2).requiresGrad, true);
    const y = noGrad(() => {
      assert.equal(isGradEnabled(), false);
      const inner = noGrad(() => x.mul(3));
      assert.equal(isGradEnabled(), false, 'inner noGrad restores the outer (disabled) state');
      assert.equal(inner.requiresGrad, false);
      const recorded = enableGrad(() => x.mul(4));
      assert.equal(recorded.requiresGrad, true, 'enableGrad inside noGrad records again');
      assert.equal(isGradEnabled(), false);
      return x.mul(2);
    });
    assert.equal(y.requiresGrad, false);
    assert.equal(isGradEnabled(), true);
    assert.throws(
      () =>
        noGrad(() => {
          throw new Error('boom');
        }),
      /boom/,
    );
    assert.equal(isGradEnabled(), true, 'restored after a throw');
    // The gradient of a graph with a noGrad branch only sees the recorded part.
    const z = x
      .mul(x)
      .add(noGrad(() => x.mul(10)))
      .sum();
    z.backward();
    assert.deepEqual(x.grad!.toArray(), [2, 4]);
    assert.deepEqual(x.detach().requiresGrad, false);
  });
});

test('manualSeed makes random draws reproducible; a different seed differs', () => {
  tidy(() => {
    manualSeed(42);
    const a = randn([8]).toArray();
    const ra = rand([4]).toArray();
    const ia = randint(0, 100, [6]).toArray();
    const pa = randperm(7).toArray();
    manualSeed(42);
    assert.deepEqual(randn([8]).toArray(), a);
    assert.deepEqual(rand([4]).toArray(), ra);
    assert.deepEqual(randint(0, 100, [6]).toArray(), ia);
    assert.deepEqual(randperm(7).toArray(), pa);
    assert.deepEqual(
      [...pa].sort((p, q) => p - q),
      range(7),
    );
    manualSeed(43);
    assert.notDeepEqual(randn([8]).toArray(), a);
    assert.ok(ra.every((v) => v >= 0 && v < 1));
    assert.ok(ia.every((v) => Number.isInteger(v) && v >= 0 && v < 100));
  });
});

// ---- errors ----

test('a shape-mismatched matmul names the op and both shapes', () => {
  tidy(() => {
    const a = tensor(range(6), [2, 3]);
    const b = tensor(range(20), [4, 5]);
    assert.throws(
      () => a.matmul(b),
      (e: Error) => {
        assert.match(e.message, /aten::matmul/);
        assert.ok(e.message.includes('[2, 3]'), e.message);
        assert.ok(e.message.includes('[4, 5]'), e.message);
        return true;
      },
    );
  });
});

test('use after dispose throws; double dispose is harmless', () => {
  const a = tensor([1, 2]);
  const b = tensor([3, 4]);
  a.dispose();
  a.dispose();
  assert.equal(a.isDisposed, true);
  assert.throws(() => a.add(1), /after dispose/);
  assert.throws(() => b.add(a), /after dispose/);
  assert.throws(() => a.data(), /after dispose/);
  assert.throws(() => a.shape, /after dispose/);
  assert.equal(String(a), 'Tensor(disposed)');
  assert.deepEqual(b.toArray(), [3, 4]);
  b.dispose();
});

test('unknown dtype, bad buffer length and other argument errors', () => {
  tidy(() => {
    const bogus = 'complex64' as DType;
    assert.throws(() => tensor([1, 2], [2], { dtype: bogus }), /complex64/);
    assert.throws(() => zeros([2], { dtype: bogus }), /unknown dtype 'complex64'/);
    assert.throws(() => ones([2], { dtype: 'toString' as DType }), /unknown dtype 'toString'/);
    assert.throws(() => tensor([1, 2]).to(bogus), /complex64/);
    assert.throws(() => tensor(new Float32Array(3), [2, 2]), /buffer has 12 bytes.*needs 16/);
    assert.throws(() => tensor(new Float64Array(4), [5]), /buffer has 32 bytes.*needs 40/);
    assert.throws(() => tensor([1, 2]).item(), /one-element/);
    const x = tensor([1, 2], [2], { requiresGrad: true });
    assert.throws(() => x.mul(2).backward(), /^Error: backward: /);
    assert.throws(() => F.conv2d(tensor(range(4), [1, 1, 2, 2]), tensor(range(9), [1, 1, 3, 3])), /aten::conv2d/);
  });
});

// ---- tidy and liveTensors ----

test('tidy frees intermediates and keeps returned tensors', () => {
  const base = liveTensors();
  let a: Tensor | undefined;
  let b: Tensor | undefined;
  const c = tidy(() => {
    a = ones([3]);
    b = a.add(1);
    return b.mul(2);
  });
  assert.equal(liveTensors(), base + 1);
  assert.equal(a!.isDisposed, true);
  assert.equal(b!.isDisposed, true);
  assert.deepEqual(c.toArray(), [4, 4, 4]);
  const r = tidy(() => {
    const t = ones([2]);
    return { list: [t.add(1), t.add(2)], map: new Map([['k', t.add(3)]]), n: 5 };
  });
  assert.equal(liveTensors(), base + 4, 'tensors in arrays, Maps and plain objects are kept');
  assert.deepEqual(r.list[1]!.toArray(), [3, 3]);
  dispose(r);
  c.dispose();
  assert.equal(liveTensors(), base);
});

test('nested tidy hands results to the enclosing scope; keep() escapes all scopes', () => {
  const base = liveTensors();
  let inner: Tensor | undefined;
  let kept: Tensor | undefined;
  const out = tidy(() => {
    inner = tidy(() => ones([2]).mul(3));
    assert.equal(inner.isDisposed, false);
    kept = keep(ones([1]));
    tidy(() => {
      ones([5]);
      zeros([5]);
    });
    assert.equal(liveTensors(), base + 2, 'the innermost scope freed its two tensors');
    return inner.add(1);
  });
  assert.equal(inner!.isDisposed, true, 'the outer scope freed the inner result it did not return');
  assert.equal(kept!.isDisposed, false);
  assert.equal(liveTensors(), base + 2);
  out.dispose();
  kept!.dispose();
  assert.equal(liveTensors(), base);
});

test('tidy frees everything when the function throws; rejects async functions', () => {
  const base = liveTensors();
  assert.throws(
    () =>
      tidy(() => {
        const t = ones([4]);
        t.add(1);
        t.mul(2);
        throw new Error('fail inside tidy');
      }),
    /fail inside tidy/,
  );
  assert.equal(liveTensors(), base);
  assert.throws(() => tidy(() => Promise.resolve(1)), /synchronous/);
  assert.equal(liveTensors(), base);
});
