// Data-parallel replicas of a packable network: what the ranks exchange so that N processes train one network.
// Gradients are averaged after PAE's masking, so a weight of an earlier task gets 0 on every rank and stays frozen.
import { noGrad, tidy, world, type Tensor } from '../engine/index.ts';
import type { PackableNet } from './network.ts';
import { stateTensors } from './state-dict.ts';

/**
 * Rank 0's values of everything task `task` computes and trains with (every layer's weights and owners, the task's
 * BN and head) on every rank, as PyTorch DDP broadcasts a module when it wraps it. The ranks build the same network
 * from the same seed and files anyway; this also covers what could drift between tasks (an expansion's random
 * channels drawn after ranks consumed different numbers of dropout draws on uneven last batches).
 */
export function syncFromMain(net: PackableNet, task: number): void {
  if (world().size === 1) return;
  world().broadcast([...stateTensors(net, [task]).values()]);
}

/**
 * Rank 0's BN running statistics of `task` on every rank, before validation. Each rank normalises its own slice by
 * its own batch statistics (no SyncBN, as DDP), so their running averages drift apart; rank 0's are the ones
 * validated and saved, and every rank's snapshots must match them. (DDP's broadcast_buffers sends them at every
 * forward; training in train mode never reads them, so once per epoch gives the same network.)
 */
export function syncNormStats(net: PackableNet, task: number): void {
  if (world().size === 1) return;
  const stats: Tensor[] = [];
  for (const l of net.layers) {
    const n = l.norms.get(task);
    if (n) stats.push(n.runningMean, n.runningVar);
  }
  world().broadcast(stats);
}

/** Averages the gradients of `params` over the ranks (in place, bucketed). Params without a gradient are skipped. */
export function averageGradients(params: Tensor[]): void {
  if (world().size === 1) return;
  tidy(() => world().allReduceMean(params.map((p) => p.grad).filter((g): g is Tensor => g !== null)));
}

/**
 * A 64-bit digest (hex) of the task's whole state, bit for bit: replicas that took the same steps agree on it. Read
 * from rank 0 and compared on every rank once an epoch, it turns a silent divergence (nondeterminism, a rank that
 * loaded another file) into an error.
 */
export function stateDigest(net: PackableNet, task: number): string {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  noGrad(() => {
    for (const [name, t] of stateTensors(net, [task])) {
      for (let i = 0; i < name.length; i++) a = Math.imul(a ^ name.charCodeAt(i), 0x01000193);
      const d = t.data();
      // A fresh copy, so aligned for the word view (copied again if it ever is not).
      const bytes =
        d.byteOffset % 4 === 0
          ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
          : new Uint8Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength));
      const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
      for (let i = 0; i < words.length; i++) {
        a = Math.imul(a ^ words[i]!, 0x01000193);
        b = Math.imul(b ^ words[i]!, 0x85ebca6b) ^ (b >>> 13);
      }
      for (let i = words.length * 4; i < bytes.length; i++) a = Math.imul(a ^ bytes[i]!, 0x01000193);
    }
  });
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
