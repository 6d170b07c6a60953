// Batched inference of one task over decoded images: class scores or (flip-augmented) embeddings.
import { evalInto } from '../data/index.ts';
import { F, noGrad, tensor, tidy, type Tensor } from '../engine/index.ts';
import { flipConcatEmbedding, l2normalize } from '../metrics/embedding.ts';
import type { PackableNet } from '../pae/index.ts';
import type { ImageSet } from './image-set.ts';

/** Runs `fn` over eval batches (no augmentation; mirrored when `flip`), concatenating its rows. */
function mapBatches(set: ImageSet, batch: number, flip: boolean, width: number, fn: (x: Tensor) => Tensor): Float32Array {
  const n = set.labels.length;
  const out = new Float32Array(n * width);
  const px = set.size * set.size * 3;
  for (let start = 0; start < n; start += batch) {
    const count = Math.min(batch, n - start);
    const x = new Float32Array(count * px);
    evalInto(
      set.pixels,
      Array.from({ length: count }, (_, i) => start + i),
      set.size,
      x,
      flip,
    );
    const rows = noGrad(() =>
      tidy(
        () =>
          fn(tensor(x, [count, 3, set.size, set.size]))
            .contiguous()
            .data() as Float32Array,
      ),
    );
    out.set(rows, start * width);
  }
  return out;
}

/** Softmax class probabilities [n × classes] of task `task`. */
export function predictProbabilities(net: PackableNet, task: number, set: ImageSet, batch = 128): Float32Array {
  const classes = net.slot(task).head.classes;
  return mapBatches(set, batch, false, classes, (x) => F.softmax(net.forward(x, task), 1));
}

/**
 * L2-normalised embeddings [n × D] of task `task`. With `withFlip`, each row is the verification descriptor of
 * image ⊕ mirror ({@link flipConcatEmbedding}, the LFW protocol), so D = 2·embedDim.
 */
export function embedImages(net: PackableNet, task: number, set: ImageSet, withFlip = true, batch = 128): Float32Array {
  const d = net.config.embedDim;
  const n = set.labels.length;
  const plain = mapBatches(set, batch, false, d, (x) => net.embed(x, task));
  const row = (m: Float32Array, i: number): Float32Array => m.subarray(i * d, (i + 1) * d);
  if (!withFlip) {
    for (let i = 0; i < n; i++) plain.set(l2normalize(row(plain, i)), i * d);
    return plain;
  }
  const mirrored = mapBatches(set, batch, true, d, (x) => net.embed(x, task));
  const out = new Float32Array(n * 2 * d);
  for (let i = 0; i < n; i++) out.set(flipConcatEmbedding(row(plain, i), row(mirrored, i)), i * 2 * d);
  return out;
}
