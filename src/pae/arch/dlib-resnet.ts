// 'dlib-resnet': dlib's face-recognition ResNet as face-api.js computes it (`paenet import` fills it with the
// pretrained weights): 7×7/2 'valid' stem, 3×3/2 max pool, residual blocks, and down blocks whose shortcut is a
// 2×2/2 average pool zero-padded to the new channel count (with the main path zero-padded at the bottom/right when
// its unpadded stride-2 conv comes out one pixel smaller).
import { poolToEmbedding, type Architecture, type BackboneShape } from './architecture.ts';
import { convLayer, embeddingLayer, type LayerSpec } from './layer-spec.ts';
import type { TrunkOps } from './ops.ts';

/** Residual blocks per stage (after each stage's down block; the last stage ends with one more down block). */
const BLOCKS = [3, 3, 2, 2] as const;
const blocksOf = (stage: number): number => BLOCKS[stage] ?? 2;

/** A block: conv1 (input → stage) and conv2 (stage → stage); a down block halves the size with a pooled shortcut. */
interface Block {
  name: string;
  input: number;
  stage: number;
  down: boolean;
}

/** The blocks in forward order: a down block opens every stage but the first, and one more closes the last. */
function blocks(c: BackboneShape): Block[] {
  const out: Block[] = [];
  const last = c.stages.length - 1;
  c.stages.forEach((_, s) => {
    if (s > 0) out.push({ name: `s${s}.down`, input: s - 1, stage: s, down: true });
    for (let b = 0; b < blocksOf(s); b++) out.push({ name: `s${s}b${b}`, input: s, stage: s, down: false });
    if (s === last) out.push({ name: `s${s}.out`, input: s, stage: s, down: true });
  });
  return out;
}

function downBlock<V>(ops: TrunkOps<V>, p: string, h: V): V {
  let main = ops.layer(`${p}.conv2`, ops.relu(ops.layer(`${p}.conv1`, h)));
  let pooled = ops.avgPool(h, 2, 2);
  const [c, ph, pw] = ops.shape(pooled) as [number, number, number];
  const [mc, mh, mw] = ops.shape(main) as [number, number, number];
  if (mh !== ph || mw !== pw) main = ops.pad(main, { top: 0, bottom: ph - mh, left: 0, right: pw - mw });
  if (mc > c) pooled = ops.padChannels(pooled, mc - c);
  return ops.relu(ops.add(main, pooled));
}

export const dlibResnet: Architecture = {
  presets: {
    /**
     * dlib's face-recognition ResNet (as shipped by face-api.js): 7×7/2 stem, 3×3 max-pool, 29 convs with
     * avg-pool shortcuts, 128-d descriptor at 150×150. `paenet import` fills it with the pretrained weights.
     */
    'dlib-resnet': { stages: [32, 64, 128, 256], blocks: 0, embedDim: 128, inputSize: 150, dropout: 0 },
  },
  layers(c) {
    const out: LayerSpec[] = [convLayer('stem', 'rgb', 0, 7, 2, { padding: 0 })];
    for (const b of blocks(c)) {
      // 'valid' (unpadded) stride-2 convs open each down block; 3×3 'same' convs elsewhere.
      const conv1 = convLayer(`${b.name}.conv1`, b.input, b.stage, 3, b.down ? 2 : 1, b.down ? { padding: 0 } : {});
      out.push(conv1, convLayer(`${b.name}.conv2`, b.stage, b.stage, 3, 1));
    }
    return [...out, embeddingLayer(c.stages.length - 1)];
  },
  embed(ops, x, c) {
    let h = ops.maxPool(ops.relu(ops.layer('stem', x)), 3, 2);
    for (const b of blocks(c)) {
      if (b.down) h = downBlock(ops, b.name, h);
      else h = ops.relu(ops.add(ops.layer(`${b.name}.conv2`, ops.relu(ops.layer(`${b.name}.conv1`, h))), h));
    }
    return poolToEmbedding(ops, h, c);
  },
};
