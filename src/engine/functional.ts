// Stateless neural-network functions (torch.nn.functional), dispatched to ATen kernels.
import { dtypeCode } from './dtype.ts';
import { aten } from './ops.ts';
import { Tensor, wrap } from './tensor.ts';
import { tidy } from './scope.ts';
import { where } from './creation.ts';

type Pair = number | [number, number];
const pair = (p: Pair): [number, number] => (typeof p === 'number' ? [p, p] : p);

export interface Conv2dOptions {
  /** @default 1 */ stride?: Pair;
  /** @default 0 */ padding?: Pair;
  /** @default 1 */ dilation?: Pair;
  /** @default 1 */ groups?: number;
}

/** 2-D convolution, input NCHW, weight [out, in/groups, kh, kw]. */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, o: Conv2dOptions = {}): Tensor {
  return wrap(
    aten('conv2d')([
      x.handle,
      weight.handle,
      bias?.handle ?? null,
      pair(o.stride ?? 1),
      pair(o.padding ?? 0),
      pair(o.dilation ?? 1),
      o.groups ?? 1,
    ]),
  );
}

/** y = x Wᵀ + b, weight [out, in]. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  return wrap(aten('linear')([x.handle, weight.handle, bias?.handle ?? null]));
}

export interface BatchNormOptions {
  /** Use batch statistics and update the running ones. */
  training: boolean;
  /** @default 0.1 (PyTorch convention: new = (1-m)·old + m·batch) */ momentum?: number;
  /** @default 1e-5 */ eps?: number;
}

/** Batch normalisation over dim 1 (N,C[,H,W]); running stats are updated in place when training. */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null,
  bias: Tensor | null,
  o: BatchNormOptions,
): Tensor {
  return wrap(
    aten('batch_norm')([
      x.handle,
      weight?.handle ?? null,
      bias?.handle ?? null,
      runningMean?.handle ?? null,
      runningVar?.handle ?? null,
      o.training,
      o.momentum ?? 0.1,
      o.eps ?? 1e-5,
      false,
    ]),
  );
}

export function relu(x: Tensor): Tensor {
  return wrap(aten('relu')([x.handle]));
}
/** PReLU with one slope per channel (or one shared). */
export function prelu(x: Tensor, weight: Tensor): Tensor {
  return wrap(aten('prelu')([x.handle, weight.handle]));
}
export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  return wrap(aten('leaky_relu')([x.handle, slope]));
}
export function maxPool2d(x: Tensor, kernel: Pair, stride?: Pair, padding: Pair = 0): Tensor {
  return wrap(aten('max_pool2d')([x.handle, pair(kernel), pair(stride ?? kernel), pair(padding), [1, 1], false]));
}
export function avgPool2d(x: Tensor, kernel: Pair, stride?: Pair, padding: Pair = 0): Tensor {
  return wrap(aten('avg_pool2d')([x.handle, pair(kernel), pair(stride ?? kernel), pair(padding), false, true, null]));
}
export function adaptiveAvgPool2d(x: Tensor, size: Pair): Tensor {
  return wrap(aten('adaptive_avg_pool2d')([x.handle, pair(size)]));
}
/** Inverted dropout: zeroes with probability p and scales the rest by 1/(1-p) when training. */
export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  return wrap(aten('dropout')([x.handle, p, training]));
}
export function softmax(x: Tensor, dim = -1): Tensor {
  return wrap(aten('softmax', 'int')([x.handle, dim, null]));
}
export function logSoftmax(x: Tensor, dim = -1): Tensor {
  return wrap(aten('log_softmax', 'int')([x.handle, dim, null]));
}
/** One-hot float rows for int64 class indices. */
export function oneHot(labels: Tensor, classes: number): Tensor {
  return tidy(() => wrap(aten('one_hot')([labels.handle, classes])).to('float32'));
}

export interface CrossEntropyOptions {
  /** Per-class weights (float32 [C]). */ weight?: Tensor | null;
  /** @default 0 */ labelSmoothing?: number;
  /** @default 'mean' */ reduction?: 'mean' | 'sum' | 'none';
}

/** Cross-entropy of logits [N, C] against int64 class indices [N]. */
export function crossEntropy(logits: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor {
  const reduction = { none: 0, mean: 1, sum: 2 }[o.reduction ?? 'mean'];
  return wrap(aten('cross_entropy_loss')([logits.handle, target.handle, o.weight?.handle ?? null, reduction, -100, o.labelSmoothing ?? 0]));
}

export function mseLoss(a: Tensor, b: Tensor): Tensor {
  return wrap(aten('mse_loss')([a.handle, b.handle, 1]));
}

/** x / max(‖x‖₂, eps) along `dim` (embeddings for cosine similarity). */
export function l2Normalize(x: Tensor, dim = -1, eps = 1e-12): Tensor {
  return tidy(() => x.div(x.norm(2, dim, true).clamp(eps)));
}

/** Cosine similarity of rows: [N, D] × [M, D] → [N, M]. */
export function cosineSimilarityMatrix(a: Tensor, b: Tensor): Tensor {
  return tidy(() => l2Normalize(a).matmul(l2Normalize(b).t()));
}

/** Zero-pads the last two dims (left, right, top, bottom). */
export function pad2d(x: Tensor, left: number, right: number, top: number, bottom: number): Tensor {
  return wrap(aten('constant_pad_nd')([x.handle, [left, right, top, bottom], 0]));
}
/** Appends `extra` zero channels to an NCHW tensor (zero-padded shortcuts of residual down blocks). */
export function padChannels(x: Tensor, extra: number): Tensor {
  return wrap(aten('constant_pad_nd')([x.handle, [0, 0, 0, 0, 0, extra], 0]));
}

/** Casts bool/uint8 to float32 (masks as multipliers). */
export function asFloat(x: Tensor): Tensor {
  return wrap(aten('_to_copy')([x.handle, dtypeCode('float32')]));
}

export interface AngularMarginOptions {
  /** 'arcface': cos(θ+m) for the target class; 'cosface': cos θ − m. */ kind: 'arcface' | 'cosface';
  /** Logit scale s. */ scale: number;
  /** Margin m (radians for ArcFace). */ margin: number;
}

/**
 * Angular-margin logits: s·cos θ between embeddings [N, D] and class centres [C, D], with the margin applied
 * to each row's target class when `labels` are given (training); plain s·cos θ otherwise (evaluation).
 */
export function angularMarginLogits(emb: Tensor, centres: Tensor, labels: Tensor | undefined, o: AngularMarginOptions): Tensor {
  return tidy(() => {
    const cos = cosineSimilarityMatrix(emb, centres).clamp(-1 + 1e-7, 1 - 1e-7);
    if (!labels) return cos.mul(o.scale);
    const target = oneHot(labels, centres.shape[0]!).gt(0);
    let marked: Tensor;
    if (o.kind === 'cosface') marked = cos.sub(o.margin);
    else {
      // cos(θ+m) only where θ+m < π keeps the logit decreasing in θ (the usual ArcFace guard).
      const shifted = cos.acos().add(o.margin);
      marked = where(shifted.lt(Math.PI), shifted.cos(), cos.sub(o.margin * Math.sin(o.margin)));
    }
    return where(target, marked, cos).mul(o.scale);
  });
}
