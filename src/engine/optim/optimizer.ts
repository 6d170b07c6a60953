// Optimizer base: parameter groups, per-parameter state, zeroGrad/step, state reset.
import { noGrad } from '../runtime.ts';
import { keep, tidy } from '../scope.ts';
import type { Tensor } from '../tensor.ts';

/** A set of parameters sharing hyper-parameters. */
export interface ParamGroup {
  params: Tensor[];
  lr: number;
  /** L2 penalty added to the gradient (decoupled for AdamW). @default 0 */
  weightDecay: number;
}

export type ParamGroupInput = { params: Tensor[]; lr?: number; weightDecay?: number };

/** State tensors an optimizer keeps per parameter (momentum buffers, Adam moments). */
export type ParamState = Map<string, Tensor>;

export abstract class Optimizer {
  readonly groups: ParamGroup[];
  protected readonly state = new Map<Tensor, ParamState>();
  protected stepCount = 0;

  constructor(params: Tensor[] | ParamGroupInput[], defaults: { lr: number; weightDecay?: number }) {
    const input: ParamGroupInput[] =
      params.length > 0 && 'params' in (params[0] as object) ? (params as ParamGroupInput[]) : [{ params: params as Tensor[] }];
    this.groups = input.map((g) => ({
      params: g.params,
      lr: g.lr ?? defaults.lr,
      weightDecay: g.weightDecay ?? defaults.weightDecay ?? 0,
    }));
  }

  /** Learning rate of the first group; setting it sets every group. */
  get lr(): number {
    return this.groups[0]?.lr ?? 0;
  }
  set lr(value: number) {
    for (const g of this.groups) g.lr = value;
  }

  /** Clears gradients (set to none, as PyTorch's default). */
  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) p.zeroGrad();
  }

  /** One update of every parameter that has a gradient. */
  step(): void {
    this.stepCount++;
    noGrad(() =>
      tidy(() => {
        for (const group of this.groups) {
          for (const p of group.params) {
            const grad = p.grad;
            if (grad === null) continue;
            this.update(p, grad, group, this.stateOf(p));
          }
        }
      }),
    );
  }

  protected abstract update(p: Tensor, grad: Tensor, group: ParamGroup, state: ParamState): void;

  private stateOf(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (!s) this.state.set(p, (s = new Map()));
    return s;
  }

  /** Stores a state tensor so the step's tidy() does not free it. */
  protected setState(state: ParamState, key: string, t: Tensor): Tensor {
    state.get(key)?.dispose();
    state.set(key, keep(t));
    return t;
  }

  /** Forgets momentum/moments (all parameters, or the given ones): PAE resets at every task and mask change. */
  resetState(params?: Tensor[]): void {
    const targets = params ?? [...this.state.keys()];
    for (const p of targets) {
      for (const t of this.state.get(p)?.values() ?? []) t.dispose();
      this.state.delete(p);
    }
    if (!params) this.stepCount = 0;
  }

  /** Frees the state tensors. */
  dispose(): void {
    this.resetState();
  }
}
