// End-to-end learning: a tiny CNN separates synthetic images, and a linear model separates 2-D points.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, nn, optim, tensor, randn, tidy, noGrad, liveTensors, manualSeed, type Tensor } from '../../src/engine/index.ts';
import { rng } from './gradcheck.ts';

/** n noisy 16x16 images: class 0 has a bright left half, class 1 a bright right half. */
function halves(n: number, seed: number): { x: Tensor; y: Tensor; labels: number[] } {
  const r = rng(seed);
  const labels = Array.from({ length: n }, () => (r() < 0.5 ? 0 : 1));
  const bright = new Float32Array(n * 256);
  labels.forEach((c, i) => {
    for (let row = 0; row < 16; row++) for (let col = 0; col < 8; col++) bright[i * 256 + row * 16 + col + (c === 1 ? 8 : 0)] = 1;
  });
  return tidy(() => ({
    x: tensor(bright, [n, 1, 16, 16]).add(randn([n, 1, 16, 16]).mul(0.6)),
    y: tensor(labels, [n], { dtype: 'int64' }),
    labels,
  }));
}

function accuracy(model: nn.Module, x: Tensor, labels: number[]): number {
  const predicted = tidy(() => noGrad(() => model.forward(x).argmax(1).toArray()));
  return predicted.filter((p, i) => p === labels[i]).length / labels.length;
}

test('a tiny CNN (conv-bn-relu-pool-linear) learns bright-left vs bright-right 16x16 images', () => {
  const base = liveTensors();
  manualSeed(7);
  const train = halves(256, 1);
  const held = halves(200, 2);
  const model = new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }),
    new nn.BatchNorm2d(4),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(4 * 8 * 8, 2),
  );
  const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const before = accuracy(model.eval(), held.x, held.labels);
  model.train();
  const losses: number[] = [];
  for (let epoch = 0; epoch < 5; epoch++) {
    for (let b = 0; b < 256; b += 32) {
      losses.push(
        tidy(() => {
          const loss = F.crossEntropy(model.forward(train.x.narrow(0, b, 32)), train.y.narrow(0, b, 32));
          loss.backward();
          return loss.item();
        }),
      );
      opt.step();
      opt.zeroGrad();
    }
  }
  const after = accuracy(model.eval(), held.x, held.labels);
  assert.ok(after >= 0.95, `held-out accuracy ${after} (before training ${before})`);
  const first = losses.slice(0, 4).reduce((a, b) => a + b) / 4;
  const last = losses.slice(-4).reduce((a, b) => a + b) / 4;
  assert.ok(last < first / 2, `training loss went from ${first} to ${last}`);
  opt.dispose();
  model.dispose();
  for (const t of [train.x, train.y, held.x, held.y]) t.dispose();
  assert.equal(liveTensors(), base);
});

test('a Linear model trained with SGD separates linearly separable 2-D points', () => {
  const base = liveTensors();
  manualSeed(8);
  // Label = [x + 2y > 0.3], with points inside a 0.1 band around the boundary left out.
  const points = (n: number, seed: number): { xy: number[]; labels: number[] } => {
    const r = rng(seed);
    const xy: number[] = [];
    const labels: number[] = [];
    while (labels.length < n) {
      const x = 2 * r() - 1,
        y = 2 * r() - 1;
      const m = x + 2 * y - 0.3;
      if (Math.abs(m) < 0.1) continue;
      xy.push(x, y);
      labels.push(m > 0 ? 1 : 0);
    }
    return { xy, labels };
  };
  const tr = points(200, 3);
  const te = points(200, 4);
  const model = new nn.Linear(2, 2);
  const opt = new optim.SGD(model.parameters(), { lr: 0.5 });
  const x = tensor(tr.xy, [200, 2]);
  const y = tensor(tr.labels, [200], { dtype: 'int64' });
  const xt = tensor(te.xy, [200, 2]);
  for (let i = 0; i < 300; i++) {
    tidy(() => F.crossEntropy(model.forward(x), y).backward());
    opt.step();
    opt.zeroGrad();
  }
  const acc = accuracy(model, xt, te.labels);
  assert.ok(acc >= 0.97, `held-out accuracy ${acc}`);
  // The learned boundary (difference of the two rows) points along (1, 2).
  const [w0, w1] = tidy(() => {
    const w = model.param('weight');
    return w.select(0, 1).sub(w.select(0, 0)).toArray();
  });
  const cosToTrue = (w0! + 2 * w1!) / (Math.hypot(w0!, w1!) * Math.sqrt(5));
  assert.ok(cosToTrue > 0.95, `boundary normal (${w0}, ${w1}) is not aligned with (1, 2): cos ${cosToTrue}`);
  opt.dispose();
  model.dispose();
  for (const t of [x, y, xt]) t.dispose();
  assert.equal(liveTensors(), base);
});
