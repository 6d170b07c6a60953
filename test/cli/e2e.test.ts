// The paenet command end to end on real faces: init → add-task (classify: gender) → add-task (identity: face) →
// info → eval (manifest and pairs) → predict → verify, every step through the real CLI with --json.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSafetensors } from '../../src/io/safetensors.ts';
import { dataFile, paenet, paenetJson, tempDir } from './helpers.ts';

const dir = tempDir('e2e');
after(() => rmSync(dir, { recursive: true, force: true }));
const model = join(dir, 'model.pae');
const UTK = dataFile('utkface-agegender', 'manifest.csv');
const CELEBA = dataFile('celeba-identity', 'manifest.csv');
const PAIRS = dataFile('celeba-identity', 'pairs.txt');
const IMG_A = dataFile('celeba-identity', 'images', 'celeba_00001', 'celeba_00001_0001.jpg');
const IMG_B = dataFile('utkface-agegender', 'val', '10_0_0_20170103200522151.jpg');

interface LedgerTask {
  id: number;
  name: string;
  ownedWeights: number;
  weightBytes: number;
  maskBytes: number;
  bnBytes: number;
  biasBytes: number;
  headBytes: number;
  moduleBytes: number;
}
interface Ledger {
  tasks: LedgerTask[];
  layers: { name: string; total: number; free: number; owned: Record<string, number> }[];
  totalWeights: number;
  freeWeights: number;
  denseBytes: number;
  ownerBytes: number;
  storedWeightBytes: number;
  fileTensorBytes: number;
  individualBytes: number;
  fractionOfIndividual: number;
}
interface Task {
  id: number;
  name: string;
  kind: string;
  labels: string[];
  head: { kind: string; classes: number; dropped?: boolean };
  goal: { value: number | null; source: string };
  metric: { name: string; value: number; trained: number };
  pruning: { records: { ratio: number; accuracy: number }[]; ratio: number };
  data: Record<string, unknown>;
  extra: Record<string, unknown>;
}
interface AddTaskOut {
  model: string;
  task: Task;
  module: LedgerTask;
  log: string;
}
interface InfoOut {
  model: string;
  backbone: { arch: string; inputSize: number; embedDim: number };
  tasks: Task[];
  ledger: Ledger;
  provenance: { paenetVersion: string };
}
interface EvalOut {
  task: string;
  metric: string;
  value: number;
  n: number;
  sha256: string;
  threshold?: number;
  split?: string;
}
interface Answer {
  task: string;
  kind: string;
  label?: string;
  score?: number;
  scores?: Record<string, number>;
  embedding?: number[];
}
interface VerifyOut {
  task: string;
  distance: number;
  threshold: number;
  same: boolean;
}

const FAST = ['--goal-margin', '0', '--prune-epochs', '1', '--batch-size', '32', '--quiet', '--json'];
let genderEval: EvalOut;
let genderAdded: AddTaskOut;
let info: InfoOut;

test('init: a new tiny model', () => {
  const out = paenetJson<{ model: string; backbone: { arch: string; inputSize: number }; weights: number }>(
    'init',
    model,
    '--arch',
    'tiny',
    '--json',
  );
  assert.equal(out.model, model);
  assert.equal(out.backbone.arch, 'tiny');
  assert.equal(out.backbone.inputSize, 32);
  assert.ok(out.weights > 0);
  const empty = paenetJson<InfoOut>('info', model, '--json');
  assert.deepEqual(empty.tasks, []);
});

test('add-task: classify (gender) with no goal and one pruning ratio', () => {
  genderAdded = paenetJson<AddTaskOut>(
    'add-task',
    model,
    '--name',
    'gender',
    '--kind',
    'classify',
    '--data',
    UTK,
    '--label',
    'gender',
    '--goal',
    'none',
    '--epochs',
    '3',
    '--lr',
    '3e-3',
    '--limit-train',
    '800',
    '--limit-val',
    '300',
    '--prune-ratios',
    '0.5',
    ...FAST,
  );
  const t = genderAdded.task;
  assert.equal(t.id, 1);
  assert.equal(t.kind, 'classify');
  assert.deepEqual(t.labels, ['male', 'female']);
  assert.deepEqual(t.goal, { value: null, source: 'none' });
  assert.deepEqual(
    t.pruning.records.map((r) => r.ratio),
    [0, 0.5],
  );
  assert.ok(genderAdded.module.moduleBytes > 0);
  // The task's manifest-split accuracy, before any other task exists (compared after the identity task below).
  genderEval = paenetJson<EvalOut>('eval', model, '--task', 'gender', '--data', UTK, '--json');
});

test('add-task: identity (face) with a numeric goal, validated on pairs.txt beside the manifest', () => {
  const out = paenetJson<AddTaskOut>(
    'add-task',
    model,
    '--name',
    'face',
    '--kind',
    'identity',
    '--data',
    CELEBA,
    '--head',
    'linear',
    '--goal',
    '0.5',
    '--epochs',
    '1',
    '--limit-train',
    '500',
    '--prune-ratios',
    '0.5',
    ...FAST,
  );
  const t = out.task;
  assert.equal(t.id, 2);
  assert.equal(t.kind, 'identity');
  assert.deepEqual(t.goal, { value: 0.5, source: 'number' });
  assert.equal(t.metric.name, 'verification-accuracy');
  assert.equal(t.data.pairs, PAIRS);
  assert.equal(t.head.dropped, true);
  assert.equal(typeof t.extra.threshold, 'number');
});

test('info --json: tasks, labels, goals, accuracies and a consistent ledger', () => {
  info = paenetJson<InfoOut>('info', model, '--json');
  assert.equal(info.backbone.arch, 'tiny');
  assert.equal(info.tasks.length, 2);
  assert.deepEqual(
    info.tasks.map((t) => [t.id, t.name, t.kind]),
    [
      [1, 'gender', 'classify'],
      [2, 'face', 'identity'],
    ],
  );
  assert.deepEqual(info.tasks[0]!.labels, ['male', 'female']);
  assert.deepEqual(
    info.tasks.map((t) => t.goal.source),
    ['none', 'number'],
  );
  for (const t of info.tasks) {
    assert.ok(t.metric.value >= 0 && t.metric.value <= 1, `${t.name} metric ${t.metric.value}`);
    assert.ok(t.metric.trained >= 0 && t.metric.trained <= 1);
  }
  const face = info.tasks[1]!;
  assert.ok(face.metric.value >= 0.5, 'the kept ratio meets the numeric goal (or is the unpruned state)');

  const l = info.ledger;
  assert.equal(l.tasks.length, 2);
  assert.deepEqual(
    l.tasks.map((t) => t.name),
    ['gender', 'face'],
  );
  for (const t of l.tasks) {
    assert.ok(t.moduleBytes > 0, `${t.name} module bytes`);
    assert.equal(t.weightBytes, 4 * t.ownedWeights);
    assert.equal(t.maskBytes, t.ownedWeights);
    assert.equal(t.moduleBytes, t.weightBytes + t.maskBytes + t.bnBytes + t.biasBytes + t.headBytes);
    assert.equal(
      t.ownedWeights,
      l.layers.reduce((n, layer) => n + (layer.owned[String(t.id)] ?? 0), 0),
    );
  }
  assert.ok(l.tasks[0]!.headBytes > 0, 'the classify head is kept');
  assert.equal(l.tasks[1]!.headBytes, 0, 'the identity classifier is dropped');
  assert.deepEqual(l.tasks[0], genderAdded.module, "adding a task leaves an earlier task's module as it was");
  assert.equal(l.freeWeights + l.tasks.reduce((n, t) => n + t.ownedWeights, 0), l.totalWeights);
  assert.equal(
    l.totalWeights,
    l.layers.reduce((n, layer) => n + layer.total, 0),
  );
  assert.equal(l.fileTensorBytes, l.denseBytes - 4 * l.freeWeights + l.ownerBytes, 'freed weights are not stored');
  assert.ok(Math.abs(l.fractionOfIndividual - l.fileTensorBytes / l.individualBytes) < 1e-12);
  // The ledger's file bytes are the tensor bytes actually in the file.
  const { tensors } = decodeSafetensors(readFileSync(model), model);
  assert.equal(
    [...tensors.values()].reduce((n, r) => n + r.data.byteLength, 0),
    l.fileTensorBytes,
  );

  const text = paenet('info', model);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /gender/);
  assert.match(text.stdout, /face/);
});

test('eval --json on the manifest: metric, n, sha256; repeatable and untouched by the later task', () => {
  assert.equal(genderEval.metric, 'top1');
  assert.equal(genderEval.n, 787, 'the whole val split of utkface-agegender');
  assert.match(genderEval.sha256, /^[0-9a-f]{64}$/);
  const again = paenetJson<EvalOut>('eval', model, '--task', 'gender', '--data', UTK, '--json');
  assert.equal(again.sha256, genderEval.sha256, 'the identity task did not change a single gender prediction');
  assert.equal(again.value, genderEval.value);
  assert.equal(again.split, 'val');
});

test('eval --json on a pairs file: the identity task as add-task measured it', () => {
  const out = paenetJson<EvalOut>('eval', model, '--task', 'face', '--data', PAIRS, '--json');
  assert.equal(out.metric, 'verification-accuracy');
  assert.equal(out.n, 2000);
  assert.match(out.sha256, /^[0-9a-f]{64}$/);
  const face = info.tasks[1]!;
  assert.equal(out.value, (face.extra.verification as { accuracy: number }).accuracy);
  assert.equal(out.threshold, face.extra.threshold);
});

let answers: { image: string; tasks: Answer[] }[];

test('predict --json: every task answers for every image', () => {
  answers = paenetJson('predict', model, IMG_A, IMG_B, '--json');
  assert.equal(answers.length, 2);
  assert.deepEqual(
    answers.map((a) => a.image),
    [IMG_A, IMG_B],
  );
  for (const a of answers) {
    assert.deepEqual(
      a.tasks.map((x) => [x.task, x.kind]),
      [
        ['gender', 'classify'],
        ['face', 'identity'],
      ],
    );
    const [gender, face] = a.tasks as [Answer, Answer];
    assert.ok(gender.label === 'male' || gender.label === 'female');
    assert.deepEqual(Object.keys(gender.scores!), ['male', 'female']);
    const scores = Object.values(gender.scores!);
    assert.ok(Math.abs(scores.reduce((s, x) => s + x, 0) - 1) < 1e-5, 'softmax scores sum to 1');
    assert.equal(gender.score, Math.max(...scores));
    assert.equal(gender.scores![gender.label!], gender.score);
    assert.equal(face.embedding!.length, 2 * info.backbone.embedDim, 'image ⊕ flip embedding');
    assert.ok(Math.abs(Math.hypot(...face.embedding!) - 1) < 1e-4, 'unit embedding');
  }
  const only = paenetJson<{ image: string; tasks: Answer[] }[]>('predict', model, IMG_A, '--task', 'gender', '--json');
  assert.equal(only[0]!.tasks.length, 1);
  const [alone, inPair] = [only[0]!.tasks[0]!, answers[0]!.tasks[0]!];
  assert.equal(alone.label, inPair.label);
  // Batches of 1 and 2 may round differently in the last float bits.
  assert.ok(Math.abs(alone.score! - inPair.score!) < 1e-5, `${alone.score} vs ${inPair.score}`);
});

test('verify --json: distance against the threshold stored in the model', () => {
  const threshold = info.tasks[1]!.extra.threshold as number;
  const out = paenetJson<VerifyOut>('verify', model, IMG_A, IMG_B, '--json');
  assert.equal(out.task, 'face');
  assert.equal(out.threshold, threshold);
  assert.equal(typeof out.same, 'boolean');
  assert.equal(out.same, out.distance <= out.threshold);
  // The same distance as the predicted descriptors give (computed in other batches there: equal up to float rounding).
  const [ea, eb] = [answers[0]!.tasks[1]!.embedding!, answers[1]!.tasks[1]!.embedding!];
  const dot = ea.reduce((s, x, i) => s + x * eb[i]!, 0);
  assert.ok(Math.abs(1 - dot - out.distance) < 1e-4, `verify ${out.distance} vs predict ${1 - dot}`);
  const self = paenetJson<VerifyOut>('verify', model, IMG_A, IMG_A, '--json');
  assert.ok(Math.abs(self.distance) < 1e-5, `a face against itself: ${self.distance}`);
  assert.equal(self.same, self.distance <= threshold);
  const text = paenet('verify', model, IMG_A, IMG_B);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^(same person|different people): cosine distance/);
});
