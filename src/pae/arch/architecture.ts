// What a backbone family defines, once: its presets, its packable layers and its forward to the embedding.
import type { LayerSpec } from './layer-spec.ts';
import type { TrunkOps } from './ops.ts';

/** The size of a backbone (everything in a BackboneConfig but the family's name). */
export interface BackboneShape {
  /** Base channel counts per stage before width multipliers. */
  stages: number[];
  /** Residual blocks per stage ('resnet'); ignored by the other families. */
  blocks: number;
  /** Multiplies every stage width. @default 1 */
  widthMult: number;
  /** Embedding (bottleneck) size; not widened by expansion, like the paper's 512-d bottleneck. */
  embedDim: number;
  /** Square input side in pixels. */
  inputSize: number;
  /** Model-size ratios of every expansion so far (the paper's "1.0,1.2" history without the leading 1). */
  expansions: number[];
  /** Dropout before the embedding layer. @default 0 */
  dropout: number;
}

/** A named starting size (`paenet init --arch NAME`); width and expansions are chosen later. */
export type ArchPreset = Omit<BackboneShape, 'widthMult' | 'expansions'>;

/** One backbone family. Adding a family = one file exporting this + one line in arch/index.ts. */
export interface Architecture {
  /** Presets by name (names are global across families). */
  presets: Record<string, ArchPreset>;
  /** The packable layers, in forward order; every layer `embed` uses, and no other. */
  layers(shape: BackboneShape): LayerSpec[];
  /** The embedding [N, embedDim] from the normalised (and task-transformed) input [N, 3, S, S]. */
  embed<V>(ops: TrunkOps<V>, x: V, shape: BackboneShape): V;
}

/** The usual end of a backbone: global mean pool, dropout, the 'embed' bottleneck layer. */
export function poolToEmbedding<V>(ops: TrunkOps<V>, features: V, shape: BackboneShape): V {
  const pooled = ops.globalMeanPool(features);
  return ops.layer('embed', shape.dropout > 0 ? ops.dropout(pooled, shape.dropout) : pooled);
}
