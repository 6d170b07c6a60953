// Native memory does not leak: live-tensor counts return to their baselines, and RSS stays flat in a long loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, nn, optim, randn, randint, tidy, liveTensors, liveTensorBytes, manualSeed } from '../../src/engine/index.ts';

function smallCnn(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }),
    new nn.BatchNorm2d(4),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(4, 4, 3, { padding: 1, bias: false }),
    new nn.PReLU(4),
    new nn.AdaptiveAvgPool2d(2),
    new nn.Flatten(),
    new nn.Dropout(0.1),
    new nn.Linear(16, 3),
  );
}

for (const kind of ['sgd', 'adam'] as const) {
  test(`liveTensors returns to its baselines around a 200-step training loop (${kind})`, () => {
    manualSeed(11);
    const beforeModel = liveTensors();
    const model = smallCnn();
    const opt: optim.Optimizer =
      kind === 'sgd'
        ? new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 })
        : new optim.AdamW(model.parameters(), { lr: 1e-3, weightDecay: 1e-2 });
    const afterCreation = liveTensors();
    assert.equal(
      afterCreation - beforeModel,
      model.parameters().length + model.namedBuffers().length,
      'the model holds exactly its parameters and buffers',
    );

    const step = (): number => {
      const loss = tidy(() => {
        const x = randn([8, 1, 8, 8]);
        const y = randint(0, 3, [8]);
        const l = F.crossEntropy(model.forward(x), y, { labelSmoothing: 0.1 });
        l.backward();
        return l.item();
      });
      opt.step();
      opt.zeroGrad();
      return loss;
    };

    step();
    const afterStep1 = liveTensors();
    const bytesAfterStep1 = liveTensorBytes();
    // Optimizer state appears on the first step (a momentum buffer, or Adam's two moments, per parameter).
    const perParam = kind === 'sgd' ? 1 : 2;
    assert.equal(afterStep1 - afterCreation, perParam * model.parameters().length, 'only optimizer state is added by step 1');
    for (let i = 1; i < 200; i++) {
      step();
      if (i % 50 === 0) assert.equal(liveTensors(), afterStep1, `live tensors drifted by step ${i + 1}`);
    }
    assert.equal(liveTensors(), afterStep1, 'live tensors after 200 steps');
    assert.equal(liveTensorBytes(), bytesAfterStep1, 'live bytes after 200 steps');

    // Evaluation (noGrad-free forward in eval mode) leaks nothing either.
    model.eval();
    tidy(() =>
      model
        .forward(randn([4, 1, 8, 8]))
        .argmax(1)
        .toArray(),
    );
    assert.equal(liveTensors(), afterStep1);

    opt.dispose();
    model.dispose();
    assert.equal(liveTensors(), beforeModel, 'disposing the model and optimizer returns to the pre-model baseline');
  });
}

test('RSS stays flat over a loop of ~1 MB tensors (steps 50 → 300)', () => {
  manualSeed(12);
  const w = randn([256, 1024], { requiresGrad: true }); // 1 MiB of float32
  const opt = new optim.SGD([w], { lr: 1e-4 });
  const base = liveTensors();
  let rssAt50 = 0;
  for (let i = 1; i <= 300; i++) {
    tidy(() => {
      const x = randn([256, 1024]); // another 1 MiB per step, plus a few MiB of intermediates and the gradient
      const y = x.mul(w).tanh().mul(x).sum(1).matmul(x).sum();
      y.backward();
    });
    opt.step();
    opt.zeroGrad();
    if (i === 50) rssAt50 = process.memoryUsage().rss;
  }
  const growth = process.memoryUsage().rss - rssAt50;
  // A leak of even one 1 MiB tensor per step would add ~250 MB here.
  assert.ok(growth < 30 * 1024 * 1024, `RSS grew by ${(growth / 1048576).toFixed(1)} MB between step 50 and step 300`);
  assert.equal(liveTensors(), base, 'no tensor survives a step');
  opt.dispose();
  w.dispose();
});
