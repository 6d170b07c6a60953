// TaskData that retrains a task to reproduce a frozen teacher's embeddings (pruning a pretrained net without labels).
import { BatchLoader, type Shard } from '../data/index.ts';
import { F, noGrad, tensor, tidy, world, type Tensor } from '../engine/index.ts';
import type { Batch, PackableNet, TaskData } from '../pae/index.ts';
import type { ImageSet } from './image-set.ts';

export interface DistillTaskDataOptions {
  /** Face images (labels are not used). */
  images: ImageSet;
  /** The unpruned network; computes `teacherTask`'s embedding of every batch. Owned by the caller. */
  teacher: PackableNet;
  teacherTask: number;
  validate: (net: PackableNet, task: number) => Promise<number>;
  /** @default 32 */ batchSize?: number;
  /** @default 0 */ seed?: number;
  /** Data-parallel place of this process (`batchSize` per rank). @default the joined world's */
  shard?: Shard;
}

/**
 * Loss = mean cosine distance between the student's and the teacher's embedding of the same (augmented) batch.
 * Verification compares embeddings by angle, so matching the direction is what keeps accuracy; the teacher runs
 * on the very batch the student sees, so augmentation needs no stored targets.
 */
export class DistillTaskData implements TaskData {
  readonly batchesPerEpoch: number;
  private readonly loader: BatchLoader;

  constructor(private readonly o: DistillTaskDataOptions) {
    const batchSize = o.batchSize ?? 32;
    const shard = o.shard ?? { rank: world().rank, size: world().size };
    this.loader = new BatchLoader(
      { pixels: o.images.pixels, labels: o.images.labels, size: o.images.size },
      // Flip and a small shift only: the teacher's embedding is the target, so heavy jitter would only add noise.
      {
        batchSize,
        seed: o.seed ?? 0,
        augment: { flipProb: 0.5, pad: 4, scale: [1, 1], brightness: 0.05, contrast: 0.05 },
        dropLast: o.images.labels.length > batchSize * shard.size,
        shard,
      },
    );
    this.batchesPerEpoch = this.loader.batchesPerEpoch;
  }

  async *batches(epoch: number): AsyncIterable<Batch> {
    const s = this.o.images.size;
    for await (const b of this.loader.epoch(epoch)) {
      yield { x: tensor(b.x, [b.n, 3, s, s]), y: tensor(b.y, [b.n], { dtype: 'int64' }) };
    }
  }

  validate(net: PackableNet, task: number): Promise<number> {
    return this.o.validate(net, task);
  }

  loss(net: PackableNet, task: number, b: Batch): Tensor {
    return tidy(() => {
      const target = noGrad(() => F.l2Normalize(this.o.teacher.embed(b.x, this.o.teacherTask)).detach());
      const student = F.l2Normalize(net.embed(b.x, task));
      return student.mul(target).sum([1]).neg().add(1).mean();
    });
  }

  close(): void {
    this.loader.close();
  }
}
