// The size ledger (§5): what each task costs in bytes, what is free, and what N individual networks would cost.
import { tidy } from '../engine/index.ts';
import { SCALE_BYTES, storageFor, WEIGHT_BYTES, type Storage, type WeightStorage } from './compact-storage.ts';
import { layerSpecs, layerWeightShape, layerWidth } from './config.ts';
import type { PaeModel } from './model.ts';
import { groupCounts } from './owned-int8.ts';
import { packedOwnerBytes } from './owner-bits.ts';
import { freeWeightsAreZero } from './ownership.ts';

const F32 = 4;
const MASK = 1;

export interface TaskLedger {
  id: number;
  name: string;
  ownedWeights: number;
  /**
   * The owned weights as stored: 4 B (fp32), 2 B (fp16) or 1 B + 4 B per (channel, task) scale (int8) each in
   * owned-only layers; 4 B each in a layer stored densely.
   */
  weightBytes: number;
  /**
   * 1 B × owned weights: the owner tags that select them, at a byte each. The file packs every tag to the model's
   * ownerBits (see Ledger.ownerBytes), but that width grows with later tasks; a byte keeps a module's size fixed
   * once its task is done.
   */
  maskBytes: number;
  /** Per-task BN vectors (γ, β, running mean and variance) at the task's width. */
  bnBytes: number;
  /** Per-task biases (none in the current backbones, which put BN after every layer). */
  biasBytes: number;
  headBytes: number;
  /** Everything this module needs: weights + masks + BN + biases + head (the paper's per-module size). */
  moduleBytes: number;
}

export interface LayerCapacity {
  name: string;
  total: number;
  free: number;
  /** Weights owned per task id. */
  owned: Record<number, number>;
  /** The file stores only this layer's owned weights (its free weights are all 0); otherwise every weight. */
  sparse: boolean;
}

export interface Ledger {
  /** The storage these byte counts are for (what the file holds when saved with it). */
  storage: Storage;
  tasks: TaskLedger[];
  layers: LayerCapacity[];
  totalWeights: number;
  freeWeights: number;
  /** 4 B × every backbone weight + every task's BN, biases and head: one dense unified model. */
  denseBytes: number;
  /** The owner maps as stored: every tag packed to storage.ownerBits, each layer rounded up to whole bytes. */
  ownerBytes: number;
  /** The backbone weights the file stores: owned ones only in sparse layers (as weightBytes), 4 B × every one in the others. */
  storedWeightBytes: number;
  /** Bytes of all tensors in the file (storedWeightBytes + every task's BN, biases and head + ownerBytes). */
  fileTensorBytes: number;
  /** N individual networks of the same backbone (unexpanded width), each with its own BN and head. */
  individualBytes: number;
  /** Backbone weights of one individual network (unexpanded width). */
  individualWeights: number;
  /** fileTensorBytes / individualBytes. */
  fractionOfIndividual: number;
}

/** An individual (dense, single-task) network of the model's backbone at its original width, without its head: weights and bytes. */
// Computed from the config alone: building a probe network would allocate it and draw its random init from the
// global generator, so saving a model (which records the ledger) would change a seeded run's later draws.
function individualBackbone(model: PaeModel): { weights: number; bytes: number } {
  const base = { ...model.config, expansions: [] };
  const specs = layerSpecs(base);
  const weights = specs.reduce((n, s) => n + layerWeightShape(base, s, 0).reduce((a, b) => a * b, 1), 0);
  const bn = specs.reduce((n, s) => n + layerWidth(base, s, 0)[0] * 4, 0);
  return { weights, bytes: F32 * (weights + bn) };
}

/**
 * The ledger of a model, computed from its tensors, with byte counts for a file saved with `weights` storage
 * (default: as the file the model was read from stores them; fp32 for a model built in memory).
 */
export function computeLedger(model: PaeModel, weights: WeightStorage = model.weightStorage): Ledger {
  const net = model.net;
  const storage = storageFor(net, weights);
  /** Per layer: the bytes of each task's weights as stored (index = task id), and of all its stored weights. */
  const taskBytes: number[][] = [];
  const layerBytes: number[] = [];
  const layers: LayerCapacity[] = net.layers.map((l) =>
    tidy(() => {
      const owned: Record<number, number> = {};
      for (const t of model.tasks) owned[t.id] = l.owner.eq(t.id).countNonzero();
      const free = l.owner.eq(0).countNonzero();
      const sparse = freeWeightsAreZero(l);
      const groups = sparse && weights === 'int8' ? groupCounts(l.owner.data() as Uint8Array, l.weight.shape[0]!) : [];
      const perWeight = sparse ? WEIGHT_BYTES[weights] : F32;
      const bytes: number[] = [];
      for (const t of model.tasks) bytes[t.id] = perWeight * owned[t.id]! + SCALE_BYTES * (groups[t.id] ?? 0);
      taskBytes.push(bytes);
      const scales = SCALE_BYTES * groups.reduce((a, b) => a + b, 0);
      layerBytes.push(sparse ? perWeight * (l.weight.numel - free) + scales : F32 * l.weight.numel);
      return { name: l.spec.name, total: l.weight.numel, free, owned, sparse };
    }),
  );
  const tasks: TaskLedger[] = model.tasks.map((t) => {
    const ownedWeights = layers.reduce((n, l) => n + (l.owned[t.id] ?? 0), 0);
    const bnBytes = net.layers.reduce((n, l) => n + (l.norms.has(t.id) ? 4 * l.norm(t.id).weight.numel * F32 : 0), 0);
    const head = net.heads.get(t.id);
    const headBytes = head ? F32 * (head.weight.numel + (head.bias?.numel ?? 0)) : 0;
    const weightBytes = taskBytes.reduce((n, bytes) => n + (bytes[t.id] ?? 0), 0);
    const maskBytes = MASK * ownedWeights;
    return {
      id: t.id,
      name: t.name,
      ownedWeights,
      weightBytes,
      maskBytes,
      bnBytes,
      biasBytes: 0,
      headBytes,
      moduleBytes: weightBytes + maskBytes + bnBytes + headBytes,
    };
  });
  const totalWeights = net.totalWeights();
  const freeWeights = layers.reduce((n, l) => n + l.free, 0);
  const perTask = tasks.reduce((n, t) => n + t.bnBytes + t.biasBytes + t.headBytes, 0);
  const denseBytes = F32 * totalWeights + perTask;
  const ownerBytes = layers.reduce((n, l) => n + packedOwnerBytes(l.total, storage.ownerBits), 0);
  const individual = individualBackbone(model);
  const backbone = model.tasks.length ? individual.bytes : 0;
  // An individual network keeps the same head as its task here (none, for identity tasks whose head was dropped).
  const headOf = (t: (typeof model.tasks)[number]): number =>
    t.head.dropped ? 0 : F32 * t.head.classes * (model.config.embedDim + (t.head.kind === 'linear' ? 1 : 0));
  const individualBytes = model.tasks.reduce((n, t) => n + backbone + headOf(t), 0);
  const storedWeightBytes = layerBytes.reduce((a, b) => a + b, 0);
  const fileTensorBytes = storedWeightBytes + perTask + ownerBytes;
  return {
    storage,
    tasks,
    layers,
    totalWeights,
    freeWeights,
    denseBytes,
    ownerBytes,
    storedWeightBytes,
    fileTensorBytes,
    individualBytes,
    individualWeights: individual.weights,
    fractionOfIndividual: individualBytes === 0 ? 0 : fileTensorBytes / individualBytes,
  };
}
