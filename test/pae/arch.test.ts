// Backbone families (src/pae/arch): each one's forward uses exactly its layer list with matching channel counts;
// the registry drives presets and config validation; a depthwise family packs, expands and prunes like the others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed, noGrad, randn, tidy } from '../../src/engine/index.ts';
import { ARCHITECTURES, padsOf, type Architecture, type BackboneShape, type LayerSpec, type TrunkOps } from '../../src/pae/arch/index.ts';
import { ARCH_PRESETS, configFromPreset, layerSpecs, stageWidth, validateConfig, type BackboneConfig } from '../../src/pae/config.ts';
import { expand } from '../../src/pae/expander.ts';
import { PackableNet } from '../../src/pae/network.ts';
import { countOwned, openFree, releaseToRatio } from '../../src/pae/ownership.ts';
import { assertSameBytes, outputBytes } from './helpers.ts';
import { mobileArch, mobileConfig } from './mobile-arch.ts';

/** Shape inference: runs a family's forward on shapes alone, checking every layer's input channels and counting uses. */
function traceShapes(arch: Architecture, config: BackboneConfig): { uses: Map<string, number>; out: number[] } {
  const specs = new Map(arch.layers(config).map((s) => [s.name, s]));
  const level = config.expansions.length;
  const channels = (g: LayerSpec['input'] | LayerSpec['output']): number =>
    g === 'rgb' ? 3 : g === 'embed' ? config.embedDim : stageWidth(config, g, level);
  const size = (n: number, k: number, s: number, pad: number): number => Math.floor((n + pad - k) / s) + 1;
  const uses = new Map<string, number>();
  const ops: TrunkOps<number[]> = {
    layer(name, x) {
      const s = specs.get(name);
      assert.ok(s, `the forward uses '${name}', which the layer list lacks`);
      uses.set(name, (uses.get(name) ?? 0) + 1);
      assert.equal(x[0], channels(s.input), `${name}: input channels`);
      if (s.kind === 'linear') return (assert.equal(x.length, 1, `${name}: a linear layer takes flat values`), [channels(s.output)]);
      const p = padsOf(s);
      return [channels(s.output), size(x[1]!, s.kernel, s.stride, p.top + p.bottom), size(x[2]!, s.kernel, s.stride, p.left + p.right)];
    },
    relu: (x) => x,
    clamp: (x) => x,
    add(a, b) {
      assert.deepEqual(a, b, 'a residual add of equal shapes');
      return a;
    },
    maxPool: (x, k, s) => [x[0]!, size(x[1]!, k, s, 0), size(x[2]!, k, s, 0)],
    avgPool: (x, k, s) => [x[0]!, size(x[1]!, k, s, 0), size(x[2]!, k, s, 0)],
    pad: (x, p) => [x[0]!, x[1]! + p.top + p.bottom, x[2]! + p.left + p.right],
    padChannels: (x, extra) => [x[0]! + extra, x[1]!, x[2]!],
    globalMeanPool: (x) => [x[0]!],
    dropout: (x) => x,
    shape: (x) => x,
  };
  const out = arch.embed(ops, [3, config.inputSize, config.inputSize], config as BackboneShape);
  return { uses, out };
}

test("every preset's forward uses each of its layers exactly once, with matching channels, also after an expansion", () => {
  assert.deepEqual(Object.keys(ARCH_PRESETS), ['tiny', 'resnet10', 'resnet18', 'resnet-small', 'dlib-resnet', 'faceres']);
  for (const name of Object.keys(ARCH_PRESETS)) {
    const config = configFromPreset(name, 0.5);
    for (const expansions of [[], [1.2]]) {
      const c = { ...config, expansions };
      const { uses, out } = traceShapes(ARCHITECTURES[c.arch], c);
      assert.deepEqual(
        [...uses.keys()].sort(),
        layerSpecs(c)
          .map((s) => s.name)
          .sort(),
        `${name}: layers used`,
      );
      assert.ok(
        [...uses.values()].every((n) => n === 1),
        `${name}: each layer once`,
      );
      assert.deepEqual(out, [c.embedDim], `${name}: embedding size`);
    }
  }
  assert.deepEqual(traceShapes(mobileArch, mobileConfig()).out, [16]);
});

test('the config reader accepts every registered family and rejects an unknown one in one line', () => {
  const ok = configFromPreset('resnet10');
  for (const name of Object.keys(ARCH_PRESETS)) assert.deepEqual(validateConfig(configFromPreset(name), 'm.pae'), configFromPreset(name));
  assert.throws(
    () => validateConfig({ ...ok, arch: 'mobilenet' }, 'm.pae'),
    (e: Error) => e.message === 'm.pae: invalid backbone config (unknown arch mobilenet)',
  );
  assert.throws(() => configFromPreset('mobilenet'), /unknown --arch 'mobilenet'/);
});

test('a depthwise layer holds one k×k filter per channel, and an expansion widens its channels and groups together', () => {
  manualSeed(3);
  const net = PackableNet.create(mobileConfig(), mobileArch);
  const x = randn([3, 3, 16, 16]);
  try {
    assert.deepEqual(net.layer('b0.dw').weight.shape, [8, 1, 3, 3]);
    assert.deepEqual(net.layer('b1.pw').weight.shape, [12, 8, 1, 1]);
    net.addTaskSlot(1, 'cumulative', { kind: 'linear', classes: 3 });
    openFree(net, 1);
    for (const l of net.layers) releaseToRatio(l, 1, 0.5);
    assert.equal(countOwned(net.layer('b0.dw'), 1), 36, 'half of the 72 depthwise weights kept');
    const before = outputBytes(net, 1, x);

    expand(net, 1.5); // stages 8, 12 → floor(8·√1.5) = 9, floor(12·√1.5) = 14
    assert.deepEqual(net.layer('b0.dw').weight.shape, [9, 1, 3, 3]);
    assert.deepEqual(net.layer('b1.pw').weight.shape, [14, 9, 1, 1]);
    assertSameBytes(outputBytes(net, 1, x), before, 'task 1 outputs after expand()');

    // Task 2 computes at the new width: 9 depthwise groups over 9 channels.
    net.addTaskSlot(2, 'cumulative', { kind: 'linear', classes: 2 });
    openFree(net, 2);
    const y = noGrad(() => tidy(() => net.embed(x, 2).shape));
    assert.deepEqual(y, [3, 16]);
  } finally {
    x.dispose();
    net.dispose();
  }
});
