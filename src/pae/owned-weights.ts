// The compact layout of a layer's weights in a *.pae file: only the weights some task owns, in row-major order of
// the owner map. Free weights are exactly 0 once a task ends, so the dense tensor is recovered bit for bit from the
// owner map; a pruned model stops paying 4 B for every weight it freed.

/** The owned weights (owner ≠ 0) of a dense layer, in row-major order. */
export function packOwned(weight: Float32Array, owner: Uint8Array): Float32Array {
  if (weight.length !== owner.length) throw new Error(`paenet: ${weight.length} weights but ${owner.length} owner tags`);
  let n = 0;
  for (let i = 0; i < owner.length; i++) if (owner[i] !== 0) n++;
  const out = new Float32Array(n);
  for (let i = 0, j = 0; i < owner.length; i++) if (owner[i] !== 0) out[j++] = weight[i]!;
  return out;
}

/**
 * The dense weights from the owned ones and the owner map (free weights 0). Returns a problem as text when the
 * counts disagree, so the caller can name the file it came from.
 */
export function unpackOwned(owned: Float32Array, owner: Uint8Array): Float32Array | string {
  let tagged = 0;
  for (const t of owner) if (t !== 0) tagged++;
  if (tagged !== owned.length) return `has ${owned.length} owned weights, its owner map tags ${tagged}`;
  const dense = new Float32Array(owner.length);
  for (let i = 0, j = 0; i < owner.length; i++) if (owner[i] !== 0) dense[i] = owned[j++]!;
  return dense;
}
