// A task's output rows as answers, one per face crop: the best label with its score and every class's score, or
// the embedding of an identity task. The one assembly the API, the HTTP service and the CLI answer with.
import type { TaskRecord } from '../pae/index.ts';

/** One task's answer for one face crop. */
export type TaskAnswer =
  { kind: 'classify'; label: string; score: number; scores: Record<string, number> } | { kind: 'identity'; embedding: number[] };

/**
 * Task `t`'s answers for `n` crops from its outputs `rows` (row-major, one row per crop): class probabilities for
 * a task with a head, the embedding for a task whose head was dropped (an identity task).
 *
 * @throws if `rows` does not split into `n` equal rows.
 */
export function taskAnswers(t: TaskRecord, rows: Float32Array, n: number): TaskAnswer[] {
  if (n === 0) return [];
  const width = rows.length / n;
  if (!Number.isInteger(width) || width < 1) throw new Error(`paenet: task '${t.name}' gave ${rows.length} outputs for ${n} crops`);
  return Array.from({ length: n }, (_, i) => {
    const r = rows.subarray(i * width, (i + 1) * width);
    if (t.head.dropped) return { kind: 'identity' as const, embedding: Array.from(r) };
    let best = 0;
    for (let k = 1; k < r.length; k++) if (r[k]! > r[best]!) best = k;
    const scores = Object.fromEntries(Array.from(r, (v, k) => [t.labels[k] ?? String(k), v]));
    return { kind: 'classify' as const, label: t.labels[best] ?? String(best), score: r[best]!, scores };
  });
}

/** Per crop, per task name, the answer; `outputs[k]` holds task `tasks[k]`'s rows for the `n` crops. */
export function answersPerCrop(tasks: readonly TaskRecord[], outputs: readonly Float32Array[], n: number): Record<string, TaskAnswer>[] {
  const per = tasks.map((t, k) => taskAnswers(t, outputs[k]!, n));
  return Array.from({ length: n }, (_, i) => Object.fromEntries(tasks.map((t, k) => [t.name, per[k]![i]!])));
}
