// Autograd of every differentiable op and layer, checked against central differences in float64.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, nn, manualSeed, tensor, tidy, where, cat, stack, type Tensor } from '../../src/engine/index.ts';
import { gradcheck, input, rng, wsum, type GradInput } from './gradcheck.ts';

const f64 = { dtype: 'float64' } as const;
const long = (values: number[], shape?: number[]): Tensor => tensor(values, shape ?? [values.length], { dtype: 'int64' });
const bool = (values: number[], shape: number[]): Tensor => tensor(values, shape, { dtype: 'bool' });

// ---- the checker itself ----

test('gradcheck rejects a wrong gradient', () => {
  // x·detach(x) has true derivative 2x but autograd sees x: the checker must notice.
  assert.throws(() => gradcheck((x) => wsum(x.mul(x.detach())), [input([3], 1, 0.5, 2)]), /gradients differ/);
});

test('gradcheck rejects a vacuous check (input with zero gradient)', () => {
  assert.throws(() => gradcheck((x, y) => wsum(x).add(y.sum().mul(0)), [input([2], 1), input([2], 2)]), /zero gradient/);
});

// ---- elementwise ----

test('add (tensor with broadcasting and alpha; scalar)', () => {
  gradcheck((a, b) => wsum(a.add(b, 0.5)), [input([2, 3], 1), input([3], 2)]);
  gradcheck((a) => wsum(a.add(2.5)), [input([2, 3], 3)]);
});

test('sub (tensor with broadcasting and alpha; scalar)', () => {
  gradcheck((a, b) => wsum(a.sub(b, 2)), [input([2, 3], 4), input([2, 1], 5)]);
  gradcheck((a) => wsum(a.sub(1.5)), [input([4], 6)]);
});

test('mul (tensor with broadcasting; scalar)', () => {
  gradcheck((a, b) => wsum(a.mul(b)), [input([2, 3], 7), input([1, 3], 8)]);
  gradcheck((a) => wsum(a.mul(-3)), [input([5], 9)]);
});

test('div (tensor with broadcasting; scalar)', () => {
  gradcheck((a, b) => wsum(a.div(b)), [input([2, 3], 10), input([3], 11, 0.5, 2)]);
  gradcheck((a, b) => wsum(a.div(b)), [input([3], 12), input([3], 13, -2, -0.5)]);
  gradcheck((a) => wsum(a.div(4)), [input([3], 14)]);
});

test('pow (scalar exponents; tensor exponent)', () => {
  for (const e of [2, 3, 2.5, -1.5, 0.5]) gradcheck((a) => wsum(a.pow(e)), [input([2, 3], 15, 0.5, 2)]);
  gradcheck((a, e) => wsum(a.pow(e)), [input([2, 3], 16, 0.5, 2), input([2, 3], 17, -1, 2)]);
});

test('maximum and minimum', () => {
  // Independent draws never tie (the gap between a and b is far larger than eps).
  gradcheck((a, b) => wsum(a.maximum(b)), [input([2, 4], 18), input([2, 4], 19)]);
  gradcheck((a, b) => wsum(a.minimum(b)), [input([2, 4], 20), input([2, 4], 21)]);
});

const unary: [string, (x: Tensor) => Tensor, GradInput][] = [
  ['neg', (x) => x.neg(), input([2, 3], 30)],
  ['abs', (x) => x.abs(), input([2, 3], 31, -1, 1, [0])],
  ['exp', (x) => x.exp(), input([2, 3], 32)],
  ['log', (x) => x.log(), input([2, 3], 33, 0.2, 3)],
  ['sqrt', (x) => x.sqrt(), input([2, 3], 34, 0.2, 3)],
  ['rsqrt', (x) => x.rsqrt(), input([2, 3], 35, 0.2, 3)],
  ['tanh', (x) => x.tanh(), input([2, 3], 36, -2, 2)],
  ['sigmoid', (x) => x.sigmoid(), input([2, 3], 37, -3, 3)],
  ['relu', (x) => x.relu(), input([2, 3], 38, -1, 1, [0])],
  ['F.relu', (x) => F.relu(x), input([2, 3], 39, -1, 1, [0])],
  ['clamp(min, max)', (x) => x.clamp(-0.5, 0.5), input([3, 3], 40, -1, 1, [-0.5, 0.5])],
  ['clamp(min)', (x) => x.clamp(-0.2), input([3, 3], 41, -1, 1, [-0.2])],
  ['clamp(undefined, max)', (x) => x.clamp(undefined, 0.3), input([3, 3], 42, -1, 1, [0.3])],
  ['sin', (x) => x.sin(), input([2, 3], 43, -3, 3)],
  ['cos', (x) => x.cos(), input([2, 3], 44, -3, 3)],
  ['acos', (x) => x.acos(), input([2, 3], 45, -0.8, 0.8)],
  ['square', (x) => x.square(), input([2, 3], 46)],
];
for (const [name, op, x] of unary) test(`unary ${name}`, () => void gradcheck((t) => wsum(op(t)), [x]));

// ---- reductions ----

test('sum (all, one dim, several dims with keepdim)', () => {
  gradcheck((x) => x.sum(), [input([2, 3], 50)]);
  gradcheck((x) => wsum(x.sum(1)), [input([2, 3], 51)]);
  gradcheck((x) => wsum(x.sum([0, 2], true)), [input([2, 3, 2], 52)]);
});

test('mean (all, dims)', () => {
  gradcheck((x) => x.mean(), [input([2, 3], 53)]);
  gradcheck((x) => wsum(x.mean([1, 2])), [input([2, 3, 2], 54)]);
  gradcheck((x) => wsum(x.mean(0, true)), [input([3, 2], 55)]);
});

test('var (unbiased/biased, dim/all)', () => {
  gradcheck((x) => x.var(), [input([2, 3], 56)]);
  gradcheck((x) => wsum(x.var(1)), [input([3, 4], 57)]);
  gradcheck((x) => wsum(x.var(0, false, true)), [input([3, 4], 58)]);
});

test('std (unbiased/biased, dim/all)', () => {
  gradcheck((x) => x.std(), [input([2, 3], 59)]);
  gradcheck((x) => wsum(x.std(1)), [input([3, 4], 60)]);
  gradcheck((x) => wsum(x.std([0, 1], false)), [input([2, 2, 3], 61)]);
});

test('max (all; along a dim, values)', () => {
  gradcheck((x) => x.max(), [input([3, 4], 62)]);
  gradcheck((x) => wsum(x.max(1)[0]), [input([3, 4], 63)]);
  gradcheck((x) => wsum(x.max(0, true)[0]), [input([3, 4], 64)]);
});

test('min (all; along a dim, values)', () => {
  gradcheck((x) => x.min(), [input([3, 4], 65)]);
  gradcheck((x) => wsum(x.min(1)[0]), [input([3, 4], 66)]);
});

test('norm (p = 2 all, p = 2 / 1 / 3 along dims)', () => {
  gradcheck((x) => x.norm(), [input([2, 3], 67)]);
  gradcheck((x) => wsum(x.norm(2, 1)), [input([3, 4], 68)]);
  gradcheck((x) => wsum(x.norm(1, 0)), [input([3, 4], 69, -1, 1, [0])]);
  gradcheck((x) => wsum(x.norm(3, [0, 1], true)), [input([2, 3, 2], 70)]);
});

// ---- shape and indexing ----

test('reshape, view, flatten, squeeze, unsqueeze', () => {
  gradcheck((x) => wsum(x.reshape([3, 4])), [input([2, 6], 80)]);
  gradcheck((x) => wsum(x.view([4, 3])), [input([2, 6], 81)]);
  gradcheck((x) => wsum(x.flatten(1)), [input([2, 2, 3], 82)]);
  gradcheck((x) => wsum(x.unsqueeze(1).squeeze(1)), [input([2, 3], 83)]);
});

test('permute, transpose, t', () => {
  gradcheck((x) => wsum(x.permute([2, 0, 1])), [input([2, 3, 4], 84)]);
  gradcheck((x) => wsum(x.transpose(0, 2)), [input([2, 3, 4], 85)]);
  gradcheck((x) => wsum(x.t()), [input([2, 3], 86)]);
});

test('slice (step, negative start), narrow, select', () => {
  gradcheck((x) => wsum(x.slice(1, 1, 5, 2)), [input([2, 6], 87)]);
  gradcheck((x) => wsum(x.slice(0, -2)), [input([4, 2], 88)]);
  gradcheck((x) => wsum(x.narrow(1, 1, 2)), [input([3, 4], 89)]);
  gradcheck((x) => wsum(x.select(1, 2)), [input([3, 4], 90)]);
});

test('indexSelect (with repeats)', () => {
  tidy(() => {
    const i = long([2, 0, 2]);
    gradcheck((x) => wsum(x.indexSelect(0, i)), [input([3, 2], 91)]);
    gradcheck((x) => wsum(x.indexSelect(1, i)), [input([2, 3], 92)]);
  });
});

test('index (advanced indexing with repeats, null slices, two index tensors)', () => {
  tidy(() => {
    const i = long([0, 2, 0]);
    gradcheck((x) => wsum(x.index([i])), [input([3, 2], 93)]);
    gradcheck((x) => wsum(x.index([null, i])), [input([2, 3], 94)]);
    gradcheck((x) => wsum(x.index([long([1, 0, 1]), i])), [input([2, 3], 95)]);
  });
});

test('gather', () => {
  tidy(() => {
    const i = long([0, 2, 1, 1, 2, 2], [3, 2]);
    gradcheck((x) => wsum(x.gather(1, i)), [input([3, 3], 96)]);
  });
});

test('cat and stack', () => {
  gradcheck((a, b) => wsum(cat([a, b], 1)), [input([2, 2], 97), input([2, 3], 98)]);
  gradcheck((a, b) => wsum(cat([a, b, a])), [input([1, 3], 99), input([2, 3], 100)]);
  gradcheck((a, b) => wsum(stack([a, b], 1)), [input([2, 3], 101), input([2, 3], 102)]);
});

test('expand, repeat, flip', () => {
  gradcheck((x) => wsum(x.expand([2, 3, 4])), [input([3, 1], 103)]);
  gradcheck((x) => wsum(x.repeat([2, 1, 3])), [input([2, 2], 104)]);
  gradcheck((x) => wsum(x.flip([0, 1])), [input([2, 3], 105)]);
});

test('where (tensor/tensor, tensor/scalar, scalar/tensor) and maskedFill', () => {
  tidy(() => {
    const c = bool([1, 0, 0, 1, 1, 0], [2, 3]);
    gradcheck((a, b) => wsum(where(c, a, b)), [input([2, 3], 106), input([2, 3], 107)]);
    gradcheck((a) => wsum(where(c, a, 0.5)), [input([2, 3], 108)]);
    gradcheck((b) => wsum(where(c, 2, b)), [input([2, 3], 109)]);
    gradcheck((a) => wsum(a.maskedFill(c, 3)), [input([2, 3], 110)]);
  });
});

test('chunk and split', () => {
  gradcheck(
    (x) => {
      const [a, b] = x.chunk(2, 1);
      return wsum(a!.mul(b!));
    },
    [input([2, 4], 111)],
  );
  gradcheck(
    (x) => {
      const [a, b] = x.split(1, 0);
      return wsum(a!.sub(b!.exp()));
    },
    [input([2, 3], 112)],
  );
});

// ---- linear algebra ----

test('matmul (2-D, batched, vector) and mm', () => {
  gradcheck((a, b) => wsum(a.matmul(b)), [input([2, 3], 120), input([3, 4], 121)]);
  gradcheck((a, b) => wsum(a.matmul(b)), [input([2, 2, 3], 122), input([3, 2], 123)]);
  gradcheck((a, b) => wsum(a.matmul(b)), [input([3], 124), input([3, 2], 125)]);
  gradcheck((a, b) => wsum(a.mm(b)), [input([3, 2], 126), input([2, 3], 127)]);
});

// ---- nn functional ----

test('conv2d (bias, no bias)', () => {
  gradcheck((x, w, b) => wsum(F.conv2d(x, w, b)), [input([2, 2, 4, 4], 130), input([3, 2, 3, 3], 131), input([3], 132)]);
  gradcheck((x, w) => wsum(F.conv2d(x, w)), [input([1, 2, 4, 4], 133), input([2, 2, 2, 2], 134)]);
});

test('conv2d (stride, padding, dilation)', () => {
  gradcheck(
    (x, w, b) => wsum(F.conv2d(x, w, b, { stride: 2, padding: 1 })),
    [input([1, 2, 5, 5], 135), input([2, 2, 3, 3], 136), input([2], 137)],
  );
  gradcheck(
    (x, w) => wsum(F.conv2d(x, w, null, { stride: [1, 2], padding: [2, 0], dilation: 2 })),
    [input([1, 1, 5, 6], 138), input([2, 1, 2, 2], 139)],
  );
});

test('conv2d (groups, depthwise)', () => {
  gradcheck(
    (x, w, b) => wsum(F.conv2d(x, w, b, { groups: 2, padding: 1 })),
    [input([1, 4, 3, 3], 140), input([4, 2, 3, 3], 141), input([4], 142)],
  );
  gradcheck((x, w) => wsum(F.conv2d(x, w, null, { groups: 3 })), [input([2, 3, 3, 3], 143), input([3, 1, 2, 2], 144)]);
});

test('linear (bias, no bias, 3-D input)', () => {
  gradcheck((x, w, b) => wsum(F.linear(x, w, b)), [input([3, 4], 145), input([2, 4], 146), input([2], 147)]);
  gradcheck((x, w) => wsum(F.linear(x, w)), [input([2, 2, 3], 148), input([4, 3], 149)]);
});

test('batchNorm training (affine, no affine, 2-D and 4-D, with running stats)', () => {
  gradcheck(
    (x, w, b) => wsum(F.batchNorm(x, null, null, w, b, { training: true })),
    [input([4, 3], 150), input([3], 151, 0.5, 1.5), input([3], 152)],
  );
  gradcheck((x) => wsum(F.batchNorm(x, null, null, null, null, { training: true, eps: 1e-3 })), [input([2, 2, 2, 2], 153)]);
  // Running statistics are updated in place each call; the output must not depend on them in training mode.
  gradcheck(
    (x, w, b) => wsum(F.batchNorm(x, tensor([0.1, -0.2], [2], f64), tensor([1.5, 0.5], [2], f64), w, b, { training: true, momentum: 0.3 })),
    [input([3, 2, 2, 1], 154), input([2], 155, 0.5, 1.5), input([2], 156)],
  );
});

test('batchNorm eval (running statistics)', () => {
  tidy(() => {
    const mean = tensor([0.3, -0.1, 0.2], [3], f64);
    const variance = tensor([0.5, 2, 1.2], [3], f64);
    gradcheck(
      (x, w, b) => wsum(F.batchNorm(x, mean, variance, w, b, { training: false })),
      [input([2, 3, 2, 2], 157), input([3], 158), input([3], 159)],
    );
  });
});

test('maxPool2d (kernel = stride; kernel 3 stride 2 padding 1; rectangular)', () => {
  gradcheck((x) => wsum(F.maxPool2d(x, 2)), [input([1, 2, 4, 4], 160)]);
  gradcheck((x) => wsum(F.maxPool2d(x, 3, 2, 1)), [input([2, 1, 5, 5], 161)]);
  gradcheck((x) => wsum(F.maxPool2d(x, [2, 1], [1, 1])), [input([1, 1, 3, 3], 162)]);
});

test('avgPool2d (kernel = stride; with padding)', () => {
  gradcheck((x) => wsum(F.avgPool2d(x, 2)), [input([1, 2, 4, 4], 163)]);
  gradcheck((x) => wsum(F.avgPool2d(x, 3, 2, 1)), [input([1, 1, 5, 5], 164)]);
});

test('adaptiveAvgPool2d (divisible and non-divisible sizes)', () => {
  gradcheck((x) => wsum(F.adaptiveAvgPool2d(x, 1)), [input([2, 2, 3, 3], 165)]);
  gradcheck((x) => wsum(F.adaptiveAvgPool2d(x, [2, 3])), [input([1, 2, 5, 5], 166)]);
});

test('prelu (per-channel and shared slope) and leakyRelu', () => {
  gradcheck((x, w) => wsum(F.prelu(x, w)), [input([2, 3, 2, 2], 167, -1, 1, [0]), input([3], 168, 0.05, 0.5)]);
  gradcheck((x, w) => wsum(F.prelu(x, w)), [input([3, 4], 169, -1, 1, [0]), input([1], 170, 0.05, 0.5)]);
  gradcheck((x) => wsum(F.leakyRelu(x)), [input([2, 5], 171, -1, 1, [0])]);
  gradcheck((x) => wsum(F.leakyRelu(x, 0.2)), [input([2, 5], 172, -1, 1, [0])]);
});

test('softmax and logSoftmax (last dim and dim 0)', () => {
  gradcheck((x) => wsum(F.softmax(x)), [input([2, 4], 173, -2, 2)]);
  gradcheck((x) => wsum(F.softmax(x, 0)), [input([3, 2], 174, -2, 2)]);
  gradcheck((x) => wsum(F.logSoftmax(x)), [input([2, 4], 175, -2, 2)]);
  gradcheck((x) => wsum(F.logSoftmax(x, 0)), [input([3, 2], 176, -2, 2)]);
});

test('crossEntropy (plain, class weights, label smoothing, both; mean/sum/none)', () => {
  tidy(() => {
    const t = long([0, 2, 1, 2]);
    const w = tensor([0.5, 2, 1.25], [3], f64);
    gradcheck((x) => F.crossEntropy(x, t), [input([4, 3], 177, -2, 2)]);
    gradcheck((x) => F.crossEntropy(x, t, { weight: w }), [input([4, 3], 178, -2, 2)]);
    gradcheck((x) => F.crossEntropy(x, t, { labelSmoothing: 0.1 }), [input([4, 3], 179, -2, 2)]);
    gradcheck((x) => F.crossEntropy(x, t, { weight: w, labelSmoothing: 0.2 }), [input([4, 3], 180, -2, 2)]);
    gradcheck((x) => F.crossEntropy(x, t, { weight: w, labelSmoothing: 0.2, reduction: 'sum' }), [input([4, 3], 181, -2, 2)]);
    gradcheck((x) => wsum(F.crossEntropy(x, t, { weight: w, reduction: 'none' })), [input([4, 3], 182, -2, 2)]);
  });
});

test('mseLoss', () => {
  gradcheck((a, b) => F.mseLoss(a, b), [input([2, 3], 183), input([2, 3], 184)]);
});

test('l2Normalize and cosineSimilarityMatrix', () => {
  gradcheck((x) => wsum(F.l2Normalize(x)), [input([3, 4], 185)]);
  gradcheck((x) => wsum(F.l2Normalize(x, 0)), [input([3, 4], 186)]);
  gradcheck((a, b) => wsum(F.cosineSimilarityMatrix(a, b)), [input([2, 3], 187), input([4, 3], 188)]);
});

test('pad2d', () => {
  gradcheck((x) => wsum(F.pad2d(x, 1, 0, 2, 1)), [input([1, 1, 2, 3], 189)]);
});

test('dropout with p = 0 (training) and in eval mode is the identity, gradient included', () => {
  gradcheck((x) => wsum(F.dropout(x, 0, true)), [input([3, 4], 190)]);
  gradcheck((x) => wsum(F.dropout(x, 0.5, false)), [input([3, 4], 191)]);
  tidy(() => {
    const m = new nn.Dropout(0.7).eval();
    gradcheck((x) => wsum(m.forward(x)), [input([3, 4], 192)]);
  });
});

test('dropout in training mode: same seed, same mask; gradient is mask/(1-p)', () => {
  tidy(() => {
    const p = 0.3;
    const n = 400;
    const xs = input([n], 193, 0.5, 1.5).values;
    const ws = input([n], 194, 0.5, 1.5).values;
    const x = tensor(Float64Array.from(xs), [n], { dtype: 'float64', requiresGrad: true });
    const w = tensor(Float64Array.from(ws), [n], f64);
    manualSeed(2024);
    const y = F.dropout(x, p, true);
    y.mul(w).sum().backward();
    manualSeed(2024);
    const again = F.dropout(x, p, true).toArray();
    const yv = y.toArray();
    const g = x.grad!.toArray();
    assert.deepEqual(again, yv, 'the same seed must give the same mask');
    let dropped = 0;
    for (let i = 0; i < n; i++) {
      const kept = yv[i] !== 0;
      if (!kept) dropped++;
      const mask = kept ? 1 / (1 - p) : 0;
      assert.ok(Math.abs(yv[i]! - xs[i]! * mask) < 1e-12, `y[${i}] = ${yv[i]} is not x·mask/(1-p)`);
      assert.ok(Math.abs(g[i]! - ws[i]! * mask) < 1e-12, `grad[${i}] = ${g[i]} is not w·mask/(1-p)`);
    }
    // 400 Bernoulli(0.3) draws: mean 120, sd ≈ 9.2; the window is ±5 sd.
    assert.ok(dropped > 74 && dropped < 166, `dropped ${dropped} of ${n} with p = ${p}`);
    manualSeed(2025);
    assert.notDeepEqual(F.dropout(x, p, true).toArray(), yv, 'a different seed should give a different mask');
  });
});

test('angularMarginLogits (arcface, both branches; cosface; no labels)', () => {
  tidy(() => {
    const labels = long([1, 0, 3]);
    // Row 0 points away from its class centre (θ + m > π: the fallback branch); the others are generic.
    const c = input([4, 3], 200);
    const e = input([3, 3], 201);
    const ev = Array.from(e.values);
    for (let k = 0; k < 3; k++) ev[k] = -c.values[3 + k]! + 0.1 * ev[k]!;
    const emb = { values: ev, shape: [3, 3] };
    const arc = { kind: 'arcface' as const, scale: 4, margin: 0.5 };
    gradcheck((x, w) => wsum(F.angularMarginLogits(x, w, labels, arc)), [emb, c]);
    gradcheck((x, w) => wsum(F.angularMarginLogits(x, w, labels, { kind: 'cosface', scale: 4, margin: 0.35 })), [emb, c]);
    gradcheck((x, w) => wsum(F.angularMarginLogits(x, w, undefined, arc)), [emb, c]);
  });
});

// ---- modules (float32 parameters swapped for float64 inputs) ----

interface Registrar {
  registerParameter(name: string, t: Tensor): Tensor;
  registerBuffer(name: string, t: Tensor): Tensor;
}
const registrar = (m: nn.Module): Registrar => m as unknown as Registrar;
const modulesOf = (m: nn.Module): nn.Module[] => [m, ...m.namedChildren().flatMap(([, c]) => modulesOf(c))];

/**
 * Checks a module's forward w.r.t. its input and every parameter in float64: the module's parameters are
 * replaced (through its own registerParameter) by the checker's float64 leaves at every evaluation.
 */
function gradcheckModule(
  m: nn.Module,
  x: GradInput,
  loss: (m: nn.Module, x: Tensor) => Tensor,
  bufferValues?: (name: string, n: number) => number[],
): number {
  const slots = modulesOf(m).flatMap((owner) =>
    owner
      .namedParameters()
      .filter(([n]) => !n.includes('.'))
      .map(([name, t]) => ({ owner, name, init: { values: t.toArray(), shape: t.shape } })),
  );
  for (const owner of modulesOf(m)) {
    for (const [name, t] of owner.namedBuffers().filter(([n]) => !n.includes('.'))) {
      const values = bufferValues?.(name, t.numel) ?? t.toArray();
      registrar(owner).registerBuffer(name, tensor(Float64Array.from(values), t.shape, f64));
    }
  }
  const r = gradcheck(
    (xt, ...ps) => {
      slots.forEach((s, k) => registrar(s.owner).registerParameter(s.name, ps[k]!));
      return loss(m, xt);
    },
    [x, ...slots.map((s) => s.init)],
  );
  m.dispose();
  return r.checked;
}

test('nn.ResidualBlock (identity shortcut, training mode)', () => {
  manualSeed(1);
  const checked = gradcheckModule(new nn.ResidualBlock(2, 2), input([2, 2, 3, 3], 210), (m, x) => wsum(m.forward(x)));
  assert.equal(checked, 36 + 2 * 36 + 4 * 2, 'input, two 3x3 convs and two BatchNorms');
});

test('nn.ResidualBlock (projection shortcut, stride 2, training mode)', () => {
  manualSeed(2);
  const checked = gradcheckModule(new nn.ResidualBlock(2, 3, 2), input([2, 2, 4, 4], 211), (m, x) => wsum(m.forward(x)));
  assert.equal(checked, 64 + 54 + 81 + 6 + 6 + 6 + 6);
});

test('nn.ResidualBlock (eval mode, running statistics)', () => {
  manualSeed(3);
  const r = rng(99);
  const block = new nn.ResidualBlock(2, 2).eval();
  gradcheckModule(
    block,
    input([1, 2, 3, 3], 212),
    (m, x) => wsum(m.forward(x)),
    (name, n) => Array.from({ length: n }, () => (name === 'runningVar' ? 0.5 + r() : r() - 0.5)),
  );
});

test('nn.MarginSoftmax loss (arcface and cosface)', () => {
  const labels = long([2, 0, 1, 2]);
  for (const kind of ['arcface', 'cosface'] as const) {
    manualSeed(4);
    gradcheckModule(new nn.MarginSoftmax(3, 3, { kind, scale: 5 }), input([4, 3], 213), (m, x) => (m as nn.MarginSoftmax).loss(x, labels));
  }
  labels.dispose();
});

test('nn.Sequential of Conv2d, BatchNorm2d, PReLU, AvgPool2d, Flatten, Linear', () => {
  manualSeed(5);
  const net = new nn.Sequential(
    new nn.Conv2d(1, 2, 3, { padding: 1, bias: false }),
    new nn.BatchNorm2d(2),
    new nn.PReLU(2),
    new nn.AvgPool2d(2),
    new nn.Flatten(),
    new nn.Linear(8, 2),
  );
  gradcheckModule(net, input([2, 1, 4, 4], 214), (m, x) => wsum(m.forward(x)));
});
