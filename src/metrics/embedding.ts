// Embedding helpers for verification: L2 normalisation, cosine distance, flip-concatenation, per-pair distances.

/**
 * Return `v / ||v||` as a new Float32Array. The norm is accumulated in float64 so long
 * embeddings do not lose precision.
 *
 * @throws if `v` has zero or non-finite norm (such a vector has no direction to compare).
 */
export function l2normalize(v: ArrayLike<number>): Float32Array {
  let sq = 0;
  for (let i = 0; i < v.length; i++) sq += v[i]! * v[i]!;
  const norm = Math.sqrt(sq);
  if (!(norm > 0) || !Number.isFinite(norm)) throw new Error(`l2normalize: vector norm is ${norm}, cannot normalise`);
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / norm;
  return out;
}

/**
 * Cosine distance `1 - a·b / (||a|| ||b||)`, in `[0, 2]`; 0 for identical directions.
 * The inputs need not be normalised.
 *
 * @throws on length mismatch or a zero-norm input.
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
  if (!(na > 0) || !(nb > 0)) throw new Error('cosineDistance: zero-norm embedding');
  return 1 - dot / Math.sqrt(na * nb);
}

/**
 * Test-time flip augmentation: the descriptor of an image is the concatenation of its embedding and the
 * embedding of its horizontal mirror, L2-normalised as one vector. The caller runs the network on both images.
 *
 * @throws if the two embeddings differ in length or their concatenation has zero norm.
 */
export function flipConcatEmbedding(embedding: ArrayLike<number>, flippedEmbedding: ArrayLike<number>): Float32Array {
  const d = embedding.length;
  if (flippedEmbedding.length !== d) {
    throw new Error(`flipConcatEmbedding: lengths differ (${d} vs ${flippedEmbedding.length})`);
  }
  const cat = new Float64Array(2 * d);
  for (let i = 0; i < d; i++) {
    cat[i] = embedding[i]!;
    cat[d + i] = flippedEmbedding[i]!;
  }
  return l2normalize(cat);
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
