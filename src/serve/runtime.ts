// Runs every task of a packed model on face crops: onnxruntime-node on the exported graph (default; fp32, or the
// int8 graph calibrated on crops the caller gives), or the libtorch forward (the fallback, and the reference the
// ONNX graph is checked against). Each task may take its own input size, so a face comes as crops at every size
// the runtime's tasks need.
import * as ort from 'onnxruntime-node';
import type { PaeModel, TaskRecord } from '../pae/index.ts';
import { answersPerCrop, unlabelledSet, type ImageSet, type TaskAnswer } from '../tasks/index.ts';
import { exportOnnx } from './onnx/export-model.ts';
import { runGraph, torchOutput } from './onnx/parity.ts';
import { exportOnnxInt8, type Int8Options } from './onnx/quantize.ts';

export type RuntimeKind = 'onnx' | 'libtorch';

/** One face's crops: side in pixels → HWC uint8 RGB crop of that side (sides no task needs are ignored). */
export type FaceCrops = ReadonlyMap<number, Uint8Array>;

export interface TaskRuntime {
  readonly kind: RuntimeKind;
  readonly tasks: TaskRecord[];
  /** The distinct crop sides its tasks take (largest first): every face passed to `run` needs a crop at each. */
  readonly sizes: number[];
  /** Per face, its crops; returns per face, per task name, the answer. */
  run(faces: readonly FaceCrops[]): Promise<Record<string, TaskAnswer>[]>;
  dispose(): Promise<void>;
}

/** A face's crops when every task takes one side: `crop` at `size`. */
export function cropsAt(size: number, crop: Uint8Array): FaceCrops {
  return new Map([[size, crop]]);
}

/** The faces' crops of one side, packed as one image set; a missing crop or a wrong byte count says which face. */
function setOf(faces: readonly FaceCrops[], size: number): ImageSet {
  const px = size * size * 3;
  const pixels = new Uint8Array(faces.length * px);
  faces.forEach((f, i) => {
    const c = f.get(size);
    if (!c) throw new Error(`paenet: face ${i} has no ${size}×${size} crop (its crops: ${[...f.keys()].join(', ') || 'none'} px)`);
    if (c.length !== px) throw new Error(`paenet: face ${i}'s ${size}-px crop has ${c.length} bytes, expected ${px} (${size}×${size} RGB)`);
    pixels.set(c, i * px);
  });
  return unlabelledSet(pixels, size, 'crops');
}

/** One image set per side the tasks take. */
function setsOf(faces: readonly FaceCrops[], sizes: readonly number[]): Map<number, ImageSet> {
  return new Map(sizes.map((s) => [s, setOf(faces, s)]));
}

export interface RuntimeOptions {
  /** Run the int8 graph (onnx only), calibrated on these crops (side → crops; see exportOnnxInt8). */
  int8?: Int8Options;
  /** onnxruntime's intra-op threads (onnx only). @default onnxruntime's own: one per physical core */
  threads?: number;
}

/** A runtime for `tasks` (default: every task) of `model`; the model must outlive a libtorch runtime. */
export async function createRuntime(
  model: PaeModel,
  kind: RuntimeKind = 'onnx',
  taskNames?: string[],
  o: RuntimeOptions = {},
): Promise<TaskRuntime> {
  const tasks = (taskNames ?? model.tasks.map((t) => t.name)).map((n) => model.task(n));
  const sizes = [...new Set(tasks.map((t) => model.inputSizeOf(t)))].sort((a, b) => b - a);
  if (kind === 'libtorch' && o.int8) throw new Error('paenet: int8 runs on the onnx runtime only (libtorch serves fp32)');
  if (kind === 'libtorch') {
    return {
      kind,
      tasks,
      sizes,
      async run(faces) {
        const sets = setsOf(faces, sizes);
        return answersPerCrop(
          tasks,
          tasks.map((t) => torchOutput(model, t, sets.get(model.inputSizeOf(t))!)),
          faces.length,
        );
      },
      async dispose() {},
    };
  }
  const names = tasks.map((t) => t.name);
  const { bytes } = o.int8 ? await exportOnnxInt8(model, { ...o.int8, tasks: names }) : exportOnnx(model, { tasks: names });
  const session = await ort.InferenceSession.create(bytes, o.threads ? { intraOpNumThreads: o.threads } : {});
  return {
    kind,
    tasks,
    sizes,
    async run(faces) {
      if (faces.length === 0) return [];
      const out = await runGraph(session, setsOf(faces, sizes));
      return answersPerCrop(
        tasks,
        tasks.map((t) => out[t.name]!.data as Float32Array),
        faces.length,
      );
    },
    async dispose() {
      await session.release();
    },
  };
}
