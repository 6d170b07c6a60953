// A conv or linear layer whose every weight carries an owner tag (0 = free, k = task k), with per-task BN.
import { autocastActive, F, fp32Island, keep, noGrad, ones, tidy, zeros, type Tensor } from '../engine/index.ts';
import { padsOf, type LayerSpec } from './arch/index.ts';

/** Per-task batch-norm state of one layer (never shared between tasks). */
export interface TaskNorm {
  weight: Tensor;
  bias: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
}

/**
 * Which weights a task computes with: all of tasks 1..k (PackNet/PAE default), task 1's + its own, or every owned
 * weight whoever owns it ('all': the fine-tuning baseline, where one shared backbone is retrained per task).
 */
export type Sharing = 'cumulative' | 'task1' | 'all';

/**
 * BN hyper-parameters (PyTorch convention). The paper's TF decay 0.995 (momentum 0.005) suits its 500-epoch runs; on
 * short runs the running statistics lag the weights and eval accuracy stalls (measured: utkface gender, 4 epochs,
 * val 54.0 % at momentum 0.01 vs 63.2 % at 0.1, same training loss), so PyTorch's 0.1 is used.
 */
export const BN_EPS = 1e-3;
export const BN_MOMENTUM = 0.1;

export class PackableLayer {
  /** Values, [out, in, k, k] or [out, in]. Free weights are kept at 0. */
  weight: Tensor;
  /** Owner tags, uint8, same shape as `weight`. */
  owner: Tensor;
  readonly norms = new Map<number, TaskNorm>();
  /** Bumped on every owner change, so cached masks know they are stale. */
  private ownerVersion = 0;
  private readonly maskCache = new Map<string, { version: number; mask: Tensor }>();

  constructor(
    readonly spec: LayerSpec,
    weight: Tensor,
    owner: Tensor,
  ) {
    this.weight = keep(weight);
    this.weight.requiresGrad = true;
    this.owner = keep(owner);
  }

  /** [out, in] channels of the weight now. */
  get channels(): [number, number] {
    return [this.weight.shape[0]!, this.weight.shape[1]!];
  }

  /** Call after changing `owner` in place. */
  ownersChanged(): void {
    this.ownerVersion++;
    for (const { mask } of this.maskCache.values()) mask.dispose();
    this.maskCache.clear();
  }

  /** Replaces weight and owner tensors (expansion); frees the old ones. */
  replace(weight: Tensor, owner: Tensor): void {
    this.weight.dispose();
    this.owner.dispose();
    this.weight = keep(weight);
    this.weight.requiresGrad = true;
    this.owner = keep(owner);
    this.ownersChanged();
  }

  /** Float mask (cached) of the weights task k computes with. */
  useMask(task: number, sharing: Sharing): Tensor {
    return this.cached(`use:${task}:${sharing}`, () =>
      sharing === 'all'
        ? this.owner.ge(1).float()
        : sharing === 'task1' && task > 1
          ? this.owner.eq(1).logicalOr(this.owner.eq(task)).float()
          : this.owner.ge(1).logicalAnd(this.owner.le(task)).float(),
    );
  }

  /** Float mask (cached) of the weights task k owns and may change. */
  ownMask(task: number): Tensor {
    return this.cached(`own:${task}`, () => this.owner.eq(task).float());
  }

  private cached(key: string, make: () => Tensor): Tensor {
    const hit = this.maskCache.get(key);
    if (hit && hit.version === this.ownerVersion) return hit.mask;
    hit?.mask.dispose();
    const mask = keep(noGrad(() => tidy(make)));
    this.maskCache.set(key, { version: this.ownerVersion, mask });
    return mask;
  }

  /** Fresh BN for a task over `channels` outputs (beta 0, gamma 1, mean 0, var 1). */
  addNorm(task: number, channels: number): TaskNorm {
    this.dropNorm(task);
    const n: TaskNorm = {
      weight: keep(ones([channels], { requiresGrad: true })),
      bias: keep(zeros([channels], { requiresGrad: true })),
      runningMean: keep(zeros([channels])),
      runningVar: keep(ones([channels])),
    };
    this.norms.set(task, n);
    return n;
  }

  dropNorm(task: number): void {
    const n = this.norms.get(task);
    if (!n) return;
    for (const t of Object.values(n)) t.dispose();
    this.norms.delete(task);
  }

  norm(task: number): TaskNorm {
    const n = this.norms.get(task);
    if (!n) throw new Error(`paenet: layer ${this.spec.name} has no batch norm for task ${task}`);
    return n;
  }

  /**
   * Conv/linear with task k's effective weight, then k's BN. `width` = [out, in] channels the task was
   * learned with: later (expanded) channels are sliced away, so an old task sees exactly the tensors it
   * saw before the expansion and its outputs stay bit-identical.
   */
  forward(x: Tensor, task: number, sharing: Sharing, width: [number, number], training: boolean): Tensor {
    return tidy(() => {
      const [o, i] = width;
      const full = this.weight.shape[0] === o && this.weight.shape[1] === i;
      const w = full ? this.weight : this.weight.narrow(0, 0, o).narrow(1, 0, i);
      const m = this.useMask(task, sharing);
      const mask = full ? m : m.narrow(0, 0, o).narrow(1, 0, i);
      const effective = w.mul(mask);
      const y = this.spec.kind === 'conv' ? this.conv(x, effective, o) : F.linear(x, effective);
      const n = this.norm(task);
      return F.batchNorm(y, n.runningMean, n.runningVar, n.weight, n.bias, { training, momentum: BN_MOMENTUM, eps: BN_EPS });
    });
  }

  /** The conv with `weight` ([o, in/groups, k, k]); uneven padding is applied before it (libtorch pads evenly). */
  private conv(x: Tensor, weight: Tensor, outChannels: number): Tensor {
    const s = this.spec;
    const p = padsOf(s);
    const even = p.top === p.bottom && p.left === p.right;
    const input = even ? x : F.pad2d(x, p.left, p.right, p.top, p.bottom);
    const padding: [number, number] = even ? [p.top, p.left] : [0, 0];
    const options = { stride: s.stride, padding, groups: s.depthwise ? outChannels : 1 };
    // Under bf16 autocast a strided conv runs in fp32: libtorch 1.13's bf16 weight gradient for strides > 1 is
    // 10–30× slower than fp32's (measured; see fp32Island). Outside autocast this is the plain conv.
    if (s.stride > 1 && autocastActive()) return fp32Island(() => F.conv2d(input.float(), weight, null, options));
    return F.conv2d(input, weight, null, options);
  }

  /** Frees every tensor of the layer. */
  dispose(): void {
    this.weight.dispose();
    this.owner.dispose();
    for (const t of [...this.norms.keys()]) this.dropNorm(t);
    this.ownersChanged();
  }
}
