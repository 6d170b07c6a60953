// 'tiny': a plain conv stack (3×3 conv, ReLU, 2×2 max pool per stage), a few thousand weights, for tests and smoke runs.
import { poolToEmbedding, type Architecture } from './architecture.ts';
import { convLayer, embeddingLayer } from './layer-spec.ts';

export const tiny: Architecture = {
  presets: {
    /** A few thousand weights: for tests and smoke runs. */
    tiny: { stages: [8, 16, 32], blocks: 0, embedDim: 32, inputSize: 32, dropout: 0 },
  },
  layers: (c) => [...c.stages.map((_, s) => convLayer(`conv${s}`, s === 0 ? 'rgb' : s - 1, s, 3, 1)), embeddingLayer(c.stages.length - 1)],
  embed(ops, x, c) {
    let h = x;
    c.stages.forEach((_, s) => (h = ops.maxPool(ops.relu(ops.layer(`conv${s}`, h)), 2, 2)));
    return poolToEmbedding(ops, h, c);
  },
};
