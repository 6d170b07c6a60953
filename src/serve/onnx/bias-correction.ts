// Bias correction (Nagel et al., "Data-Free Quantization", 2019): rounding a channel's weights to int8 shifts that
// channel's mean output by Σ (w_int8·s − w)·E[x]; subtracting the shift from the bias cancels it. MobileNet's
// depthwise convs (nine weights per channel, BatchNorm scales folded in) are where the shift is largest; E[x] per
// input channel comes from the calibration run.

/**
 * The corrected bias of a Conv (weights [O, I/group, k, k]) or a Gemm (weights [N, K], transB = 1): bias −
 * alpha · Σ_j (dequantized − float weight)[o, j] · mean[input channel of j].
 */
export function correctedBias(
  bias: Float32Array,
  w: Float32Array,
  wq: Int8Array,
  scale: Float32Array,
  dims: number[],
  mean: Float64Array,
  group = 1,
  alpha = 1,
): Float32Array {
  const out = dims[0]!;
  const perOut = w.length / out;
  const spatial = dims.slice(2).reduce((a, b) => a * b, 1);
  const inPerGroup = dims[1]!;
  const outPerGroup = out / group;
  const corrected = Float32Array.from(bias);
  for (let o = 0; o < out; o++) {
    const first = Math.floor(o / outPerGroup) * inPerGroup;
    let shift = 0;
    for (let j = 0; j < perOut; j++) {
      const k = o * perOut + j;
      shift += (wq[k]! * scale[o]! - w[k]!) * mean[first + Math.floor(j / spatial)]!;
    }
    corrected[o] = bias[o]! - alpha * shift;
  }
  return corrected;
}
