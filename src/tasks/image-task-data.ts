// TaskData over decoded images: shuffled, augmented batches from a worker thread, weighted cross-entropy.
import { BatchLoader, type AugmentOptions, type Shard } from '../data/index.ts';
import { F, tensor, tidy, world, type Tensor } from '../engine/index.ts';
import type { Batch, PackableNet, TaskData } from '../pae/index.ts';
import type { ImageSet } from './image-set.ts';

export interface ImageTaskDataOptions {
  train: ImageSet;
  /** @default 64 */ batchSize?: number;
  /** @default 0 */ seed?: number;
  /** Training augmentation (flip, crop/scale, jitter) or false. @default flip + small crop + jitter */
  augment?: AugmentOptions | false;
  /** The task's validation score (built by src/eval for the task's protocol). */
  validate: (net: PackableNet, task: number) => Promise<number>;
  /** Per-class loss weights (e.g. the paper's (N − n_c)/n_c for expression). */
  classWeights?: number[];
  /** @default 0 */ labelSmoothing?: number;
  /**
   * Data-parallel place of this process: each rank reads its slice of every global batch (`batchSize` per rank, so
   * the step sees batchSize × ranks images). @default the joined world's (one process: everything)
   */
  shard?: Shard;
}

/** The default training augmentation for 64×64 face crops. */
export const FACE_AUGMENT: AugmentOptions = { flipProb: 0.5, pad: 4, scale: [0.9, 1.1], brightness: 0.1, contrast: 0.1 };

export class ImageTaskData implements TaskData {
  readonly batchesPerEpoch: number;
  private readonly loader: BatchLoader;
  private readonly weights: Tensor | null;

  constructor(private readonly o: ImageTaskDataOptions) {
    const batchSize = o.batchSize ?? 64;
    const shard = o.shard ?? { rank: world().rank, size: world().size };
    this.loader = new BatchLoader(
      { pixels: o.train.pixels, labels: o.train.labels, size: o.train.size },
      {
        batchSize,
        seed: o.seed ?? 0,
        augment: o.augment ?? FACE_AUGMENT,
        dropLast: o.train.labels.length > batchSize * shard.size,
        shard,
      },
    );
    this.batchesPerEpoch = this.loader.batchesPerEpoch;
    this.weights = o.classWeights ? tensor(o.classWeights) : null;
  }

  async *batches(epoch: number): AsyncIterable<Batch> {
    const s = this.o.train.size;
    for await (const b of this.loader.epoch(epoch)) {
      yield { x: tensor(b.x, [b.n, 3, s, s]), y: tensor(b.y, [b.n], { dtype: 'int64' }) };
    }
  }

  validate(net: PackableNet, task: number): Promise<number> {
    return this.o.validate(net, task);
  }

  loss(net: PackableNet, task: number, b: Batch): Tensor {
    return tidy(() =>
      F.crossEntropy(net.forward(b.x, task, b.y), b.y, { weight: this.weights, labelSmoothing: this.o.labelSmoothing ?? 0 }),
    );
  }

  /** Stops the batch worker and frees the class weights. */
  close(): void {
    this.loader.close();
    this.weights?.dispose();
  }
}
