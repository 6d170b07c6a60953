// Module: named parameters, buffers and children, like torch.nn.Module.
import { noGrad } from '../runtime.ts';
import { keep, type Disposable } from '../scope.ts';
import type { Tensor } from '../tensor.ts';

/** A layer or network. Parameters are named (`block1.conv.weight`) so a method can mask any of them. */
export abstract class Module implements Disposable {
  training = true;
  private readonly params = new Map<string, Tensor>();
  private readonly buffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  abstract forward(x: Tensor): Tensor;

  /** Registers a trainable tensor (requiresGrad on, kept out of tidy scopes). Replaces and frees any old one. */
  protected registerParameter(name: string, t: Tensor): Tensor {
    t.requiresGrad = true;
    this.params.get(name)?.dispose();
    this.params.set(name, keep(t));
    return t;
  }

  /** Registers non-trainable state (BatchNorm running statistics). */
  protected registerBuffer(name: string, t: Tensor): Tensor {
    this.buffers.get(name)?.dispose();
    this.buffers.set(name, keep(t));
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** A direct parameter by local name. */
  param(name: string): Tensor {
    const p = this.params.get(name);
    if (!p) throw new Error(`paenet: ${this.constructor.name} has no parameter '${name}'`);
    return p;
  }

  /** A direct buffer by local name. */
  buffer(name: string): Tensor {
    const b = this.buffers.get(name);
    if (!b) throw new Error(`paenet: ${this.constructor.name} has no buffer '${name}'`);
    return b;
  }

  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  /** Every parameter with its dotted path. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [...this.params].map(([n, t]) => [prefix + n, t]);
    for (const [n, m] of this.children) out.push(...m.namedParameters(`${prefix}${n}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [...this.buffers].map(([n, t]) => [prefix + n, t]);
    for (const [n, m] of this.children) out.push(...m.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  /** Parameters and buffers by dotted path (the tensors themselves, not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /** Copies values in; shapes must match. With `strict`, keys must match exactly. */
  loadStateDict(state: Map<string, Tensor>, strict = true): void {
    const own = this.stateDict();
    if (strict) {
      const missing = [...own.keys()].filter((k) => !state.has(k));
      const extra = [...state.keys()].filter((k) => !own.has(k));
      if (missing.length || extra.length) {
        throw new Error(
          `paenet: state dict mismatch (missing: ${missing.join(', ') || 'none'}; unexpected: ${extra.join(', ') || 'none'})`,
        );
      }
    }
    noGrad(() => {
      for (const [k, t] of own) {
        const src = state.get(k);
        if (!src) continue;
        if (src.shape.join() !== t.shape.join())
          throw new Error(`paenet: '${k}' has shape [${src.shape}] but the module expects [${t.shape}]`);
        t.copy_(src);
      }
    });
  }

  train(mode = true): this {
    this.training = mode;
    for (const m of this.children.values()) m.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Number of trainable scalars. */
  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.numel, 0);
  }

  /** Frees every parameter and buffer, recursively. */
  dispose(): void {
    for (const t of this.params.values()) t.dispose();
    for (const t of this.buffers.values()) t.dispose();
    for (const m of this.children.values()) m.dispose();
    this.params.clear();
    this.buffers.clear();
  }
}
