// Pruning an identity task by distillation, interrupted inside a ladder step and resumed from its checkpoint folder
// (the unpruned model file as teacher), ends with the uninterrupted run's weights and records.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { manualSeed } from '../../src/engine/index.ts';
import { configFromPreset, loadModel, PaeModel, saveModel, type PaeEvent } from '../../src/pae/index.ts';
import { stateTensors } from '../../src/pae/state-dict.ts';
import { addTask, pruneIdentityTask, type PruneTaskSpec } from '../../src/workflows/index.ts';
import { CheckpointDir } from '../../src/workflows/checkpoint.ts';
import { DATA, needData, tempDir } from '../data/fixtures.ts';

const PROVENANCE = { paenetVersion: 'test', torchVersion: 'test', created: '2026-01-01T00:00:00Z' };
const dir = tempDir('prune-epoch-resume');
after(() => rmSync(dir, { recursive: true, force: true }));
const CELEBA = join(DATA, 'celeba-identity/manifest.csv');
const base = join(dir, 'base.pae');

// Goal 0: every ratio meets it, so the last one is kept and the final state is the step that was cut.
const SPEC: PruneTaskSpec = {
  task: 'face',
  data: CELEBA,
  pairs: join(DATA, 'celeba-identity/pairs.txt'),
  goal: 0,
  prune: { ratios: [0.3, 0.6], epochsPerStep: 3, rampEpochs: 1 },
  limit: 160,
  batchSize: 32,
};

class Interrupted extends Error {}

const bytes = (m: PaeModel): Map<string, string> =>
  new Map(
    [...stateTensors(m.net)].map(([k, t]) => {
      const d = t.data();
      return [k, Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('base64')] as const;
    }),
  );
const pruneEpochs = (events: PaeEvent[]) =>
  events.flatMap((e) => (e.type === 'epoch' && e.phase === 'prune' ? [`${e.ratio}:${e.epoch}`] : []));

before(async () => {
  needData('celeba-identity');
  manualSeed(3);
  const model = PaeModel.create(configFromPreset('tiny'), PROVENANCE);
  const { model: trained } = await addTask(model, {
    name: 'face',
    kind: 'identity',
    data: CELEBA,
    goal: 'none',
    skipPruning: true,
    train: { epochs: 1, lr: 3e-3 },
    limit: { train: 160 },
    batchSize: 32,
  });
  saveModel(trained, base);
  trained.dispose();
});

test('distillation pruning cut inside a ladder step resumes from that epoch and ends bit-identical', async () => {
  const whole = loadModel(base);
  const wholeEvents: PaeEvent[] = [];
  const w = await pruneIdentityTask(
    whole,
    SPEC,
    { events: { emit: (e) => void wholeEvents.push(e) } },
    { checkpoints: new CheckpointDir(join(dir, 'whole.ckpt')) },
  );
  assert.equal(w.prune.chosen.ratio, 0.6);

  // Dies as the third epoch of the step to 0.6 ends, before it is checkpointed: the last checkpoint is after its second.
  const ckDir = join(dir, 'cut.ckpt');
  const cut = loadModel(base);
  const before: PaeEvent[] = [];
  const dying = {
    emit: (e: PaeEvent) => {
      if (e.type === 'epoch' && e.phase === 'prune' && e.ratio === 0.6 && e.epoch === 2) throw new Interrupted('killed');
      before.push(e);
    },
  };
  try {
    await assert.rejects(pruneIdentityTask(cut, SPEC, { events: dying }, { checkpoints: new CheckpointDir(ckDir) }), Interrupted);
  } finally {
    cut.dispose();
  }

  const notes: string[] = [];
  const later: PaeEvent[] = [];
  manualSeed(999); // a new process: the generator comes back from the checkpoint
  const r = await pruneIdentityTask(
    loadModel(base),
    SPEC,
    { events: { emit: (e) => void later.push(e) }, note: (l) => notes.push(l) },
    { checkpoints: new CheckpointDir(ckDir), resume: true, teacherFile: base },
  );
  try {
    assert.ok(
      notes.some((l) => l.includes('(stage pruning, 2 pruning records, inside the step to ratio 0.6, after epoch 2)')),
      notes.join('\n'),
    );
    assert.deepEqual(pruneEpochs(later), ['0.6:2']);
    assert.deepEqual(pruneEpochs([...before, ...later]), pruneEpochs(wholeEvents));
    assert.deepEqual(r.prune, w.prune);
    assert.deepEqual(bytes(r.model), bytes(w.model), 'the same weights, owners, BN and head');
  } finally {
    r.model.dispose();
    w.model.dispose();
  }
});
