// Runs every task of a packed model on face crops: onnxruntime-node on the exported graph (default), or the
// libtorch forward (the fallback, and the reference the ONNX graph is checked against).
import * as ort from 'onnxruntime-node';
import type { PaeModel, TaskRecord } from '../pae/index.ts';
import { answersPerCrop, unlabelledSet, type ImageSet, type TaskAnswer } from '../tasks/index.ts';
import { exportOnnx } from './onnx/export-model.ts';
import { runGraph, torchOutput } from './onnx/parity.ts';

export type RuntimeKind = 'onnx' | 'libtorch';

export interface TaskRuntime {
  readonly kind: RuntimeKind;
  readonly tasks: TaskRecord[];
  /** Crops: HWC uint8 RGB at the model's input size. Returns per crop, per task name, the answer. */
  run(crops: Uint8Array[]): Promise<Record<string, TaskAnswer>[]>;
  dispose(): Promise<void>;
}

function asSet(crops: Uint8Array[], size: number): ImageSet {
  const px = size * size * 3;
  const pixels = new Uint8Array(crops.length * px);
  crops.forEach((c, i) => {
    if (c.length !== px) throw new Error(`paenet: crop ${i} has ${c.length} bytes, expected ${px} (${size}×${size} RGB)`);
    pixels.set(c, i * px);
  });
  return unlabelledSet(pixels, size, 'crops');
}

/** A runtime for `tasks` (default: every task) of `model`; the model must outlive a libtorch runtime. */
export async function createRuntime(model: PaeModel, kind: RuntimeKind = 'onnx', taskNames?: string[]): Promise<TaskRuntime> {
  const tasks = (taskNames ?? model.tasks.map((t) => t.name)).map((n) => model.task(n));
  const size = model.config.inputSize;
  if (kind === 'libtorch') {
    return {
      kind,
      tasks,
      async run(crops) {
        const set = asSet(crops, size);
        return answersPerCrop(
          tasks,
          tasks.map((t) => torchOutput(model, t, set)),
          crops.length,
        );
      },
      async dispose() {},
    };
  }
  const { bytes } = exportOnnx(model, { tasks: tasks.map((t) => t.name) });
  const session = await ort.InferenceSession.create(bytes);
  return {
    kind,
    tasks,
    async run(crops) {
      if (crops.length === 0) return [];
      const out = await runGraph(session, asSet(crops, size));
      return answersPerCrop(
        tasks,
        tasks.map((t) => out[t.name]!.data as Float32Array),
        crops.length,
      );
    },
    async dispose() {
      await session.release();
    },
  };
}
