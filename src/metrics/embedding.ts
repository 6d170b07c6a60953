// Embedding helpers for verification: L2 normalisation, cosine distance, flip-concatenation, per-pair distances.

/**
 * Return `v / ||v||` as a new Float32Array. The norm is accumulated in float64 so long
 * embeddings do not lose precision.
 *
 * A zero vector stays zero: a face whose every feature is off (ReLU networks do that, more so once pruned) has no
 * direction, and comparing it must not stop an evaluation — it is at distance 1 from everything (see
 * {@link cosineDistance}), as the exported graph's clamped normalisation computes too.
 *
 * @throws if `v` has a non-finite norm.
 */
export function l2normalize(v: ArrayLike<number>): Float32Array {
  const n = norm(v);
  if (!Number.isFinite(n)) throw new Error(`l2normalize: vector norm is ${n}, cannot normalise`);
  const out = new Float32Array(v.length);
  if (n > 0) for (let i = 0; i < v.length; i++) out[i] = v[i]! / n;
  return out;
}

/**
 * Cosine distance `1 - a·b / (||a|| ||b||)`, in `[0, 2]`; 0 for identical directions; 1 (nothing in common) when
 * either input is zero. The inputs need not be normalised.
 *
 * @throws on length mismatch.
 */
export function cosineDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`cosineDistance: lengths differ (${a.length} vs ${b.length})`);
  return cosineAt(a, 0, b, 0, a.length);
}

function cosineAt(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, d: number): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let k = 0; k < d; k++) {
    const x = a[ao + k]!;
    const y = b[bo + k]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (!(na > 0) || !(nb > 0)) return 1;
  return 1 - dot / Math.sqrt(na * nb);
}

/**
 * Test-time flip augmentation, the one verification descriptor every path uses (calibration, the CLI, the API):
 * the image's embedding and its horizontal mirror's embedding, each L2-normalised, concatenated, and the whole
 * L2-normalised again. Normalising each half first makes the descriptor the same whether a runtime hands over raw
 * embeddings (the libtorch forward) or unit ones (the exported ONNX graph), and gives both views equal weight,
 * as FaceNet's LFW protocol does. The caller runs the network on both images.
 *
 * A zero half stays zero (see {@link l2normalize}).
 *
 * @throws if the two embeddings differ in length.
 */
export function flipConcatEmbedding(embedding: ArrayLike<number>, flippedEmbedding: ArrayLike<number>): Float32Array {
  const d = embedding.length;
  if (flippedEmbedding.length !== d) {
    throw new Error(`flipConcatEmbedding: lengths differ (${d} vs ${flippedEmbedding.length})`);
  }
  const cat = new Float64Array(2 * d);
  cat.set(l2normalize(embedding), 0);
  cat.set(l2normalize(flippedEmbedding), d);
  return l2normalize(cat);
}

/** Euclidean norm, accumulated in float64. */
function norm(v: ArrayLike<number>): number {
  let sq = 0;
  for (let i = 0; i < v.length; i++) sq += v[i]! * v[i]!;
  return Math.sqrt(sq);
}

/**
 * Cosine distance of rows `i` and `j` of one row-major embedding matrix with `dim` columns (the layout of a set's
 * embeddings, where a pairs list names its two images by row).
 *
 * @throws if a row lies outside the matrix (a zero row is at distance 1, as in {@link cosineDistance}).
 */
export function rowCosineDistance(m: ArrayLike<number>, dim: number, i: number, j: number): number {
  const rows = m.length / dim;
  if (!(i >= 0 && i < rows && j >= 0 && j < rows)) throw new Error(`rowCosineDistance: rows ${i}, ${j} of a ${rows}-row matrix`);
  return cosineAt(m, i * dim, m, j * dim, dim);
}

/**
 * Cosine distance of each pair, where pair `p` is row `p` of `left` against row `p` of `right`,
 * both row-major `[numPairs, dim]` (the layout a batched forward pass produces).
 *
 * @returns one distance per pair.
 * @throws if the buffers do not hold the same whole number of `dim`-sized rows.
 */
export function pairCosineDistances(left: Float32Array, right: Float32Array, dim: number): Float64Array {
  if (!Number.isInteger(dim) || dim < 1 || left.length % dim !== 0 || left.length !== right.length) {
    throw new Error(`pairCosineDistances: buffers of ${left.length} and ${right.length} are not [numPairs, ${dim}]`);
  }
  const numPairs = left.length / dim;
  const out = new Float64Array(numPairs);
  for (let p = 0; p < numPairs; p++) out[p] = cosineAt(left, p * dim, right, p * dim, dim);
  return out;
}
