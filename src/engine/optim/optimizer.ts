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

/**
 * An optimizer's state by parameter position (group, index in the group), as PyTorch's state_dict: what a
 * checkpoint taken mid-training saves, so the moments go on where they were instead of restarting from zero.
 */
export interface OptimizerState {
  /** Learning rate of each group. */
  lrs: number[];
  stepCount: number;
  /** Copies of the per-parameter state tensors, named `<group>/<index>/<key>`; whoever holds them disposes them. */
  tensors: Map<string, Tensor>;
  /** Per-parameter counters (Adam's step), named as the tensors. */
  counters: Record<string, number>;
}

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

  /** A copy of the state (see {@link OptimizerState}); the optimizer keeps its own. */
  stateDict(): OptimizerState {
    const tensors = new Map<string, Tensor>();
    const counters: Record<string, number> = {};
    noGrad(() =>
      this.groups.forEach((g, gi) =>
        g.params.forEach((p, i) => {
          for (const [k, t] of this.state.get(p) ?? []) tensors.set(`${gi}/${i}/${k}`, keep(tidy(() => t.clone())));
          for (const [k, n] of Object.entries(this.countersOf(p))) counters[`${gi}/${i}/${k}`] = n;
        }),
      ),
    );
    return { lrs: this.groups.map((g) => g.lr), stepCount: this.stepCount, tensors, counters };
  }

  /**
   * Replaces the state by `s` (copied: the caller still owns its tensors). The optimizer must have been built over
   * the same parameters in the same order; a name or shape that does not fit throws before anything changes.
   */
  loadStateDict(s: OptimizerState): void {
    if (s.lrs.length !== this.groups.length)
      throw new Error(`paenet: optimizer state has ${s.lrs.length} parameter groups, this optimizer ${this.groups.length}`);
    const param = (name: string): { p: Tensor; key: string } => {
      const m = /^(\d+)\/(\d+)\/(.+)$/.exec(name);
      const p = m ? this.groups[Number(m[1])]?.params[Number(m[2])] : undefined;
      if (!m || !p) throw new Error(`paenet: optimizer state names '${name}', which this optimizer has no parameter for`);
      return { p, key: m[3]! };
    };
    const tensors = [...s.tensors].map(([name, t]) => {
      const { p, key } = param(name);
      if (t.shape.join() !== p.shape.join())
        throw new Error(`paenet: optimizer state '${name}' has shape [${t.shape}], the parameter [${p.shape}]`);
      return { p, key, t };
    });
    const counters = Object.entries(s.counters).map(([name, n]) => ({ ...param(name), n }));
    this.resetState();
    noGrad(() => {
      for (const { p, key, t } of tensors)
        this.setState(
          this.stateOf(p),
          key,
          tidy(() => t.clone()),
        );
    });
    for (const { p, key, n } of counters) this.setCounter(p, key, n);
    s.lrs.forEach((lr, i) => (this.groups[i]!.lr = lr));
    this.stepCount = s.stepCount;
  }

  /** Per-parameter counters a subclass keeps beside its tensors (for {@link stateDict}). */
  protected countersOf(_p: Tensor): Record<string, number> {
    return {};
  }

  /** Restores a counter {@link countersOf} reported. */
  protected setCounter(_p: Tensor, key: string, _n: number): void {
    throw new Error(`paenet: ${this.constructor.name} keeps no per-parameter counter '${key}'`);
  }

  /** Frees the state tensors. */
  dispose(): void {
    this.resetState();
  }
}
