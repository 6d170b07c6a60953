// 'mobilenet-v1': MobileNet v1 (Howard et al. 2017) as Human's `faceres` face network ships it: a 3×3/2 stem,
// 13 blocks of depthwise 3×3 + pointwise 1×1 convs, each followed by (folded) BN and ReLU6, then a global mean.
// The last pointwise conv writes the embedding itself (1024 channels, fixed like every family's bottleneck), so
// an identity task's descriptor is faceres's own `global_pooling/Mean` output, and expansions widen only the
// inner stages. Padding is TensorFlow's 'same' for inputs divisible by 32 (stride-2 convs pad bottom/right).
import type { Architecture } from './architecture.ts';
import { convLayer, type LayerSpec, type Pads } from './layer-spec.ts';

/** Each block: the stage its depthwise conv runs on, the stage its pointwise conv writes, the depthwise stride. */
const BLOCKS: readonly { from: number; to: number | 'embed'; stride: 1 | 2 }[] = [
  { from: 0, to: 1, stride: 1 },
  { from: 1, to: 2, stride: 2 },
  { from: 2, to: 2, stride: 1 },
  { from: 2, to: 3, stride: 2 },
  { from: 3, to: 3, stride: 1 },
  { from: 3, to: 4, stride: 2 },
  { from: 4, to: 4, stride: 1 },
  { from: 4, to: 4, stride: 1 },
  { from: 4, to: 4, stride: 1 },
  { from: 4, to: 4, stride: 1 },
  { from: 4, to: 4, stride: 1 },
  { from: 4, to: 5, stride: 2 },
  { from: 5, to: 'embed', stride: 1 },
];

/** TF 'same' for a 3×3 conv: 1 on every side at stride 1; bottom/right only at stride 2 on an even size. */
const samePads = (stride: number): Pads =>
  stride === 1 ? { top: 1, bottom: 1, left: 1, right: 1 } : { top: 0, bottom: 1, left: 0, right: 1 };

/** ReLU6, which the tfjs graph writes as min(relu(x), 6) (also the form whose bf16 backward libtorch 1.13 has). */
const relu6 = <V>(ops: { relu(x: V): V; clamp(x: V, lo: number, hi: number): V }, x: V): V => ops.clamp(ops.relu(x), 0, 6);

export const mobilenetV1: Architecture = {
  presets: {
    /**
     * Human's faceres (MIT): MobileNet v1 ×1.0, 1024-d descriptor. Trained at 224 px; 128 px keeps TF's padding
     * (a multiple of 32) and costs a third of the compute. `paenet import --from human-faceres` fills it.
     */
    faceres: { stages: [32, 64, 128, 256, 512, 1024], blocks: 0, embedDim: 1024, inputSize: 128, dropout: 0 },
  },
  layers(c) {
    if (c.stages.length !== 6) throw new Error(`paenet: mobilenet-v1 needs 6 stages, got ${c.stages.length}`);
    const out: LayerSpec[] = [convLayer('conv1', 'rgb', 0, 3, 2, { padding: samePads(2) })];
    BLOCKS.forEach((b, i) => {
      out.push(convLayer(`dw${i + 1}`, b.from, b.from, 3, b.stride, { depthwise: true, padding: samePads(b.stride) }));
      const pw = convLayer(`pw${i + 1}`, b.from, 0, 1, 1, { padding: 0 });
      out.push({ ...pw, output: b.to });
    });
    return out;
  },
  embed(ops, x) {
    let h = relu6(ops, ops.layer('conv1', x));
    BLOCKS.forEach((_, i) => {
      h = relu6(ops, ops.layer(`dw${i + 1}`, h));
      h = relu6(ops, ops.layer(`pw${i + 1}`, h));
    });
    return ops.globalMeanPool(h);
  },
};
