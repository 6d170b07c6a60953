// Batched inference of one task over decoded images: class scores or (flip-augmented) embeddings.
import { evalInto } from '../data/index.ts';
import { F, noGrad, tensor, tidy, type Tensor } from '../engine/index.ts';
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
 * L2-normalised embeddings [n × D] of task `task`. With `withFlip`, each row is the normalised concatenation
 * of the image's and its mirror's embeddings (the LFW protocol's image ⊕ flip), so D = 2·embedDim.
 */
export function embedImages(net: PackableNet, task: number, set: ImageSet, withFlip = true, batch = 128): Float32Array {
  const d = net.config.embedDim;
  const plain = mapBatches(set, batch, false, d, (x) => net.embed(x, task));
  if (!withFlip) return normaliseRows(plain, d);
  const mirrored = mapBatches(set, batch, true, d, (x) => net.embed(x, task));
  const n = set.labels.length;
  const out = new Float32Array(n * 2 * d);
  for (let i = 0; i < n; i++) {
    out.set(plain.subarray(i * d, (i + 1) * d), i * 2 * d);
    out.set(mirrored.subarray(i * d, (i + 1) * d), i * 2 * d + d);
  }
  return normaliseRows(out, 2 * d);
}

function normaliseRows(m: Float32Array, d: number): Float32Array {
  for (let r = 0; r < m.length / d; r++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += m[r * d + j]! ** 2;
    const k = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let j = 0; j < d; j++) m[r * d + j]! *= k;
  }
  return m;
}

/** Cosine distance 1 − a·b of unit rows i and j of an embedding matrix. */
export function rowCosineDistance(m: Float32Array, d: number, i: number, j: number): number {
  let dot = 0;
  for (let k = 0; k < d; k++) dot += m[i * d + k]! * m[j * d + k]!;
  return 1 - dot;
}
