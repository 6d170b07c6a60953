// The one naming scheme of a packable network's tensors, as *.pae files store them; snapshots (best epochs,
// pruning candidates, checkpoint candidate files) use the same names.
import type { Tensor } from '../engine/index.ts';
import type { PackableNet } from './network.ts';
import type { TaskNorm } from './packable-layer.ts';

/** A task norm's fields under their stored (PyTorch state-dict) names. */
const NORM_NAMES = { weight: 'weight', bias: 'bias', runningMean: 'running_mean', runningVar: 'running_var' } as const satisfies Record<
  keyof TaskNorm,
  string
>;

/**
 * A layer's tensors: dense weights and owner tags; in files also the owned weights alone (owned-weights.ts), the
 * packed owner tags and the int8 scales of format 3 (compact-storage.ts).
 */
export type LayerTensor = 'weight' | 'owner' | 'owned_weight' | 'owner_packed' | 'owned_scale';
export function layerTensorName(layer: string, what: LayerTensor): string {
  return `layer/${layer}/${what}`;
}

/**
 * Every tensor of the network's state by name: each layer's weights and owners, plus the BN and head of `tasks`
 * (every task when omitted). Names resolve against whichever network the state is written into.
 */
export function stateTensors(net: PackableNet, tasks?: number[]): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const ids = tasks ?? [...net.slots.keys()];
  for (const l of net.layers) {
    out.set(layerTensorName(l.spec.name, 'weight'), l.weight);
    out.set(layerTensorName(l.spec.name, 'owner'), l.owner);
    for (const t of ids) {
      const n = l.norms.get(t);
      if (!n) continue;
      for (const [field, name] of Object.entries(NORM_NAMES) as [keyof TaskNorm, string][])
        out.set(`task/${t}/bn/${l.spec.name}/${name}`, n[field]);
    }
  }
  for (const t of ids) {
    const h = net.heads.get(t);
    if (!h) continue;
    out.set(`task/${t}/head/weight`, h.weight);
    if (h.bias) out.set(`task/${t}/head/bias`, h.bias);
  }
  return out;
}

/**
 * The name of a tensor written by an older paenet. Snapshots once had their own scheme (`conv1.weight`,
 * `conv1.bn2.runningMean`, `head2.bias`); add-task checkpoints from then still hold candidate files with those
 * names. Current names (with '/') pass unchanged.
 */
export function currentTensorName(name: string): string {
  if (name.includes('/')) return name;
  const norm = /^(.+)\.bn(\d+)\.(weight|bias|runningMean|runningVar)$/.exec(name);
  if (norm) return `task/${norm[2]}/bn/${norm[1]}/${NORM_NAMES[norm[3] as keyof TaskNorm]}`;
  const head = /^head(\d+)\.(weight|bias)$/.exec(name);
  if (head) return `task/${head[1]}/head/${head[2]}`;
  const layer = /^(.+)\.(weight|owner)$/.exec(name);
  return layer ? layerTensorName(layer[1]!, layer[2] as 'weight' | 'owner') : name;
}
