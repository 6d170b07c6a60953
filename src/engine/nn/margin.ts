// Angular-margin softmax heads for embeddings: ArcFace (additive angle) and CosFace (additive cosine).
import { where } from '../creation.ts';
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
  constructor(readonly dim: number, readonly classes: number, config: MarginConfig = {}) {
    super();
    this.kind = config.kind ?? 'arcface';
    this.scale = config.scale ?? 30;
    this.margin = config.margin ?? (this.kind === 'arcface' ? 0.5 : 0.35);
    this.registerParameter('weight', xavierUniform([classes, dim]));
  }

  forward(emb: Tensor): Tensor {
    return tidy(() => F.cosineSimilarityMatrix(emb, this.param('weight')).mul(this.scale));
  }

  logits(emb: Tensor, labels: Tensor): Tensor {
    return tidy(() => {
      const cos = F.cosineSimilarityMatrix(emb, this.param('weight')).clamp(-1 + 1e-7, 1 - 1e-7);
      const target = F.oneHot(labels, this.classes).gt(0);
      let marked: Tensor;
      if (this.kind === 'cosface') {
        marked = cos.sub(this.margin);
      } else {
        // cos(θ+m) only where θ+m < π keeps the logit monotone in θ (the usual "easy margin" guard).
        const shifted = cos.acos().add(this.margin);
        marked = where(shifted.lt(Math.PI), shifted.cos(), cos.sub(this.margin * Math.sin(this.margin)));
      }
      return where(target, marked, cos).mul(this.scale);
    });
  }

  /** Cross-entropy with the margin applied. */
  loss(emb: Tensor, labels: Tensor): Tensor {
    return tidy(() => F.crossEntropy(this.logits(emb, labels), labels));
  }
}
