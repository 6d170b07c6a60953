// Runs every task of a packed model on face crops: onnxruntime-node on the exported graph (default), or the
// libtorch forward (the fallback, and the reference the ONNX graph is checked against).
import * as ort from 'onnxruntime-node';
import type { PaeModel, TaskRecord } from '../pae/index.ts';
import { embedImages, predictProbabilities, unlabelledSet, type ImageSet } from '../tasks/index.ts';
import { exportOnnx, ONNX_INPUT } from './onnx/export-model.ts';
import { toNchw } from './onnx/parity.ts';

export type RuntimeKind = 'onnx' | 'libtorch';

/** One task's answer for one face. */
export type TaskAnswer =
  { kind: 'classify'; label: string; score: number; scores: Record<string, number> } | { kind: 'identity'; embedding: number[] };

export interface TaskRuntime {
  readonly kind: RuntimeKind;
  readonly tasks: TaskRecord[];
  /** Crops: HWC uint8 RGB at the model's input size. Returns per crop, per task name, the answer. */
  run(crops: Uint8Array[]): Promise<Record<string, TaskAnswer>[]>;
  dispose(): Promise<void>;
}

function answers(t: TaskRecord, rows: Float32Array, n: number): TaskAnswer[] {
  const width = rows.length / n;
  return Array.from({ length: n }, (_, i) => {
    const r = rows.subarray(i * width, (i + 1) * width);
    if (t.head.dropped) return { kind: 'identity' as const, embedding: Array.from(r) };
    let best = 0;
    for (let k = 1; k < r.length; k++) if (r[k]! > r[best]!) best = k;
    const scores = Object.fromEntries(Array.from(r, (v, k) => [t.labels[k] ?? String(k), v]));
    return { kind: 'classify' as const, label: t.labels[best] ?? String(best), score: r[best]!, scores };
  });
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
        const per = tasks.map((t) =>
          answers(t, t.head.dropped ? embedImages(model.net, t.id, set, false) : predictProbabilities(model.net, t.id, set), crops.length),
        );
        return crops.map((_, i) => Object.fromEntries(tasks.map((t, k) => [t.name, per[k]![i]!])));
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
      const set = asSet(crops, size);
      const out = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', toNchw(set), [crops.length, 3, size, size]) });
      const per = tasks.map((t) => answers(t, out[t.name]!.data as Float32Array, crops.length));
      return crops.map((_, i) => Object.fromEntries(tasks.map((t, k) => [t.name, per[k]![i]!])));
    },
    async dispose() {
      await session.release();
    },
  };
}
