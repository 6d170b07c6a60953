// SGD with momentum, Nesterov and L2 weight decay (torch.optim.SGD semantics).
import type { Tensor } from '../tensor.ts';
import { Optimizer, type ParamGroup, type ParamGroupInput, type ParamState } from './optimizer.ts';

export interface SGDConfig {
  lr: number;
  /** @default 0 */ momentum?: number;
  /** @default 0 */ dampening?: number;
  /** @default false */ nesterov?: boolean;
  /** @default 0 */ weightDecay?: number;
}

export class SGD extends Optimizer {
  private readonly momentum: number;
  private readonly dampening: number;
  private readonly nesterov: boolean;
  constructor(params: Tensor[] | ParamGroupInput[], config: SGDConfig) {
    super(params, config);
    this.momentum = config.momentum ?? 0;
    this.dampening = config.dampening ?? 0;
    this.nesterov = config.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0))
      throw new Error('paenet: Nesterov SGD needs momentum > 0 and dampening 0');
  }

  protected update(p: Tensor, grad: Tensor, group: ParamGroup, state: ParamState): void {
    let d = group.weightDecay !== 0 ? grad.add(p, group.weightDecay) : grad;
    if (this.momentum !== 0) {
      let buf = state.get('momentum');
      if (!buf) buf = this.setState(state, 'momentum', d.clone());
      else buf.mul_(this.momentum).add_(d, 1 - this.dampening);
      d = this.nesterov ? d.add(buf, this.momentum) : buf;
    }
    p.add_(d, -group.lr);
  }
}
