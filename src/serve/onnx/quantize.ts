// int8 export for onnxruntime: the fp32 graph of the chosen tasks, its conv chains padded to whole blocks of 16
// channels, its activation ranges calibrated on real crops, rewritten into QDQ form (int8 weights per output
// channel, uint8 activations per tensor) that onnxruntime fuses into QLinearConv / QGemm at session creation. The
// fp32 export is untouched: this builds its graph and goes on.
import type { PaeModel } from '../../pae/index.ts';
import type { ImageSet } from '../../tasks/index.ts';
import { alignChannels } from './align-channels.ts';
import { calibrateRanges } from './calibrate.ts';
import { buildOnnxGraph, producerOf, type ExportOptions, type OnnxInput } from './export-model.ts';
import { encodeModel, type OnnxValue } from './onnx-model.ts';
import { quantizeGraph } from './quantize-graph.ts';
import { planQuantization, type FloatRole, type OpRole } from './quantize-plan.ts';

/**
 * Roles left in float by default: the RGB stem and the class heads. Both read float values anyway (the pixels; the
 * pooled features), and int8 gains nothing there: on faceres-shaped tasks at batch 1 (onnxruntime-node, CPU) the
 * stem conv, with 3 input channels, ran 1.0–1.1× faster in int8, and QGemm was no faster than the float Gemm,
 * while a float stem and head add no rounding (bench/quantize.ts --keep-float measures the other choices).
 */
export const DEFAULT_FLOAT: readonly FloatRole[] = ['stem', 'head'];

export interface Int8Options {
  /** Calibration crops per input side: real faces (training images of the model's own data), ideally the same faces at every side. */
  calibration: ReadonlyMap<number, ImageSet>;
  /** Op roles to keep in float. @default DEFAULT_FLOAT */
  float?: readonly FloatRole[];
  /** Correct each int8 op's bias for the mean shift its weight rounding causes. @default true */
  biasCorrection?: boolean;
  /** Pad conv chains to multiples of 16 channels with zero filters (exact; see align-channels.ts). @default true */
  alignChannels?: boolean;
}

/** What the int8 graph records about itself (also its `quantization` metadata entry). */
export interface QuantizationInfo {
  weights: 'int8 symmetric per output channel';
  activations: 'uint8 per tensor';
  calibration: { method: 'min-max'; images: number };
  /** Ops run in int8, by role. */
  int8: Partial<Record<OpRole, number>>;
  float: FloatRole[];
}

/** The int8 (QDQ) ONNX bytes of `o.tasks` (default: every task), inputs and outputs as the fp32 export's. */
export async function exportOnnxInt8(
  model: PaeModel,
  o: ExportOptions & Int8Options,
): Promise<{ bytes: Uint8Array; outputs: OnnxValue[]; inputs: OnnxInput[]; quantization: QuantizationInfo }> {
  const built = buildOnnxGraph(model, o);
  const { outputs, inputs, metadata } = built;
  const graph = o.alignChannels === false ? built.graph : alignChannels(built.graph);
  const float = [...(o.float ?? DEFAULT_FLOAT)];
  const plan = planQuantization(graph, new Set(float));
  const { ranges, means, images } = await calibrateRanges(
    graph,
    plan.tensors.filter((t) => !plan.shared.has(t)),
    o.calibration,
    o.biasCorrection === false ? [] : plan.ops.map((op) => op.node.inputs[0]!),
  );
  const int8: Partial<Record<OpRole, number>> = {};
  for (const op of plan.ops) int8[op.role] = (int8[op.role] ?? 0) + 1;
  const quantization: QuantizationInfo = {
    weights: 'int8 symmetric per output channel',
    activations: 'uint8 per tensor',
    calibration: { method: 'min-max', images },
    int8,
    float,
  };
  const bytes = encodeModel(quantizeGraph(graph, plan, ranges, means), producerOf(o), {
    ...metadata,
    quantization: JSON.stringify(quantization),
  });
  return { bytes, outputs, inputs, quantization };
}
