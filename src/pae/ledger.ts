// The size ledger (§5): what each task costs in bytes, what is free, and what N individual networks would cost.
import { tidy } from '../engine/index.ts';
import { layerSpecs } from './config.ts';
import type { PaeModel } from './model.ts';
import { PackableNet } from './network.ts';
import { freeWeightsAreZero } from './ownership.ts';

const F32 = 4;
const MASK = 1;

export interface TaskLedger {
  id: number;
  name: string;
  ownedWeights: number;
  /** 4 B × owned weights. */
  weightBytes: number;
  /** 1 B × owned weights (the owner tags that select them, as stored). */
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
  tasks: TaskLedger[];
  layers: LayerCapacity[];
  totalWeights: number;
  freeWeights: number;
  /** 4 B × every backbone weight + every task's BN, biases and head: one dense unified model. */
  denseBytes: number;
  /** 1 B × every weight: the owner map as stored. */
  ownerBytes: number;
  /** 4 B × the backbone weights the file stores: owned ones only in sparse layers, every one in the others. */
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
function individualBackbone(model: PaeModel): { weights: number; bytes: number } {
  const base = { ...model.config, expansions: [] };
  const probe = PackableNet.create(base);
  try {
    const bn = layerSpecs(base).reduce((n, s) => n + probe.width(s, 0)[0] * 4, 0);
    return { weights: probe.totalWeights(), bytes: F32 * (probe.totalWeights() + bn) };
  } finally {
    probe.dispose();
  }
}

/** The ledger of a model, computed from its tensors. */
export function computeLedger(model: PaeModel): Ledger {
  const net = model.net;
  const layers: LayerCapacity[] = net.layers.map((l) =>
    tidy(() => {
      const owned: Record<number, number> = {};
      for (const t of model.tasks) owned[t.id] = l.owner.eq(t.id).countNonzero();
      const free = l.owner.eq(0).countNonzero();
      return { name: l.spec.name, total: l.weight.numel, free, owned, sparse: freeWeightsAreZero(l) };
    }),
  );
  const tasks: TaskLedger[] = model.tasks.map((t) => {
    const ownedWeights = layers.reduce((n, l) => n + (l.owned[t.id] ?? 0), 0);
    const bnBytes = net.layers.reduce((n, l) => n + (l.norms.has(t.id) ? 4 * l.norm(t.id).weight.numel * F32 : 0), 0);
    const head = net.heads.get(t.id);
    const headBytes = head ? F32 * (head.weight.numel + (head.bias?.numel ?? 0)) : 0;
    const weightBytes = F32 * ownedWeights;
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
  const ownerBytes = MASK * totalWeights;
  const individual = individualBackbone(model);
  const backbone = model.tasks.length ? individual.bytes : 0;
  // An individual network keeps the same head as its task here (none, for identity tasks whose head was dropped).
  const headOf = (t: (typeof model.tasks)[number]): number =>
    t.head.dropped ? 0 : F32 * t.head.classes * (model.config.embedDim + (t.head.kind === 'linear' ? 1 : 0));
  const individualBytes = model.tasks.reduce((n, t) => n + backbone + headOf(t), 0);
  const storedWeightBytes = F32 * layers.reduce((n, l) => n + (l.sparse ? l.total - l.free : l.total), 0);
  const fileTensorBytes = storedWeightBytes + perTask + ownerBytes;
  return {
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
