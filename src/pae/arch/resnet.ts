// 'resnet': a ResNet-10/18-style net for small faces: 3×3 stem, basic blocks, stride-2 first block of each later
// stage with a 1×1 projection shortcut.
import { poolToEmbedding, type Architecture } from './architecture.ts';
import { convLayer, embeddingLayer, type LayerSpec } from './layer-spec.ts';

export const resnet: Architecture = {
  presets: {
    /** ResNet-10-style for 64x64 faces (~1.2M weights at width 1). */
    resnet10: { stages: [32, 64, 128, 256], blocks: 1, embedDim: 128, inputSize: 64, dropout: 0.2 },
    /** ResNet-18-style for 64x64 faces. */
    resnet18: { stages: [32, 64, 128, 256], blocks: 2, embedDim: 128, inputSize: 64, dropout: 0.2 },
    /** A small ResNet for fast experiments on 2 cores. */
    'resnet-small': { stages: [16, 32, 64, 128], blocks: 1, embedDim: 64, inputSize: 64, dropout: 0.1 },
  },
  layers(c) {
    const out: LayerSpec[] = [convLayer('stem', 'rgb', 0, 3, 1)];
    c.stages.forEach((_, s) => {
      for (let b = 0; b < c.blocks; b++) {
        const down = b === 0 && s > 0;
        const input = down ? s - 1 : s;
        const stride = down ? 2 : 1;
        out.push(convLayer(`s${s}b${b}.conv1`, input, s, 3, stride), convLayer(`s${s}b${b}.conv2`, s, s, 3, 1));
        if (down) out.push(convLayer(`s${s}b${b}.short`, input, s, 1, stride));
      }
    });
    return [...out, embeddingLayer(c.stages.length - 1)];
  },
  embed(ops, x, c) {
    let h = ops.relu(ops.layer('stem', x));
    c.stages.forEach((_, s) => {
      for (let b = 0; b < c.blocks; b++) {
        const p = `s${s}b${b}`;
        const main = ops.layer(`${p}.conv2`, ops.relu(ops.layer(`${p}.conv1`, h)));
        // Only the first block of a later stage changes width and stride: it has the projection shortcut.
        const short = b === 0 && s > 0 ? ops.layer(`${p}.short`, h) : h;
        h = ops.relu(ops.add(main, short));
      }
    });
    return poolToEmbedding(ops, h, c);
  },
};
