// PackableNet: the shared, owner-tagged backbone plus per-task BN and heads; computes any task by id.
import { F, keep, nn, tensor, tidy, zeros, type Tensor } from '../engine/index.ts';
import { ARCHITECTURES, type Architecture, type TrunkOps } from './arch/index.ts';
import { layerWeightShape, layerWidth, type BackboneConfig, type LayerSpec } from './config.ts';
import { PackableLayer, type Sharing } from './packable-layer.ts';

/** A task's output head. 'linear' = softmax classifier; 'arcface'/'cosface' = angular-margin over classes. */
export interface HeadSpec {
  kind: 'linear' | 'arcface' | 'cosface';
  classes: number;
  /** Margin-head scale s. @default 30 */ scale?: number;
  /** Margin-head margin m. @default 0.5 (ArcFace) / 0.35 (CosFace) */ margin?: number;
  /** The head was a training device only and is not kept (identity tasks use the embedding). */
  dropped?: boolean;
}

/**
 * Per-channel affine map from the network's standard input ((pixel − 127.5) / 128) to what a task expects:
 * x·scale + shift. Imported networks were trained with their own pixel normalisation.
 */
export interface InputTransform {
  scale: number[];
  shift: number[];
}

/** How a task's input and normalisation layers behave, beyond the defaults. */
export interface SlotOptions {
  input?: InputTransform;
  /**
   * The task's BN layers always use their stored statistics, in training too: an imported network's affine
   * (scale/shift) layers are stored as BN with fixed statistics, and batch statistics would change what it computes.
   */
  frozenNorm?: boolean;
}

/** What the network needs to know about a task to compute it. */
export interface TaskSlot extends SlotOptions {
  /** Expansion level (width) the task was learned at. */
  level: number;
  sharing: Sharing;
  head: HeadSpec;
}

/** A task's head parameters (weight [classes, embedDim], bias [classes] for linear heads). */
export interface Head {
  weight: Tensor;
  bias: Tensor | null;
}

export class PackableNet {
  readonly layers: PackableLayer[];
  readonly slots = new Map<number, TaskSlot>();
  readonly heads = new Map<number, Head>();
  training = false;

  private constructor(
    readonly config: BackboneConfig,
    /** The backbone family: its layers and its forward (the registered one of `config.arch`). */
    readonly architecture: Architecture,
    layers: PackableLayer[],
  ) {
    this.layers = layers;
  }

  /**
   * A new network at the config's current width: all weights free (owner 0) with initial values. `architecture`
   * replaces the registered family of `config.arch` (a family being written, before it has a registry line).
   */
  static create(config: BackboneConfig, architecture: Architecture = ARCHITECTURES[config.arch]): PackableNet {
    const net = new PackableNet(config, architecture, []);
    for (const spec of architecture.layers(config)) {
      const shape = net.weightShape(spec, net.level);
      net.layers.push(new PackableLayer(spec, initWeight(spec, shape), zeros(shape, { dtype: 'uint8' })));
    }
    return net;
  }

  /** Current expansion level (number of expansions so far). */
  get level(): number {
    return this.config.expansions.length;
  }

  layer(name: string): PackableLayer {
    const l = this.layers.find((x) => x.spec.name === name);
    if (!l) throw new Error(`paenet: no layer '${name}'`);
    return l;
  }

  /** [out, in] channels of a layer's weight at an expansion level (a depthwise conv's `in` is 1 per group). */
  width(spec: LayerSpec, level: number): [number, number] {
    return layerWidth(this.config, spec, level);
  }

  weightShape(spec: LayerSpec, level: number): number[] {
    return layerWeightShape(this.config, spec, level);
  }

  slot(task: number): TaskSlot {
    const s = this.slots.get(task);
    if (!s) throw new Error(`paenet: the network has no task ${task}`);
    return s;
  }

  /** Creates task `id`'s BN and head; the task computes at `level` (default: the current width). */
  addTaskSlot(id: number, sharing: Sharing, head: HeadSpec, level = this.level, options: SlotOptions = {}): void {
    if (this.slots.has(id)) throw new Error(`paenet: task ${id} already exists`);
    this.slots.set(id, { level, sharing, head, ...options });
    for (const l of this.layers) l.addNorm(id, this.width(l.spec, level)[0]);
    if (head.dropped) return;
    const weight = keep(nn.init.xavierUniform([head.classes, this.config.embedDim]));
    weight.requiresGrad = true;
    const bias = head.kind === 'linear' ? keep(zeros([head.classes], { requiresGrad: true })) : null;
    this.heads.set(id, { weight, bias });
  }

  /**
   * Frees task `id`'s head once it is no longer needed: an identity task's classifier over training identities
   * only serves to learn the embedding. The task keeps computing embeddings; `headLogits` refuses it.
   */
  dropHead(id: number): void {
    const slot = this.slot(id);
    const h = this.heads.get(id);
    h?.weight.dispose();
    h?.bias?.dispose();
    this.heads.delete(id);
    slot.head = { ...slot.head, dropped: true };
  }

  /** Removes task `id`'s BN and head (the weights it owns are the caller's business). */
  dropTaskSlot(id: number): void {
    for (const l of this.layers) l.dropNorm(id);
    const h = this.heads.get(id);
    h?.weight.dispose();
    h?.bias?.dispose();
    this.heads.delete(id);
    this.slots.delete(id);
  }

  /** The task's embedding (bottleneck output after its BN), [N, embedDim]: its backbone's forward in libtorch ops. */
  embed(x: Tensor, task: number): Tensor {
    const { level, sharing, input, frozenNorm } = this.slot(task);
    const normTraining = this.training && !frozenNorm;
    const layer = (name: string, h: Tensor): Tensor => {
      const l = this.layer(name);
      return l.forward(h, task, sharing, this.width(l.spec, level), normTraining);
    };
    return tidy(() => {
      const h = input ? x.mul(channelTensor(input.scale)).add(channelTensor(input.shift)) : x;
      return this.architecture.embed(torchOps(layer, this.training), h, this.config);
    });
  }

  /** Logits from an embedding. Margin heads apply their margin to the `labels` class when labels are given. */
  headLogits(emb: Tensor, task: number, labels?: Tensor): Tensor {
    const { head: spec } = this.slot(task);
    const head = this.heads.get(task);
    if (!head) throw new Error(`paenet: task ${task} keeps no classifier head (its output is the embedding)`);
    return tidy(() => {
      if (spec.kind === 'linear') return F.linear(emb, head.weight, head.bias);
      const kind = spec.kind;
      const margin = spec.margin ?? (kind === 'arcface' ? 0.5 : 0.35);
      return F.angularMarginLogits(emb, head.weight, labels, { kind, scale: spec.scale ?? 30, margin });
    });
  }

  /** Task logits for a batch. */
  forward(x: Tensor, task: number, labels?: Tensor): Tensor {
    return tidy(() => this.headLogits(this.embed(x, task), task, labels));
  }

  /** Trainable tensors of task k: every layer weight (masked to k's own by the trainer), k's BN and head. */
  taskParameters(task: number): { masked: { layer: PackableLayer; weight: Tensor }[]; free: Tensor[] } {
    const free: Tensor[] = [];
    for (const l of this.layers) {
      const n = l.norm(task);
      free.push(n.weight, n.bias);
    }
    const h = this.heads.get(task);
    if (h) free.push(h.weight, ...(h.bias ? [h.bias] : []));
    return { masked: this.layers.map((layer) => ({ layer, weight: layer.weight })), free };
  }

  /** Total packable weights (all layers, current width). */
  totalWeights(): number {
    return this.layers.reduce((n, l) => n + l.weight.numel, 0);
  }

  dispose(): void {
    for (const id of [...this.slots.keys()]) this.dropTaskSlot(id);
    for (const l of this.layers) l.dispose();
  }
}

/** [1, C, 1, 1] tensor of per-channel values. */
function channelTensor(values: number[]): Tensor {
  return tensor(values, [1, values.length, 1, 1]);
}

/** The backbone operations in libtorch; `layer` runs a packable layer, dropout is active while `training`. */
function torchOps(layer: (name: string, x: Tensor) => Tensor, training: boolean): TrunkOps<Tensor> {
  return {
    layer,
    relu: (x) => F.relu(x),
    clamp: (x, lo, hi) => x.clamp(lo, hi),
    add: (a, b) => a.add(b),
    maxPool: (x, kernel, stride) => F.maxPool2d(x, kernel, stride),
    avgPool: (x, kernel, stride) => F.avgPool2d(x, kernel, stride),
    pad: (x, p) => F.pad2d(x, p.left, p.right, p.top, p.bottom),
    padChannels: (x, extra) => F.padChannels(x, extra),
    globalMeanPool: (x) => F.adaptiveAvgPool2d(x, 1).flatten(1),
    dropout: (x, p) => F.dropout(x, p, training),
    shape: (x) => x.shape.slice(1),
  };
}

/** Initial values for new weights: Kaiming-normal (fan-out) for convs as in CPG, Xavier for the bottleneck. */
export function initWeight(spec: LayerSpec, shape: number[]): Tensor {
  return spec.kind === 'conv' ? nn.init.kaimingNormal(shape, 'fanOut') : nn.init.xavierUniform(shape);
}
