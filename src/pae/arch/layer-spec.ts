// What one packable (owner-tagged) layer of a backbone is: its channel groups, kernel, stride, padding, grouping.

/** Zero padding of a feature map's height (top, bottom) and width (left, right), in pixels. */
export interface Pads {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** A layer's input or output channels: a stage's width (index), the 3 RGB channels, or the fixed embedding size. */
export type ChannelGroup = number | 'rgb' | 'embed';

/** One packable (owner-tagged) layer of a backbone. */
export interface LayerSpec {
  name: string;
  kind: 'conv' | 'linear';
  /** Channel group feeding the layer: a stage index, or 'rgb' (3 input channels). */
  input: number | 'rgb';
  /** Channel group produced: a stage index, or 'embed' (fixed embedDim). */
  output: number | 'embed';
  kernel: number;
  stride: number;
  /** Same on every side, or explicit per side (TF's 'same' padding of a stride-2 conv pads bottom/right only). */
  padding: number | Pads;
  /**
   * Depthwise conv: one k×k filter per channel (groups = channels), weight [C, 1, k, k]. Its input and output are
   * the same channel group, so an expansion widens both together and the group count follows the width.
   */
  depthwise?: boolean;
}

/** The padding of a layer per side. */
export function padsOf(spec: Pick<LayerSpec, 'padding'>): Pads {
  const p = spec.padding;
  return typeof p === 'number' ? { top: p, bottom: p, left: p, right: p } : p;
}

/** Extra options of a conv layer. */
export interface ConvOptions {
  /** @default kernel 3 → 1 ('same' at stride 1), else 0 */
  padding?: number | Pads;
  /** @default false */
  depthwise?: boolean;
}

/** A conv layer spec; a depthwise conv must map a channel group onto itself. */
export function convLayer(
  name: string,
  input: number | 'rgb',
  output: number,
  kernel: number,
  stride: number,
  o: ConvOptions = {},
): LayerSpec {
  if (o.depthwise && input !== output)
    throw new Error(`paenet: depthwise layer ${name} must map a stage onto itself (got ${input} → ${output})`);
  const padding = o.padding ?? (kernel === 3 ? 1 : 0);
  return { name, kind: 'conv', input, output, kernel, stride, padding, ...(o.depthwise ? { depthwise: true } : {}) };
}

/** The bottleneck: a linear layer from the last stage to the embedding (not widened by expansion). */
export function embeddingLayer(lastStage: number): LayerSpec {
  return { name: 'embed', kind: 'linear', input: lastStage, output: 'embed', kernel: 1, stride: 1, padding: 0 };
}
