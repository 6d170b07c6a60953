// Resumable add-task: a run killed (SIGKILL) during gradual pruning leaves the model file as it was; the same
// command with --resume finishes the ladder without redoing the steps done before the crash. Killed during
// training, it goes on from the last epoch checkpointed and ends with the model an uninterrupted run makes.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadModel, type PaeModel } from '../../src/pae/index.ts';
import { stateTensors } from '../../src/pae/state-dict.ts';
import { cliEnv, dataFile, paenet, paenetAsync, paenetJson, repoRoot, tempDir } from './helpers.ts';

const dir = tempDir('resume');
after(() => rmSync(dir, { recursive: true, force: true }));

const RATIOS = [0.15, 0.3, 0.45, 0.6, 0.75, 0.9];
const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

interface ResumeState {
  stage: string;
  records?: { ratio: number }[];
  training?: { epoch: number };
}
interface Task {
  name: string;
  pruning: { records: { ratio: number }[]; ratio: number };
}

function readState(path: string): ResumeState | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ResumeState;
  } catch {
    return null; // not there yet (it is written atomically, so never half-written)
  }
}

test('add-task killed during pruning resumes with --resume: model untouched meanwhile, every ratio exactly once', async () => {
  const model = join(dir, 'model.pae');
  const ckpt = join(dir, 'model.gender.ckpt');
  const log = join(dir, 'model.gender.events.jsonl');
  assert.equal(paenet('init', model, '--arch', 'tiny').status, 0);
  const initial = sha(model);
  const args = [
    'bin/paenet.mjs',
    '--threads',
    '1',
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
    '1',
    '--lr',
    '3e-3',
    '--limit-train',
    '600',
    '--limit-val',
    '200',
    '--prune-ratios',
    RATIOS.join(','),
    '--prune-epochs',
    '1',
    '--batch-size',
    '32',
    '--quiet',
  ];

  // 1. Run until the first pruning step is checkpointed, then kill it without warning.
  const child = spawn(process.execPath, args, { cwd: repoRoot, env: cliEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => void (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  void exited.then((e) => void (exit = e));
  let seen: ResumeState | null = null;
  const deadline = Date.now() + 90_000;
  while (exit === null && Date.now() < deadline) {
    const s = readState(join(ckpt, 'resume.json'));
    if (s?.stage === 'pruning') {
      seen = s;
      child.kill('SIGKILL');
      break;
    }
    await sleep(20);
  }
  const killed = await exited;
  assert.ok(seen, `the run never checkpointed a pruning step (exit ${JSON.stringify(exit)}):\n${stderr}`);
  assert.equal(killed.signal, 'SIGKILL', 'killed mid-run, not finished');
  const doneBefore = seen.records!.filter((r) => r.ratio > 0).map((r) => r.ratio);
  assert.ok(doneBefore.length >= 1 && doneBefore.length < RATIOS.length, `killed part-way through the ladder: ${doneBefore.join(',')}`);

  // 2. Nothing reached the model file: same bytes, still no task. The checkpoint is there.
  assert.equal(sha(model), initial, 'the model file is only replaced when the task is complete');
  assert.deepEqual(paenetJson<{ tasks: Task[] }>('info', model, '--json').tasks, []);
  assert.ok(existsSync(join(ckpt, 'resume.json')));
  const stepsBefore = pruneSteps(log);
  assert.deepEqual(stepsBefore, doneBefore, 'the log holds the steps the checkpoint holds');

  // 3. The same command with --resume completes it and removes the checkpoint folder.
  const resumed = paenet(...args.slice(3), '--resume');
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.ok(!existsSync(ckpt), `checkpoint folder removed (left: ${existsSync(ckpt) ? readdirSync(ckpt).join(', ') : ''})`);
  assert.ok(!readdirSync(dir).some((f) => f.includes('.tmp')), `no temp files left: ${readdirSync(dir).join(', ')}`);
  const tasks = paenetJson<{ tasks: Task[] }>('info', model, '--json').tasks;
  assert.equal(tasks.length, 1);
  assert.deepEqual(
    tasks[0]!.pruning.records.map((r) => r.ratio),
    [0, ...RATIOS],
    'every ratio exactly once, in order',
  );
  // Across both runs, each ratio was pruned (and retrained) exactly once: the resumed run did only the rest.
  const steps = pruneSteps(log);
  assert.equal(steps.length, RATIOS.length);
  assert.deepEqual(steps, RATIOS);
});

test("add-task killed during training resumes from its last epoch: the model is the uninterrupted run's, bit for bit", async () => {
  const EPOCHS = 4;
  const args = (model: string) => [
    'add-task',
    model,
    ...['--name', 'gender', '--kind', 'classify', '--label', 'gender', '--goal', 'none'],
    ...['--data', dataFile('utkface-agegender', 'manifest.csv'), '--limit-train', '400', '--limit-val', '150'],
    ...['--epochs', String(EPOCHS), '--lr', '3e-3', '--batch-size', '32', '--prune-ratios', '0.5', '--prune-epochs', '1'],
  ];
  const [killedModel, wholeModel] = [join(dir, 'killed.pae'), join(dir, 'whole.pae')];
  for (const m of [killedModel, wholeModel]) assert.equal(paenet('init', m, '--arch', 'tiny').status, 0);
  const whole = paenetAsync(...args(wholeModel), '--quiet');

  // 1. Killed as soon as an epoch of training is checkpointed.
  const ckpt = join(dir, 'killed.gender.ckpt');
  const child = spawn(process.execPath, ['bin/paenet.mjs', '--threads', '1', ...args(killedModel), '--quiet'], {
    cwd: repoRoot,
    env: cliEnv(),
    stdio: 'ignore',
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  let running = true;
  void exited.then(() => void (running = false));
  const deadline = Date.now() + 90_000;
  while (running && Date.now() < deadline && readState(join(ckpt, 'resume.json'))?.stage !== 'training') await sleep(20);
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL', 'killed mid-run, not finished');
  const state = readState(join(ckpt, 'resume.json'));
  assert.equal(state?.stage, 'training', 'killed during training, after an epoch checkpoint');
  const epoch = state.training!.epoch;
  assert.ok(epoch >= 1 && epoch < EPOCHS, `after epoch ${epoch} of ${EPOCHS}`);
  const log = join(dir, 'killed.gender.events.jsonl');
  const linesBefore = readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l !== '').length;

  // 2. --resume says where it goes on from and trains only the epochs after it.
  const resumed = paenet(...args(killedModel), '--resume');
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`resuming 'gender' from .*killed\\.gender\\.ckpt \\(stage training, after epoch ${epoch}\\)`));
  const later = readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .slice(linesBefore);
  const trained = later
    .map((l) => JSON.parse(l) as { type: string; phase?: string; epoch?: number })
    .filter((e) => e.type === 'epoch' && e.phase === 'train');
  assert.deepEqual(
    trained.map((e) => e.epoch),
    Array.from({ length: EPOCHS - epoch }, (_, i) => epoch + i),
  );
  assert.ok(!existsSync(ckpt), 'checkpoint folder removed');

  // 3. The same weights, BN and head as the run that was never interrupted.
  const w = await whole;
  assert.equal(w.status, 0, w.stderr);
  const [a, b] = [loadModel(killedModel), loadModel(wholeModel)];
  try {
    assert.deepEqual(tensorBytes(a), tensorBytes(b));
    assert.deepEqual(a.tasks[0]!.pruning, b.tasks[0]!.pruning);
  } finally {
    a.dispose();
    b.dispose();
  }
});

function tensorBytes(m: PaeModel): Map<string, string> {
  return new Map(
    [...stateTensors(m.net)].map(([k, t]) => {
      const d = t.data();
      return [k, Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('base64')] as const;
    }),
  );
}

/** Ratios of the 'prune-step' events in the JSONL event log, in order. */
function pruneSteps(log: string): number[] {
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { type: string; ratio?: number })
    .filter((e) => e.type === 'prune-step')
    .map((e) => e.ratio!);
}
