// Parametrised layers: Conv2d, Linear, BatchNorm1d/2d, PReLU.
import { full, ones, zeros } from '../creation.ts';
import * as F from '../functional.ts';
import type { Tensor } from '../tensor.ts';
import { defaultWeight, fans, uniform } from './init.ts';
import { Module } from './module.ts';

export interface Conv2dConfig extends F.Conv2dOptions {
  /** @default true */ bias?: boolean;
}

/** 2-D convolution layer, weight [out, in/groups, k, k]. */
export class Conv2d extends Module {
  readonly options: F.Conv2dOptions;
  private readonly hasBias: boolean;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    config: Conv2dConfig = {},
  ) {
    super();
    const groups = config.groups ?? 1;
    if (inChannels % groups || outChannels % groups)
      throw new Error(`paenet: Conv2d channels ${inChannels}→${outChannels} not divisible by groups ${groups}`);
    const shape = [outChannels, inChannels / groups, kernel, kernel];
    this.registerParameter('weight', defaultWeight(shape));
    this.hasBias = config.bias ?? true;
    if (this.hasBias) this.registerParameter('bias', uniform([outChannels], 1 / Math.sqrt(fans(shape).fanIn)));
    this.options = { stride: config.stride ?? 1, padding: config.padding ?? 0, dilation: config.dilation ?? 1, groups };
  }
  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.param('weight'), this.hasBias ? this.param('bias') : null, this.options);
  }
}

/** Fully connected layer, weight [out, in]. */
export class Linear extends Module {
  private readonly hasBias: boolean;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    bias = true,
  ) {
    super();
    this.registerParameter('weight', defaultWeight([outFeatures, inFeatures]));
    if (bias) this.registerParameter('bias', uniform([outFeatures], 1 / Math.sqrt(inFeatures)));
    this.hasBias = bias;
  }
  forward(x: Tensor): Tensor {
    return F.linear(x, this.param('weight'), this.hasBias ? this.param('bias') : null);
  }
}

export interface BatchNormConfig {
  /** @default 1e-5 */ eps?: number;
  /** @default 0.1 */ momentum?: number;
  /** Learn a per-channel scale and shift. @default true */ affine?: boolean;
}

/** Batch normalisation over channels; running statistics in eval mode. Works for [N,C] and [N,C,H,W]. */
export class BatchNorm extends Module {
  private readonly eps: number;
  private readonly momentum: number;
  private readonly affine: boolean;
  constructor(
    readonly features: number,
    config: BatchNormConfig = {},
  ) {
    super();
    this.eps = config.eps ?? 1e-5;
    this.momentum = config.momentum ?? 0.1;
    this.affine = config.affine ?? true;
    if (this.affine) {
      this.registerParameter('weight', ones([features]));
      this.registerParameter('bias', zeros([features]));
    }
    this.registerBuffer('runningMean', zeros([features]));
    this.registerBuffer('runningVar', ones([features]));
  }
  forward(x: Tensor): Tensor {
    return F.batchNorm(
      x,
      this.buffer('runningMean'),
      this.buffer('runningVar'),
      this.affine ? this.param('weight') : null,
      this.affine ? this.param('bias') : null,
      { training: this.training, momentum: this.momentum, eps: this.eps },
    );
  }
}
/** BatchNorm over [N, C, H, W]. */
export class BatchNorm2d extends BatchNorm {}
/** BatchNorm over [N, C]. */
export class BatchNorm1d extends BatchNorm {}

/** PReLU with a learned slope per channel. @default init 0.25 */
export class PReLU extends Module {
  constructor(channels = 1, init = 0.25) {
    super();
    this.registerParameter('weight', full([channels], init));
  }
  forward(x: Tensor): Tensor {
    return F.prelu(x, this.param('weight'));
  }
}
