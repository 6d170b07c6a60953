// The evaluation protocols of src/tasks/evaluate.ts run on an ONNX graph instead of the libtorch forward: top-1 of
// a classify output, and LFW 10-fold verification of an embedding output with the image ⊕ mirror descriptor. The
// metric functions are the project's own (src/metrics), so an fp32 graph scores what the model scores.
import type * as ort from 'onnxruntime-node';
import { accuracy, argmaxRows } from '../../metrics/classification.ts';
import { evaluateVerification, flipConcatEmbedding, rowCosineDistance } from '../../metrics/verification.ts';
import { unlabelledSet, type ImageSet, type PairSet } from '../../tasks/index.ts';
import { runGraph } from './parity.ts';

/** A single-input graph's output `name` on every crop of a set, `batch` crops a run. */
export async function graphOutputs(session: ort.InferenceSession, name: string, set: ImageSet, batch = 32): Promise<Float32Array> {
  const px = set.size * set.size * 3;
  const parts: Float32Array[] = [];
  for (let s = 0; s < set.labels.length; s += batch) {
    const n = Math.min(batch, set.labels.length - s);
    const out = await runGraph(
      session,
      new Map([[set.size, unlabelledSet(set.pixels.subarray(s * px, (s + n) * px), set.size, set.source)]]),
    );
    parts.push(out[name]!.data as Float32Array);
  }
  const all = new Float32Array(parts.reduce((k, p) => k + p.length, 0));
  parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
  return all;
}

/** Top-1 accuracy of a classify output on a labelled set, and the predicted classes. */
export async function graphTop1(
  session: ort.InferenceSession,
  name: string,
  set: ImageSet,
  classes: number,
  batch = 32,
): Promise<{ value: number; predictions: Int32Array }> {
  const predictions = argmaxRows(await graphOutputs(session, name, set, batch), set.labels.length, classes);
  return { value: accuracy(predictions, set.labels), predictions };
}

/** The set with every crop mirrored left-right (the verification descriptor's second view). */
export function mirrored(set: ImageSet): ImageSet {
  const { size } = set;
  const pixels = new Uint8Array(set.pixels.length);
  for (let row = 0; row < pixels.length / (size * 3); row++)
    for (let x = 0; x < size; x++)
      pixels.set(set.pixels.subarray((row * size + x) * 3, (row * size + x + 1) * 3), (row * size + size - 1 - x) * 3);
  return { ...set, pixels };
}

/** Cosine distance of every pair, descriptors image ⊕ mirror (as src/tasks/evaluate.ts's pairDistances). */
export async function graphPairDistances(session: ort.InferenceSession, name: string, pairs: PairSet, batch = 32): Promise<Float64Array> {
  const plain = await graphOutputs(session, name, pairs.images, batch);
  const flipped = await graphOutputs(session, name, mirrored(pairs.images), batch);
  const n = pairs.images.labels.length;
  const d = plain.length / n;
  const emb = new Float32Array(2 * plain.length);
  for (let i = 0; i < n; i++)
    emb.set(flipConcatEmbedding(plain.subarray(i * d, (i + 1) * d), flipped.subarray(i * d, (i + 1) * d)), i * 2 * d);
  return Float64Array.from(pairs.a, (ia, k) => rowCosineDistance(emb, 2 * d, ia, pairs.b[k]!));
}

/** Mean 10-fold verification accuracy (folds as the pairs file gives them) of an embedding output. */
export async function graphVerification(session: ort.InferenceSession, name: string, pairs: PairSet, batch = 32): Promise<number> {
  const distances = await graphPairDistances(session, name, pairs, batch);
  return evaluateVerification(
    distances,
    pairs.pairs.pairs.map((p) => p.same),
    Int32Array.from(pairs.pairs.pairs, (p) => p.fold),
  ).summary.mean;
}
