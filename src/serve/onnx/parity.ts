// Checks an exported graph against the libtorch forward it came from: the max |difference| per task output.
import * as ort from 'onnxruntime-node';
import type { PaeModel, TaskRecord } from '../../pae/index.ts';
import { embedImages, predictProbabilities, unlabelledSet, type ImageSet } from '../../tasks/index.ts';
import { ONNX_INPUT } from './export-model.ts';

/** Deterministic pseudo-random crops (the check needs inputs, not faces). */
export function probeImages(n: number, size: number, seed = 12345): ImageSet {
  const pixels = new Uint8Array(n * size * size * 3);
  let s = seed >>> 0;
  for (let i = 0; i < pixels.length; i++) pixels[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
  return unlabelledSet(pixels, size, 'probe');
}

/** NCHW float 0..255 from HWC uint8 crops: what the exported graph takes. */
export function toNchw(set: ImageSet): Float32Array {
  const { size } = set;
  const n = set.labels.length;
  const plane = size * size;
  const out = new Float32Array(n * 3 * plane);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[(i * 3 + c) * plane + p] = set.pixels[(i * plane + p) * 3 + c]!;
  return out;
}

/** The exported graph's outputs on a set of crops. */
export function runGraph(session: ort.InferenceSession, set: ImageSet): Promise<ort.InferenceSession.ReturnType> {
  const s = set.size;
  return session.run({ [ONNX_INPUT]: new ort.Tensor('float32', toNchw(set), [set.labels.length, 3, s, s]) });
}

/** The libtorch forward of task `t` on a set: class probabilities, or the unit embedding of an identity task. */
export function torchOutput(model: PaeModel, t: TaskRecord, set: ImageSet): Float32Array {
  return t.head.dropped ? embedImages(model.net, t.id, set, false) : predictProbabilities(model.net, t.id, set);
}

/** Runs the graph and the model on the same crops; returns max |onnx − libtorch| per exported task. */
export async function onnxParity(
  model: PaeModel,
  bytes: Uint8Array,
  tasks: string[],
  set: ImageSet = probeImages(6, model.config.inputSize),
): Promise<Record<string, number>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const result = await runGraph(session, set);
    const out: Record<string, number> = {};
    for (const name of tasks) {
      const ours = torchOutput(model, model.task(name), set);
      const theirs = result[name]?.data as Float32Array | undefined;
      if (!theirs || theirs.length !== ours.length) throw new Error(`paenet: the ONNX graph's output '${name}' has the wrong size`);
      let worst = 0;
      for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - theirs[i]!));
      out[name] = worst;
    }
    return out;
  } finally {
    await session.release();
  }
}
