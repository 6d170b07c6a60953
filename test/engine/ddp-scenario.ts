// The data-parallel test scenarios: one small task on the tiny backbone, trained (trainTask) or packed with one
// pruning step (packTask), by N ranks or by one process. Shared by the rank processes (ddp-rank.ts) and the
// one-process reference in distributed.test.ts, so both run exactly the same code but for the world they are in.
import { mulberry32 } from '../../src/data/index.ts';
import { manualSeed, noGrad, tidy, type Tensor } from '../../src/engine/index.ts';
import { openFree } from '../../src/pae/ownership.ts';
import { PackableNet } from '../../src/pae/network.ts';
import { packTask } from '../../src/pae/strategy.ts';
import { stateTensors } from '../../src/pae/state-dict.ts';
import { defaultLoss, trainTask } from '../../src/pae/trainer.ts';
import { DEFAULT_PRUNE, DEFAULT_TRAIN, type TrainConfig } from '../../src/pae/train-config.ts';
import type { Batch, TaskData } from '../../src/pae/task-data.ts';
import { classificationValidator } from '../../src/tasks/evaluate.ts';
import type { ImageSet } from '../../src/tasks/image-set.ts';
import { ImageTaskData } from '../../src/tasks/image-task-data.ts';
import { tinyConfig } from '../pae/helpers.ts';

export type Scenario = 'train' | 'pack';

/** What a run ends with: the task's whole state by name (values as numbers), and the cycle's choices. */
export interface Outcome {
  state: Record<string, number[]>;
  accuracies: number[];
  decisions?: string[];
  records?: { ratio: number; realised: number; accuracy: number }[];
  ratio?: number;
  ownedWeights?: number;
}

const SIZE = 16;
const CLASSES = 4;

/** Labelled 16×16 images: the class is the bright quadrant, on seeded noise (uint8 RGB HWC, as decoded sets are). */
function imageSet(n: number, seed: number): ImageSet {
  const rng = mulberry32(seed);
  const pixels = new Uint8Array(n * SIZE * SIZE * 3);
  const labels = new Int32Array(n);
  const h = SIZE / 2;
  for (let i = 0; i < n; i++) {
    const c = i % CLASSES;
    labels[i] = c;
    for (let r = 0; r < SIZE; r++)
      for (let col = 0; col < SIZE; col++)
        for (let ch = 0; ch < 3; ch++) {
          const on = (r < h ? 0 : 2) + (col < h ? 0 : 1) === c;
          pixels[((i * SIZE + r) * SIZE + col) * 3 + ch] = Math.round(60 + 60 * rng.next() + (on ? 110 : 0));
        }
  }
  return {
    source: 'synthetic',
    pixels,
    labels,
    classNames: ['a', 'b', 'c', 'd'],
    size: SIZE,
    paths: [],
    skipped: { empty: 0, negative: 0, badImages: 0 },
  };
}

/** SGD: its step is linear in the gradient, so the comparison measures the averaging, not Adam's 1/√v amplification. */
export const TRAIN: TrainConfig = { ...DEFAULT_TRAIN, optimizer: 'sgd', lr: 0.05, momentum: 0.9, epochs: 2, patience: 100 };

/**
 * The reference for N ranks in one process: each global batch is cut into the ranks' slices, each slice normalised
 * by its own BN statistics (what every rank computes, without SyncBN) and the slice losses averaged, which averages
 * their gradients as the allreduce does. BN running statistics follow the first slice only: rank 0's, which every
 * rank receives before validation.
 */
class AsRanks implements TaskData {
  constructor(
    private readonly inner: ImageTaskData,
    private readonly ranks: number,
  ) {}
  get batchesPerEpoch(): number {
    return this.inner.batchesPerEpoch;
  }
  batches(epoch: number): AsyncIterable<Batch> {
    return this.inner.batches(epoch);
  }
  validate(net: PackableNet, task: number): Promise<number> {
    return this.inner.validate(net, task);
  }
  loss(net: PackableNet, task: number, b: Batch): Tensor {
    return tidy(() => {
      const per = b.x.shape[0]! / this.ranks;
      const norms = net.layers.map((l) => l.norm(task));
      let total: Tensor | null = null;
      for (let r = 0; r < this.ranks; r++) {
        // Slices after the first update throw-away copies of the statistics (the graph keeps them for backward; the
        // originals must not change in place, autograd saved them too).
        const own = norms.map((n) => ({ mean: n.runningMean, variance: n.runningVar }));
        if (r > 0)
          noGrad(() =>
            norms.forEach((n) => {
              n.runningMean = n.runningMean.clone();
              n.runningVar = n.runningVar.clone();
            }),
          );
        const l = defaultLoss(net, task, { x: b.x.narrow(0, r * per, per), y: b.y.narrow(0, r * per, per) });
        norms.forEach((n, k) => {
          n.runningMean = own[k]!.mean;
          n.runningVar = own[k]!.variance;
        });
        total = total ? total.add(l) : l;
      }
      return total!.div(this.ranks);
    });
  }
}

/**
 * Runs `scenario` with `batch` images per rank in the current world; `asRanks` > 1 (one process only) emulates that
 * many ranks' arithmetic on batches of batch × asRanks.
 */
export async function runScenario(scenario: Scenario, batch: number, asRanks = 1): Promise<Outcome> {
  const train = imageSet(96, 11);
  const val = imageSet(48, 12);
  const images = new ImageTaskData({ train, validate: classificationValidator(val), batchSize: batch * asRanks, seed: 3 });
  const data = asRanks > 1 ? new AsRanks(images, asRanks) : images;
  manualSeed(7);
  const net = PackableNet.create(tinyConfig());
  const head = { kind: 'linear' as const, classes: CLASSES };
  try {
    if (scenario === 'train') {
      net.addTaskSlot(1, 'cumulative', head);
      openFree(net, 1);
      const r = await trainTask(net, 1, data, TRAIN);
      return { state: stateOf(net), accuracies: r.history.map((h) => h.accuracy) };
    }
    const prune = { ...DEFAULT_PRUNE, ratios: [0.5], epochsPerStep: 1, rampEpochs: 1, frequency: 1, lr: 0.01 };
    const r = await packTask(net, 1, head, data, { train: TRAIN, prune, goal: null, maxExpansions: 0 });
    return {
      state: stateOf(net),
      accuracies: r.train.history.map((h) => h.accuracy),
      decisions: r.decisions,
      records: r.records,
      ratio: r.ratio,
      ownedWeights: r.ownedWeights,
    };
  } finally {
    images.close();
    net.dispose();
  }
}

function stateOf(net: PackableNet): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [name, t] of stateTensors(net, [1])) out[name] = t.toArray();
  return out;
}
