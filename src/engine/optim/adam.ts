// Adam and AdamW (torch.optim semantics; eps is configurable because PAE's reference uses eps 0.1).
import { zerosLike } from '../creation.ts';
import type { Tensor } from '../tensor.ts';
import { Optimizer, type ParamGroup, type ParamGroupInput, type ParamState } from './optimizer.ts';

export interface AdamConfig {
  lr: number;
  /** @default [0.9, 0.999] */ betas?: [number, number];
  /** @default 1e-8 */ eps?: number;
  /** L2 added to the gradient (Adam) or decoupled decay (AdamW). @default 0 */ weightDecay?: number;
}

export class Adam extends Optimizer {
  protected readonly beta1: number;
  protected readonly beta2: number;
  protected readonly eps: number;
  private readonly steps = new Map<Tensor, number>();

  constructor(params: Tensor[] | ParamGroupInput[], config: AdamConfig) {
    super(params, config);
    [this.beta1, this.beta2] = config.betas ?? [0.9, 0.999];
    this.eps = config.eps ?? 1e-8;
  }

  protected decoupled(): boolean {
    return false;
  }

  protected update(p: Tensor, grad: Tensor, group: ParamGroup, state: ParamState): void {
    let g = grad;
    if (group.weightDecay !== 0) {
      if (this.decoupled()) p.mul_(1 - group.lr * group.weightDecay);
      else g = grad.add(p, group.weightDecay);
    }
    const m = state.get('m') ?? this.setState(state, 'm', zerosLike(p));
    const v = state.get('v') ?? this.setState(state, 'v', zerosLike(p));
    const t = (this.steps.get(p) ?? 0) + 1;
    this.steps.set(p, t);
    m.lerp_(g, 1 - this.beta1);
    v.mul_(this.beta2).addcmul_(g, g, 1 - this.beta2);
    const bc1 = 1 - this.beta1 ** t;
    const bc2 = 1 - this.beta2 ** t;
    const denom = v.sqrt().div_(Math.sqrt(bc2)).add_(this.eps);
    p.addcdiv_(m, denom, -group.lr / bc1);
  }

  protected override countersOf(p: Tensor): Record<string, number> {
    const t = this.steps.get(p);
    return t === undefined ? {} : { step: t };
  }

  protected override setCounter(p: Tensor, key: string, n: number): void {
    if (key !== 'step') super.setCounter(p, key, n);
    else this.steps.set(p, n);
  }

  override resetState(params?: Tensor[]): void {
    super.resetState(params);
    for (const p of params ?? [...this.steps.keys()]) this.steps.delete(p);
  }
}

/** Adam with decoupled weight decay (Loshchilov & Hutter). */
export class AdamW extends Adam {
  protected override decoupled(): boolean {
    return true;
  }
}
