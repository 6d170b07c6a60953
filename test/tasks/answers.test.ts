// Per-crop answers from a task's output rows: the best label with every class's score, or the embedding.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TaskRecord } from '../../src/pae/index.ts';
import { answersPerCrop, taskAnswers } from '../../src/tasks/answers.ts';

/** The fields the assembly reads; the rest of a record does not matter here. */
const record = (name: string, labels: string[], dropped = false): TaskRecord =>
  ({ name, labels, head: { kind: dropped ? 'arcface' : 'linear', classes: labels.length || 4, dropped } }) as TaskRecord;

test('classify rows: the best label, its score and every score by label; identity rows: the embedding', () => {
  const gender = record('gender', ['male', 'female']);
  const probs = Float32Array.from([0.25, 0.75, 0.875, 0.125]);
  assert.deepEqual(taskAnswers(gender, probs, 2), [
    { kind: 'classify', label: 'female', score: 0.75, scores: { male: 0.25, female: 0.75 } },
    { kind: 'classify', label: 'male', score: 0.875, scores: { male: 0.875, female: 0.125 } },
  ]);
  const face = record('face', [], true);
  assert.deepEqual(taskAnswers(face, Float32Array.from([0.5, -0.5, 1, 0]), 2), [
    { kind: 'identity', embedding: [0.5, -0.5] },
    { kind: 'identity', embedding: [1, 0] },
  ]);
  assert.deepEqual(taskAnswers(gender, new Float32Array(0), 0), []);
  assert.throws(() => taskAnswers(gender, probs, 3), /task 'gender' gave 4 outputs for 3 crops/);
});

test('answers per crop: one record per crop keyed by task name, in task order', () => {
  const tasks = [record('face', [], true), record('age', ['young', 'old'])];
  const out = answersPerCrop(tasks, [Float32Array.from([1, 0, 0, 1]), Float32Array.from([0.5, 0.5, 0.25, 0.75])], 2);
  assert.equal(out.length, 2);
  assert.deepEqual(Object.keys(out[1]!), ['face', 'age']);
  assert.deepEqual(out[1]!.face, { kind: 'identity', embedding: [0, 1] });
  assert.deepEqual(out[1]!.age, { kind: 'classify', label: 'old', score: 0.75, scores: { young: 0.25, old: 0.75 } });
  // A tie goes to the first class, as argmax does.
  assert.equal((out[0]!.age as { label: string }).label, 'young');
});
