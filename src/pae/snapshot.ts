// Snapshots of network state (best-epoch checkpoints, pre-task state, pruning candidates) as tensor copies by name
// (the model file's names, see state-dict.ts).
import { keep, noGrad, tidy, type Tensor } from '../engine/index.ts';
import { PackableNet } from './network.ts';
import { currentTensorName, stateTensors } from './state-dict.ts';

/** Copies of named tensors; restore() writes them back in place. */
export class Snapshot {
  private constructor(
    private readonly copies: Map<string, Tensor>,
    private readonly tasks: number[] | undefined,
  ) {}

  /** Captures the network's state (see `stateTensors`). Restore before expanding, not after: shapes must match. */
  static capture(net: PackableNet, tasks?: number[]): Snapshot {
    const copies = new Map<string, Tensor>();
    noGrad(() => {
      // tidy frees the detach() handle; only the clone is kept.
      for (const [k, t] of stateTensors(net, tasks)) copies.set(k, keep(tidy(() => t.detach().clone())));
    });
    return new Snapshot(copies, tasks);
  }

  /** A snapshot from tensors read back from disk (takes ownership of them); older snapshot names are still read. */
  static fromTensors(tensors: Map<string, Tensor>, tasks?: number[]): Snapshot {
    const copies = new Map<string, Tensor>();
    for (const [name, t] of tensors) copies.set(currentTensorName(name), keep(t));
    return new Snapshot(copies, tasks);
  }

  /** The captured copies by name (for writing to disk; still owned by the snapshot). */
  tensors(): ReadonlyMap<string, Tensor> {
    return this.copies;
  }

  /** Writes the captured values into `net` (the same network, or one rebuilt from a file); masks are invalidated. */
  restore(net: PackableNet): void {
    const targets = stateTensors(net, this.tasks);
    if (targets.size !== this.copies.size)
      throw new Error(`paenet: snapshot holds ${this.copies.size} tensors, the network has ${targets.size}`);
    noGrad(() => {
      for (const [k, dst] of targets) {
        const src = this.copies.get(k);
        if (!src) throw new Error(`paenet: snapshot lacks ${k}`);
        if (dst.shape.join() !== src.shape.join())
          throw new Error(`paenet: snapshot of ${k} has shape [${src.shape}], network has [${dst.shape}]`);
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

/** An independent copy of a network (same config, task slots and values): a frozen teacher for distillation. */
export function cloneNet(net: PackableNet): PackableNet {
  const copy = PackableNet.create(structuredClone(net.config), net.architecture);
  for (const [id, slot] of net.slots) copy.addTaskSlot(id, slot.sharing, structuredClone(slot.head), slot.level, { ...slot });
  const s = Snapshot.capture(net);
  try {
    s.restore(copy);
  } finally {
    s.dispose();
  }
  return copy;
}
