// Runs every task of a packed model on face crops: onnxruntime-node on the exported graph (default), or the
// libtorch forward (the fallback, and the reference the ONNX graph is checked against).
import * as ort from 'onnxruntime-node';
import type { PaeModel, TaskRecord } from '../pae/index.ts';
import { unlabelledSet, type ImageSet } from '../tasks/index.ts';
import { exportOnnx } from './onnx/export-model.ts';
import { runGraph, torchOutput } from './onnx/parity.ts';

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

/** Per crop, per task name, the answer; `outputs[k]` holds task k's rows for the `n` crops. */
function byCrop(tasks: TaskRecord[], outputs: Float32Array[], n: number): Record<string, TaskAnswer>[] {
  const per = tasks.map((t, k) => answers(t, outputs[k]!, n));
  return Array.from({ length: n }, (_, i) => Object.fromEntries(tasks.map((t, k) => [t.name, per[k]![i]!])));
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
        return byCrop(
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
      return byCrop(
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
