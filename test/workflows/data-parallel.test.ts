// Data-parallel add-task end to end through the CLI: `paenet launch` writes one model and one log (rank 0's) that
// load; a rank killed mid-training ends the other with one line naming it, a hung rank with one line after the
// collective timeout, and the same command with --resume finishes from the last checkpoint.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadModel } from '../../src/pae/index.ts';
import {
  assertOneLineError,
  cliEnv,
  dataFile,
  nonEmptyLines,
  paenet,
  paenetAsync,
  repoRoot,
  tempDir,
  type CliResult,
} from '../cli/helpers.ts';
import { freePort, glooSkip } from '../engine/ddp-support.ts';

const dir = tempDir('ddp');
after(() => rmSync(dir, { recursive: true, force: true }));

/** A small add-task of the tiny backbone (`epochs` epochs, one pruning step); --batch-size is per rank. */
function addTaskArgs(model: string, epochs: number, train: number): string[] {
  return [
    'add-task',
    model,
    '--name',
    'gender',
    '--kind',
    'classify',
    '--data',
    dataFile('utkface-agegender', 'manifest.csv'),
    '--label',
    'gender',
    '--goal',
    'none',
    '--epochs',
    String(epochs),
    '--limit-train',
    String(train),
    '--limit-val',
    '100',
    '--prune-ratios',
    '0.5',
    '--prune-epochs',
    '1',
    '--batch-size',
    '16',
  ];
}

/** A fresh folder holding a new tiny model. */
function newModel(name: string): { sub: string; model: string } {
  const sub = join(dir, name);
  mkdirSync(sub);
  const model = join(sub, 'm.pae');
  const r = paenet('init', model, '--arch', 'tiny');
  assert.equal(r.status, 0, r.stderr);
  return { sub, model };
}

const events = (log: string): { type: string; phase?: string; epoch?: number }[] =>
  nonEmptyLines(readFileSync(log, 'utf8')).map((l) => JSON.parse(l) as { type: string });

test('paenet launch --nproc 2 -- add-task: one model file and one log, from rank 0, and the model loads', { skip: glooSkip }, async () => {
  const { sub, model } = newModel('launch');
  const r = await paenetAsync('launch', '--nproc', '2', '--', ...addTaskArgs(model, 2, 200));
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(sub).sort(), ['m.gender.events.jsonl', 'm.pae'], 'no second model, log, checkpoint or temp file');
  // Rank 1 says nothing: one summary line, and each note and progress line once.
  assert.equal(nonEmptyLines(r.stdout).length, 1, r.stdout);
  assert.equal(r.stderr.split('decoding training images: 200 images').length - 1, 1, r.stderr);
  assert.equal(nonEmptyLines(r.stderr).filter((l) => l.startsWith('train task 1 epoch 1/2')).length, 1, r.stderr);
  const log = events(join(sub, 'm.gender.events.jsonl'));
  assert.equal(log.filter((e) => e.type === 'task-start').length, 1);
  assert.deepEqual(
    log.filter((e) => e.type === 'epoch').map((e) => `${e.phase} ${e.epoch}`),
    ['train 0', 'train 1', 'prune 0'],
  );
  const loaded = loadModel(model);
  try {
    assert.deepEqual(
      loaded.tasks.map((t) => t.name),
      ['gender'],
    );
    assert.equal(loaded.tasks[0]!.pruning.records.length, 2);
  } finally {
    loaded.dispose();
  }
});

/** Starts 2 ranks of `args` by hand (torchrun's variables); rank 0's stderr is collected. */
async function startRanks(args: string[], timeoutS: number) {
  const port = await freePort();
  return [0, 1].map((rank) => {
    const env = { ...cliEnv(), RANK: String(rank), WORLD_SIZE: '2', MASTER_PORT: String(port), PAENET_DIST_TIMEOUT_S: String(timeoutS) };
    const child = spawn(process.execPath, ['bin/paenet.mjs', '--threads', '1', ...args], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result: CliResult & { done: Promise<CliResult>; pid: number } = {
      status: null,
      stdout: '',
      stderr: '',
      pid: child.pid!,
      done: new Promise<CliResult>((resolve) => child.on('close', (status) => resolve({ ...result, status }))),
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => void (result.stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => void (result.stderr += d));
    return result;
  });
}

/** Waits until the run has checkpointed a training epoch (both ranks are then inside the training loop). */
async function untilTraining(ckpt: string, running: Promise<unknown>): Promise<void> {
  let ended = false;
  void running.then(() => (ended = true));
  const deadline = Date.now() + 120_000;
  while (!ended && Date.now() < deadline) {
    try {
      if ((JSON.parse(readFileSync(join(ckpt, 'resume.json'), 'utf8')) as { stage: string }).stage === 'training') return;
    } catch {
      // not written yet (it is written atomically, so never half-written)
    }
    await sleep(20);
  }
  assert.fail('the run never checkpointed a training epoch');
}

test('a rank killed mid-training ends the other with one line naming it; --resume finishes the task', { skip: glooSkip }, async () => {
  const { sub, model } = newModel('kill');
  const args = [...addTaskArgs(model, 6, 600), '--quiet'];
  const [rank0, rank1] = await startRanks(args, 10);
  await untilTraining(join(sub, 'm.gender.ckpt'), rank0!.done);
  process.kill(rank1!.pid, 'SIGKILL');
  const t0 = Date.now();
  const r = await rank0!.done;
  const seconds = (Date.now() - t0) / 1000;
  // A dead peer's sockets close at once: no need to wait for the 10 s collective timeout.
  assert.ok(seconds < 10, `rank 0 took ${seconds} s to notice`);
  assertOneLineError(r, `rank 1 (pid ${rank1!.pid}) ended`, /data-parallel training stopped on rank 0/, 1);
  assert.match(r.stderr, /--resume/);
  await rank1!.done;

  const resumed = await paenetAsync('launch', '--nproc', '2', '--', ...args, '--resume');
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.ok(!existsSync(join(sub, 'm.gender.ckpt')), 'the checkpoint is spent');
  const train = events(join(sub, 'm.gender.events.jsonl')).filter((e) => e.type === 'epoch' && e.phase === 'train');
  assert.equal(train.at(-1)!.epoch, 5, 'training went on to its last epoch');
  const loaded = loadModel(model);
  try {
    assert.equal(loaded.tasks[0]?.name, 'gender');
  } finally {
    loaded.dispose();
  }
});

test('a rank that hangs ends the other with one line after the collective timeout', { skip: glooSkip }, async () => {
  const { sub, model } = newModel('hang');
  const [rank0, rank1] = await startRanks([...addTaskArgs(model, 6, 600), '--quiet'], 4);
  await untilTraining(join(sub, 'm.gender.ckpt'), rank0!.done);
  process.kill(rank1!.pid, 'SIGSTOP');
  const t0 = Date.now();
  try {
    const r = await rank0!.done;
    const seconds = (Date.now() - t0) / 1000;
    assert.ok(seconds >= 3 && seconds < 30, `rank 0 ended after ${seconds} s (timeout 4 s)`);
    assertOneLineError(r, 'no answer from the other ranks within 4 s', /PAENET_DIST_TIMEOUT_S/, 1);
  } finally {
    process.kill(rank1!.pid, 'SIGKILL');
    await rank1!.done;
  }
});
