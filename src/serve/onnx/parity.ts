// Checks an exported graph against the libtorch forward it came from: the max |difference| per task output, each
// task fed probe crops at its own input size.
import * as ort from 'onnxruntime-node';
import type { PaeModel, TaskRecord } from '../../pae/index.ts';
import { embedImages, predictProbabilities, unlabelledSet, type ImageSet } from '../../tasks/index.ts';

/** Deterministic pseudo-random crops (the check needs inputs, not faces). */
export function probeImages(n: number, size: number, seed = 12345): ImageSet {
  const pixels = new Uint8Array(n * size * size * 3);
  let s = seed >>> 0;
  for (let i = 0; i < pixels.length; i++) pixels[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
  return unlabelledSet(pixels, size, 'probe');
}

/** `n` probe crops at each side in `sizes`: the same faces (by index) at every size, as a runtime receives them. */
export function probeSets(sizes: Iterable<number>, n = 6): Map<number, ImageSet> {
  return new Map([...new Set(sizes)].map((s) => [s, probeImages(n, s)]));
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

/**
 * The side each input of a loaded graph takes, by input name, read from the graph itself ([batch, 3, S, S]), so a
 * graph is fed right whichever tasks it was exported with.
 */
export function graphInputSizes(session: ort.InferenceSession): Map<string, number> {
  return new Map(
    session.inputMetadata.map((m) => {
      const side = m.isTensor ? m.shape[2] : undefined;
      if (typeof side !== 'number' || !m.isTensor || m.shape[3] !== side)
        throw new Error(`paenet: the ONNX graph's input '${m.name}' is not [batch, 3, S, S] crops`);
      return [m.name, side];
    }),
  );
}

/** The exported graph's outputs on crops: every graph input is fed the set of its side (`sets`: side → crops). */
export async function runGraph(
  session: ort.InferenceSession,
  sets: ReadonlyMap<number, ImageSet>,
): Promise<ort.InferenceSession.ReturnType> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, s] of graphInputSizes(session)) {
    const set = sets.get(s);
    if (!set) throw new Error(`paenet: no crops at ${s}×${s} for the ONNX graph's input '${name}'`);
    feeds[name] = new ort.Tensor('float32', toNchw(set), [set.labels.length, 3, s, s]);
  }
  return session.run(feeds);
}

/** The libtorch forward of task `t` on a set: class probabilities, or the unit embedding of an identity task. */
export function torchOutput(model: PaeModel, t: TaskRecord, set: ImageSet): Float32Array {
  return t.head.dropped ? embedImages(model.net, t.id, set, false) : predictProbabilities(model.net, t.id, set);
}

/**
 * Runs the graph and the model on the same crops; returns max |onnx − libtorch| per exported task. `sets` (side →
 * crops, the same faces at every side) defaults to probe crops at every side the graph and the tasks take.
 */
export async function onnxParity(
  model: PaeModel,
  bytes: Uint8Array,
  tasks: string[],
  sets?: ReadonlyMap<number, ImageSet>,
): Promise<Record<string, number>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const probes = sets ?? probeSets([...graphInputSizes(session).values(), ...tasks.map((n) => model.inputSizeOf(n))]);
    const result = await runGraph(session, probes);
    const out: Record<string, number> = {};
    for (const name of tasks) {
      const t = model.task(name);
      const set = probes.get(model.inputSizeOf(t));
      if (!set) throw new Error(`paenet: no crops at task '${name}''s input size ${model.inputSizeOf(t)}`);
      const ours = torchOutput(model, t, set);
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

/** How far one graph's output is from another's on the same crops. */
export interface OutputAgreement {
  /** Largest |b − a| over every value. */
  maxAbsDiff: number;
  /** Smallest cosine between a row (one face's output) of a and the same row of b. */
  minCosine: number;
}

/**
 * Runs two graphs with the same inputs and outputs (an fp32 export and its int8 form) on the same crops; returns,
 * per output of `a`, how far `b` is from it.
 */
export async function graphAgreement(
  a: Uint8Array,
  b: Uint8Array,
  sets: ReadonlyMap<number, ImageSet>,
): Promise<Record<string, OutputAgreement>> {
  const run = async (bytes: Uint8Array): Promise<ort.InferenceSession.ReturnType> => {
    const session = await ort.InferenceSession.create(bytes);
    try {
      return await runGraph(session, sets);
    } finally {
      await session.release();
    }
  };
  const [x, y] = [await run(a), await run(b)];
  const out: Record<string, OutputAgreement> = {};
  for (const [name, t] of Object.entries(x)) {
    const [u, v] = [t.data as Float32Array, y[name]?.data as Float32Array | undefined];
    if (!v || v.length !== u.length) throw new Error(`paenet: the two graphs' outputs '${name}' differ in size`);
    const width = Number(t.dims[1] ?? 1);
    let maxAbsDiff = 0;
    let minCosine = 1;
    for (let r = 0; r < u.length / width; r++) {
      let [dot, uu, vv] = [0, 0, 0];
      for (let j = r * width; j < (r + 1) * width; j++) {
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(u[j]! - v[j]!));
        [dot, uu, vv] = [dot + u[j]! * v[j]!, uu + u[j]! ** 2, vv + v[j]! ** 2];
      }
      minCosine = Math.min(minCosine, dot / Math.max(Math.sqrt(uu * vv), 1e-30));
    }
    out[name] = { maxAbsDiff, minCosine };
  }
  return out;
}
