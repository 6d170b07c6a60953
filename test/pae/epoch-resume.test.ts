// Checkpoints inside training: a packing cycle interrupted after any epoch (of training, or of a pruning step) and
// resumed from its checkpoint folder ends bit-identical to the uninterrupted run (Adam moments, the lr schedule,
// the best epoch, the generator behind dropout all carried over); a checkpoint folder of the older format (no
// epoch state) still resumes after training or after a pruning step.
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { liveTensors, manualSeed } from '../../src/engine/index.ts';
import type { PaeEvent } from '../../src/pae/events.ts';
import { PaeModel } from '../../src/pae/model.ts';
import type { HeadSpec } from '../../src/pae/network.ts';
import { stateTensors } from '../../src/pae/state-dict.ts';
import { packTask, type PackCheckpoint, type PackResult } from '../../src/pae/strategy.ts';
import type { PruneConfig, TrainConfig } from '../../src/pae/train-config.ts';
import { CheckpointDir, type CheckpointState } from '../../src/workflows/checkpoint.ts';
import { FAST_PRUNE, FAST_TRAIN, handRecord, PROVENANCE, rawBytes, tempDir, tinyConfig } from './helpers.ts';
import { SyntheticTask } from './synthetic.ts';

const tmp = tempDir();
after(() => tmp.cleanup());
const data = new SyntheticTask('quadrant', { train: 96, val: 48, batch: 16 });
after(() => data.dispose());
const HEAD: HeadSpec = { kind: 'linear', classes: data.classes };
const GOAL = { value: null, source: 'none' } as const;

/** Thrown from a checkpoint callback once the checkpoint is on disk: the run dies there, as a killed process would. */
class Interrupted extends Error {}

interface Setup {
  train: TrainConfig;
  prune?: PruneConfig;
  /** Dropout in the backbone: only a restored generator gives the same masks after a resume. @default 0.3 */
  dropout?: number;
  goal?: number | null;
  maxExpansions?: number;
}

interface Run {
  /** Every tensor of the final network by name (raw bytes). */
  state: Map<string, string>;
  result: PackResult;
  events: PaeEvent[];
}

function finish(model: PaeModel, result: PackResult, events: PaeEvent[]): Run {
  const state = new Map([...stateTensors(model.net)].map(([k, t]) => [k, rawBytes(t).toString('base64')] as const));
  model.dispose();
  return { state, result, events };
}

function options(s: Setup, ck: CheckpointDir, model: () => PaeModel, events: PaeEvent[], stop?: (c: PackCheckpoint) => boolean) {
  return {
    train: s.train,
    prune: s.prune ?? FAST_PRUNE,
    goal: s.goal ?? null,
    maxExpansions: s.maxExpansions ?? 0,
    events: { emit: (e: PaeEvent) => void events.push(e) },
    onCheckpoint: (c: PackCheckpoint) => {
      const m = model();
      ck.save(m, handRecord(m.net, 1, 'task', HEAD), GOAL, c);
      if (stop?.(c)) throw new Interrupted('interrupted');
    },
  };
}

/** Packs the synthetic task from a seeded fresh model; `stop` interrupts it after the checkpoint it names. */
async function pack(s: Setup, dir: string, stop?: (c: PackCheckpoint) => boolean, events: PaeEvent[] = []): Promise<Run> {
  manualSeed(11);
  const model = PaeModel.create({ ...tinyConfig(), dropout: s.dropout ?? 0.3 }, PROVENANCE);
  try {
    const result = await packTask(
      model.net,
      1,
      HEAD,
      data,
      options(s, new CheckpointDir(dir), () => model, events, stop),
    );
    return finish(model, result, events);
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** Resumes from the folder as a new process would: a fresh CheckpointDir, the generator reseeded elsewhere. */
async function resume(s: Setup, dir: string): Promise<Run> {
  const ck = new CheckpointDir(dir);
  const loaded = ck.load();
  manualSeed(999);
  const events: PaeEvent[] = [];
  const result = await packTask(loaded.model.net, 1, loaded.head, data, {
    ...options(s, ck, () => loaded.model, events),
    resume: loaded.resume,
  });
  return finish(loaded.model, result, events);
}

/**
 * Interrupts a run at `stop`, checks the folder, resumes it; returns the state the interruption left. The events of
 * the two halves together are the uninterrupted run's: nothing after the checkpoint is skipped or done twice.
 */
async function interruptAndResume(s: Setup, whole: Run, stop: (c: PackCheckpoint) => boolean, edit?: (state: CheckpointState) => void) {
  const dir = join(tmp.dir, `run-${Math.random().toString(36).slice(2)}`);
  const before: PaeEvent[] = [];
  await assert.rejects(pack(s, dir, stop, before), Interrupted);
  const ck = new CheckpointDir(dir);
  const state = ck.read()!;
  // Only what resume.json names is left: older steps' files were removed as newer ones were written.
  const named = [state.stateFile, state.candidateFile, state.pretaskFile, state.training?.bestFile, state.training?.optimizerFile];
  assert.deepEqual(readdirSync(dir).sort(), ['resume.json', ...named.filter((f) => f !== undefined)].sort());
  if (edit) {
    edit(state);
    writeFileSync(join(dir, 'resume.json'), JSON.stringify(state));
  }
  const resumed = await resume(s, dir);
  assert.deepEqual([...before, ...resumed.events], whole.events, 'events before the cut and after the resume = the whole run');
  return { state, resumed };
}

/** Same final tensors and result; a run resumed after training has only the trained score of its training, as before. */
function assertSameRun(resumed: Run, whole: Run, afterTraining = false): void {
  assert.deepEqual([...resumed.state.keys()], [...whole.state.keys()]);
  for (const [k, v] of whole.state) assert.ok(resumed.state.get(k) === v, `${k} differs from the uninterrupted run's`);
  const { train, ...rest } = resumed.result;
  const { train: wholeTrain, ...wholeRest } = whole.result;
  assert.deepEqual(rest, wholeRest);
  if (afterTraining) assert.deepEqual(train, { best: wholeTrain.best, bestEpoch: -1, epochsRun: 0, history: [] });
  else assert.deepEqual(train, wholeTrain, 'the same training history, best epoch and score');
}

const trainEpochs = (r: Run, phase: 'train' | 'prune') =>
  r.events.flatMap((e) => (e.type === 'epoch' && e.phase === phase ? [`${'ratio' in e ? e.ratio : ''}:${e.epoch}`] : []));
const atEpoch = (epoch: number) => (c: PackCheckpoint) => c.stage === 'training' && c.training!.progress.epoch === epoch;

// Two-epoch plateaus: accuracy peaks at epoch 1, then the lr drops at epochs 3 and 5 and training stops at epoch 7.
// The goal 0 keeps the last pruning ratio, so the final state is the one the last step trained.
const PLATEAU: Setup = { train: { ...FAST_TRAIN, epochs: 8, lr: 1e-2, patience: 2, maxPlateaus: 3 }, goal: 0 };
const decisions = (r: Run) => r.events.flatMap((e) => (e.type === 'decision' ? [e.decision] : []));

test('Adam with plateaus: interrupted after epoch 5 of 8, mid-plateau, resumed from the folder, bit-identical', async () => {
  const whole = await pack(PLATEAU, join(tmp.dir, 'whole-plateau'));
  assert.deepEqual(decisions(whole).slice(0, 3), ['lr-drop', 'lr-drop', 'early-stop'], 'the schedule moves on both sides of the cut');
  const live = liveTensors();
  const { state, resumed } = await interruptAndResume(PLATEAU, whole, atEpoch(5));
  assert.equal(state.stage, 'training');
  // One plateau behind, one epoch into the next: both counters must come back for the drop and the stop to recur.
  assert.deepEqual([state.training!.epoch, state.training!.bestEpoch, state.training!.bad, state.training!.plateaus], [5, 1, 1, 1]);
  assert.ok(state.rng, 'the generator state is recorded');
  assertSameRun(resumed, whole);
  assert.deepEqual(trainEpochs(resumed, 'train'), [':5', ':6', ':7']);
  assert.equal(liveTensors(), live, 'no tensor leaks across interrupting and resuming');
});

test('SGD with a cosine schedule and warm-up: interrupted after epoch 2 of 5, resumed bit-identical', async () => {
  const s: Setup = { train: { ...FAST_TRAIN, epochs: 5, optimizer: 'sgd', schedule: 'cosine', warmupEpochs: 1, minLr: 1e-4 } };
  const whole = await pack(s, join(tmp.dir, 'whole-cosine'));
  const { resumed } = await interruptAndResume(s, whole, atEpoch(2));
  assertSameRun(resumed, whole);
  assert.deepEqual(trainEpochs(resumed, 'train'), [':2', ':3', ':4']);
});

test('inside a pruning step, during its ramp (no epoch kept yet) and after it, resumed bit-identical', async () => {
  const s: Setup = { ...PLATEAU, prune: { ...FAST_PRUNE, epochsPerStep: 4, rampEpochs: 2 } };
  const whole = await pack(s, join(tmp.dir, 'whole-ramp'));
  assert.equal(whole.result.ratio, 0.6, "the final state is the last step's");
  const inStep = (epoch: number) => (c: PackCheckpoint) => c.pruning?.step?.ratio === 0.6 && c.pruning.step.progress.epoch === epoch;
  const ramp = await interruptAndResume(s, whole, inStep(1));
  assert.equal(ramp.state.stage, 'pruning');
  assert.deepEqual([ramp.state.training!.ratio, ramp.state.training!.epoch, ramp.state.training!.bestEpoch], [0.6, 1, -1]);
  assertSameRun(ramp.resumed, whole, true);
  assert.deepEqual(trainEpochs(ramp.resumed, 'train'), []);
  assert.deepEqual(trainEpochs(ramp.resumed, 'prune'), ['0.6:1', '0.6:2', '0.6:3']);
  // After the ramp the masks stay put and Adam's moments build up: they must come back too.
  const ramped = await interruptAndResume(s, whole, inStep(3));
  assert.deepEqual([ramped.state.training!.epoch, ramped.state.training!.bestEpoch], [3, 1]);
  assertSameRun(ramped.resumed, whole, true);
});

test('an attempt below the goal resumed mid-training still expands from the pre-task state, bit-identical', async () => {
  // An unreachable goal: the first attempt expands and the second one misses it.
  const s: Setup = { ...PLATEAU, goal: 2, maxExpansions: 1 };
  const whole = await pack(s, join(tmp.dir, 'whole-expand'));
  assert.equal(whole.result.expansions, 1);
  const first = await interruptAndResume(s, whole, (c) => atEpoch(2)(c) && c.expansions === 0);
  assert.ok(first.state.pretaskFile, 'an attempt that may expand keeps the pre-task state');
  assertSameRun(first.resumed, whole);
  const second = await interruptAndResume(s, whole, (c) => atEpoch(4)(c) && c.expansions === 1);
  assert.equal(second.state.pretaskFile, undefined, 'the last attempt cannot expand: no pre-task state kept');
  assertSameRun(second.resumed, whole);
});

test('a version-1 checkpoint (no epoch state, no generator) still resumes after training and after a pruning step', async () => {
  // Without dropout nothing after training draws from the generator: the old format resumes exactly too.
  const s: Setup = { ...PLATEAU, dropout: 0 };
  const whole = await pack(s, join(tmp.dir, 'whole-v1'));
  const toV1 = (state: CheckpointState): void => {
    state.version = 1;
    delete state.rng;
    delete state.training;
    delete state.pretaskFile;
  };
  const trained = await interruptAndResume(s, whole, (c) => c.stage === 'trained', toV1);
  assertSameRun(trained.resumed, whole, true);
  assert.deepEqual(trainEpochs(trained.resumed, 'train'), []);
  const pruned = await interruptAndResume(s, whole, (c) => c.stage === 'pruning' && !c.pruning!.step, toV1);
  assert.deepEqual(
    pruned.state.records!.map((r) => r.ratio),
    [0, 0.3],
  );
  assertSameRun(pruned.resumed, whole, true);
  assert.deepEqual(trainEpochs(pruned.resumed, 'prune'), ['0.6:0', '0.6:1']);
});
