// Angular-margin softmax heads for embeddings: ArcFace (additive angle) and CosFace (additive cosine).
import * as F from '../functional.ts';
import { tidy } from '../scope.ts';
import type { Tensor } from '../tensor.ts';
import { xavierUniform } from './init.ts';
import { Module } from './module.ts';

export interface MarginConfig {
  /** 'arcface': cos(θ+m); 'cosface': cos θ − m. @default 'arcface' */ kind?: 'arcface' | 'cosface';
  /** Logit scale s. @default 30 */ scale?: number;
  /** Margin m (radians for ArcFace). @default 0.5 for ArcFace, 0.35 for CosFace */ margin?: number;
}

/**
 * Class centres W [classes, dim]; `logits(emb, labels)` = s·(cos θ with the target's margin), fed to cross-entropy.
 * Without labels (evaluation) it returns s·cos θ.
 */
export class MarginSoftmax extends Module {
  readonly kind: 'arcface' | 'cosface';
  readonly scale: number;
  readonly margin: number;
  constructor(
    readonly dim: number,
    readonly classes: number,
    config: MarginConfig = {},
  ) {
    super();
    this.kind = config.kind ?? 'arcface';
    this.scale = config.scale ?? 30;
    this.margin = config.margin ?? (this.kind === 'arcface' ? 0.5 : 0.35);
    this.registerParameter('weight', xavierUniform([classes, dim]));
  }

  forward(emb: Tensor): Tensor {
    return F.angularMarginLogits(emb, this.param('weight'), undefined, this);
  }

  logits(emb: Tensor, labels: Tensor): Tensor {
    return F.angularMarginLogits(emb, this.param('weight'), labels, this);
  }

  /** Cross-entropy with the margin applied. */
  loss(emb: Tensor, labels: Tensor): Tensor {
    return tidy(() => F.crossEntropy(this.logits(emb, labels), labels));
  }
}
