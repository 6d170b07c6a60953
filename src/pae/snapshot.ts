// Snapshots of network state (best-epoch checkpoints, pre-task state) kept in memory as tensor copies.
import { keep, noGrad, type Tensor } from '../engine/index.ts';
import type { PackableNet } from './network.ts';

/** Copies of named tensors; restore() writes them back in place. */
export class Snapshot {
  private constructor(private readonly copies: Map<string, Tensor>, private readonly targets: Map<string, () => Tensor>) {}

  /**
   * Captures every layer's weights and owners, plus BN and head of `tasks` (default: all tasks).
   * Shapes must still match at restore time (restore before expanding, not after).
   */
  static capture(net: PackableNet, tasks?: number[]): Snapshot {
    const targets = new Map<string, () => Tensor>();
    for (const l of net.layers) {
      targets.set(`${l.spec.name}.weight`, () => l.weight);
      targets.set(`${l.spec.name}.owner`, () => l.owner);
      for (const t of tasks ?? [...net.slots.keys()]) {
        if (!l.norms.has(t)) continue;
        for (const k of ['weight', 'bias', 'runningMean', 'runningVar'] as const) targets.set(`${l.spec.name}.bn${t}.${k}`, () => l.norm(t)[k]);
      }
    }
    for (const t of tasks ?? [...net.slots.keys()]) {
      const h = net.heads.get(t);
      if (!h) continue;
      targets.set(`head${t}.weight`, () => net.heads.get(t)!.weight);
      if (h.bias) targets.set(`head${t}.bias`, () => net.heads.get(t)!.bias!);
    }
    const copies = new Map<string, Tensor>();
    noGrad(() => {
      for (const [k, get] of targets) copies.set(k, keep(get().detach().clone()));
    });
    return new Snapshot(copies, targets);
  }

  /** Writes the captured values back; owner changes invalidate cached masks. */
  restore(net: PackableNet): void {
    noGrad(() => {
      for (const [k, get] of this.targets) {
        const dst = get();
        const src = this.copies.get(k)!;
        if (dst.shape.join() !== src.shape.join()) throw new Error(`paenet: snapshot of ${k} has shape [${src.shape}], network has [${dst.shape}]`);
        dst.copy_(src);
      }
    });
    for (const l of net.layers) l.ownersChanged();
  }

  dispose(): void {
    for (const t of this.copies.values()) t.dispose();
    this.copies.clear();
  }
}
