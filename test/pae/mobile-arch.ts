// A MobileNet-style family written only for the tests (not registered): the shape of Human's faceres — depthwise
// 3×3 convs, pointwise 1×1 convs, ReLU6, a residual add, stride-2 convs with explicit uneven padding — so the
// tests check that the packable layers, the ops interface and both forwards carry such a net.
import { convLayer, embeddingLayer, poolToEmbedding, type Architecture } from '../../src/pae/arch/index.ts';
import type { BackboneConfig } from '../../src/pae/config.ts';

/** ReLU6 as the tfjs graph writes it (min/max): a clamp. */
const relu6 = <V>(ops: { clamp(x: V, lo: number, hi: number): V }, x: V): V => ops.clamp(x, 0, 6);

export const mobileArch: Architecture = {
  presets: {},
  layers: (c) => [
    // Uneven on purpose (top ≠ left): a swapped side in either forward changes the output.
    convLayer('stem', 'rgb', 0, 3, 2, { padding: { top: 0, bottom: 1, left: 1, right: 0 } }),
    convLayer('b0.dw', 0, 0, 3, 1, { depthwise: true }),
    convLayer('b0.pw', 0, 0, 1, 1),
    // TF 'same' at stride 2 on an even size pads bottom/right only.
    convLayer('b1.dw', 0, 0, 3, 2, { depthwise: true, padding: { top: 0, bottom: 1, left: 0, right: 1 } }),
    convLayer('b1.pw', 0, 1, 1, 1),
    embeddingLayer(c.stages.length - 1),
  ],
  embed(ops, x, c) {
    let h = relu6(ops, ops.layer('stem', x));
    h = ops.add(h, ops.layer('b0.pw', relu6(ops, ops.layer('b0.dw', h))));
    h = relu6(ops, ops.layer('b1.pw', relu6(ops, ops.layer('b1.dw', h))));
    return poolToEmbedding(ops, h, c);
  },
};

/** A 16-px config for it (the family field names a registered family; the net is created with `mobileArch`). */
export function mobileConfig(): BackboneConfig {
  return { arch: 'tiny', stages: [8, 12], blocks: 0, widthMult: 1, embedDim: 16, inputSize: 16, expansions: [], dropout: 0 };
}
