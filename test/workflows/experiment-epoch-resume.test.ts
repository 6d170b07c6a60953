// An experiment interrupted inside a task's training resumes from that task's last epoch checkpoint: the rerun says
// which epoch it goes on from, trains only the epochs after it, and ends with the uninterrupted run's model and numbers.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadModel, type PaeEvent, type PaeModel } from '../../src/pae/index.ts';
import { stateTensors } from '../../src/pae/state-dict.ts';
import { runExperiment, validateExperiment, type ExperimentResult } from '../../src/workflows/index.ts';
import { DATA, needData, tempDir } from '../data/fixtures.ts';

const PROVENANCE = { paenetVersion: 'test', torchVersion: 'test', created: '2026-01-01T00:00:00Z' };
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const UTK = join(DATA, 'utkface-agegender/manifest.csv');

const config = (output: string) =>
  validateExperiment(
    {
      name: 'epoch resume',
      arch: 'tiny',
      output,
      methods: ['pae'],
      tasks: [
        { name: 'gender', kind: 'classify', data: UTK, label: 'gender', goal: 'trained' },
        { name: 'age', kind: 'classify', data: UTK, label: 'label', goal: 'trained' },
      ],
      train: { epochs: 4, lr: 3e-3 },
      prune: { ratios: [0.5], epochsPerStep: 1 },
      limit: { train: 300, val: 150 },
      goalMargin: 0.02,
      maxExpansions: 0,
      batchSize: 32,
    },
    'epoch-resume.json',
  );

class Interrupted extends Error {}

const bytes = (d: ArrayBufferView): string => Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('base64');
const modelBytes = (m: PaeModel): Map<string, string> => new Map([...stateTensors(m.net)].map(([k, t]) => [k, bytes(t.data())]));
const trainEpochs = (events: PaeEvent[]) =>
  events.flatMap((e) => (e.type === 'epoch' && e.phase === 'train' ? [`${e.task}:${e.epoch}`] : []));
/** What a rerun must reproduce: every number but the timings (through JSON, as state.json keeps finished tasks: NaN → null). */
const numbers = (r: ExperimentResult): unknown =>
  JSON.parse(
    JSON.stringify({ matrix: r.accuracyMatrix, sizes: r.methods.map((m) => m.sizes), tasks: r.tasks.map(({ seconds: _s, ...t }) => t) }),
  );

test("an experiment killed in task 2's training resumes from its epoch checkpoint and ends as the uninterrupted run", async () => {
  needData('utkface-agegender');
  const wholeDir = tempDir('epoch-resume-whole');
  const cutDir = tempDir('epoch-resume-cut');
  dirs.push(wholeDir, cutDir);
  const wholeEvents: PaeEvent[] = [];
  const whole = await runExperiment(config(wholeDir), PROVENANCE, { events: { emit: (e) => void wholeEvents.push(e) } });

  // Dies as task 2 ends its third epoch, before that epoch is checkpointed: the last checkpoint is after epoch 2.
  const before: PaeEvent[] = [];
  const dying = {
    emit: (e: PaeEvent) => {
      if (e.type === 'epoch' && e.phase === 'train' && e.task === 2 && e.epoch === 2) throw new Interrupted('killed');
      before.push(e);
    },
  };
  await assert.rejects(runExperiment(config(cutDir), PROVENANCE, { events: dying }), Interrupted);
  assert.deepEqual(trainEpochs(before), ['1:0', '1:1', '1:2', '1:3', '2:0', '2:1']);

  const notes: string[] = [];
  const later: PaeEvent[] = [];
  const resumed = await runExperiment(config(cutDir), PROVENANCE, {
    events: { emit: (e) => void later.push(e) },
    note: (l) => notes.push(l),
  });
  assert.ok(
    notes.some((l) => /^pae: 'age' resumes inside the task from .*task-2$/.test(l)),
    notes.join('\n'),
  );
  assert.ok(
    notes.some((l) => /^resuming 'age' from .*task-2 \(stage training, after epoch 2\)$/.test(l)),
    `the note says which epoch it goes on from:\n${notes.join('\n')}`,
  );
  // Task 1 came from the experiment's own checkpoint; task 2 redid only the epoch that was lost, and the rest.
  assert.deepEqual(trainEpochs(later), ['2:2', '2:3']);
  assert.deepEqual(trainEpochs([...before, ...later]), trainEpochs(wholeEvents));

  assert.deepEqual(numbers(resumed), numbers(whole));
  const [a, b] = [loadModel(join(cutDir, 'model.pae')), loadModel(join(wholeDir, 'model.pae'))];
  try {
    assert.deepEqual(modelBytes(a), modelBytes(b), 'the same model, bit for bit');
  } finally {
    a.dispose();
    b.dispose();
  }
});
