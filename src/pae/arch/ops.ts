// The operations a backbone's forward is written in, once: the libtorch forward (network.ts) and the ONNX export
// (serve/onnx/export-model.ts) each implement them, so a backbone computes the same in both by construction.
import type { Pads } from './layer-spec.ts';

/**
 * Operations on values of type V (a tensor, or a graph value). Feature maps are NCHW; every op keeps the batch.
 * Covers what the face backbones need: plain and residual conv stacks, dlib's padded down blocks, and
 * MobileNet-style nets (depthwise convs are packable layers; ReLU6 is `clamp(x, 0, 6)`).
 */
export interface TrunkOps<V> {
  /** Packable layer `name`: its conv (or linear) with the task's masked weights, then the task's batch norm. */
  layer(name: string, x: V): V;
  relu(x: V): V;
  /** min(max(x, lo), hi), elementwise. */
  clamp(x: V, lo: number, hi: number): V;
  add(a: V, b: V): V;
  /** Unpadded max pool, floor mode. */
  maxPool(x: V, kernel: number, stride: number): V;
  /** Unpadded average pool, floor mode. */
  avgPool(x: V, kernel: number, stride: number): V;
  /** Zero-pads height and width. */
  pad(x: V, pads: Pads): V;
  /** Appends `extra` zero channels. */
  padChannels(x: V, extra: number): V;
  /** Mean over height and width: [N, C, H, W] → [N, C]. */
  globalMeanPool(x: V): V;
  /** Dropout with probability p while training; the identity otherwise. */
  dropout(x: V, p: number): V;
  /** A value's shape without the batch: [C, H, W] for feature maps, [C] for flat values. */
  shape(x: V): number[];
}
