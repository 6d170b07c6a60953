// A pretrained start through the real CLI: import face-api's recognition net as task 1 (calibrated on ORL pairs) →
// prune it by distillation (one ratio, a few dozen images) → pack a gender task into the freed weights → the
// identity task still verifies exactly as it did after pruning; bad inputs answer with one line.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertOneLineError, cliEnv, dataFile, paenet, paenetJson, repoRoot, tempDir } from './helpers.ts';

const dir = tempDir('import');
after(() => rmSync(dir, { recursive: true, force: true }));
const model = join(dir, 'pretrained.pae');
const unpruned = join(dir, 'unpruned.pae');
const ORL = dataFile('orl-faces', 'pairs.txt');
const CELEBA = dataFile('celeba-identity', 'manifest.csv');
const UTK = dataFile('utkface-agegender', 'manifest.csv');

interface Verification {
  accuracy: number;
  std: number;
  auc: number;
  threshold: number;
}
interface ImportOut {
  model: string;
  task: string;
  source: { package: string; version: string; license: string };
  weights: number;
  fileTensorBytes: number;
  verification: Verification;
}
interface PruneOut {
  task: { id: number; pruning: { ratio: number; records: { ratio: number; accuracy: number }[] }; goal: { value: number | null } };
  before: number;
  after: number;
  module: { ownedWeights: number; moduleBytes: number };
}
interface EvalOut {
  value: number;
  threshold?: number;
}
interface InfoOut {
  backbone: { arch: string; inputSize: number; embedDim: number };
  tasks: { id: number; name: string; kind: string; frozenNorm?: boolean; extra: { pretrained?: { package: string } } }[];
  ledger: { tasks: { id: number; ownedWeights: number }[]; totalWeights: number; freeWeights: number };
}

let imported: ImportOut;
let pruned: PruneOut;
let prunedEval: EvalOut;

test('import: face-api recognition becomes task 1, calibrated on a pairs file', () => {
  imported = paenetJson<ImportOut>('import', model, '--from', 'face-api-recognition', '--pairs', ORL, '--json');
  assert.equal(imported.task, 'identity');
  assert.equal(imported.source.package, '@vladmandic/face-api');
  assert.equal(imported.source.license, 'MIT');
  assert.equal(imported.weights, 5_603_936, 'the dlib ResNet-29 has 5,603,936 prunable weights');
  assert.ok(imported.verification.accuracy > 0.7, `pretrained verification ${imported.verification.accuracy}`);
  const again = paenet('import', model, '--from', 'face-api-recognition');
  assertOneLineError(again, model, /already exists/);
  const info = paenetJson<InfoOut>('info', model, '--json');
  assert.equal(info.backbone.arch, 'dlib-resnet');
  assert.equal(info.backbone.inputSize, 150);
  assert.equal(info.tasks[0]!.extra.pretrained?.package, '@vladmandic/face-api');
  assert.equal(info.ledger.freeWeights, 0, 'every weight belongs to the imported task');
  copyFileSync(model, unpruned);
});

test('prune: one ratio by distillation frees half of task 1 and re-measures verification', () => {
  pruned = paenetJson<PruneOut>(
    'prune',
    model,
    '--task',
    'identity',
    '--data',
    CELEBA,
    '--pairs',
    ORL,
    '--goal',
    '0.5',
    '--limit',
    '48',
    '--prune-ratios',
    '0.5',
    '--prune-epochs',
    '1',
    '--batch-size',
    '16',
    '--quiet',
    '--json',
  );
  assert.equal(pruned.before, imported.verification.accuracy, 'the unpruned accuracy is the one import measured');
  assert.equal(pruned.task.goal.value, 0.5);
  assert.deepEqual(
    pruned.task.pruning.records.map((r) => r.ratio),
    [0, 0.5],
  );
  assert.equal(pruned.task.pruning.ratio, 0.5);
  const owned = pruned.module.ownedWeights;
  assert.ok(Math.abs(owned - imported.weights / 2) <= imported.weights * 0.01, `task 1 keeps about half: ${owned}`);
  prunedEval = paenetJson<EvalOut>('eval', model, '--task', 'identity', '--data', ORL, '--json');
  assert.equal(prunedEval.value, pruned.after);
  const twice = paenet('prune', model, '--task', 'identity', '--data', CELEBA, '--pairs', ORL, '--quiet');
  assertOneLineError(twice, 'identity', /already pruned/);
});

test('add-task: gender packs into the freed weights; the imported task is untouched', () => {
  const out = paenetJson<{ task: { id: number; frozenNorm?: boolean }; module: { ownedWeights: number } }>(
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
    '1',
    '--limit-train',
    '96',
    '--limit-val',
    '64',
    '--prune-ratios',
    '0.5',
    '--prune-epochs',
    '1',
    '--batch-size',
    '16',
    '--max-expansions',
    '0',
    '--quiet',
    '--json',
  );
  assert.equal(out.task.id, 2);
  assert.notEqual(out.task.frozenNorm, true, 'a new task trains its own BatchNorm');
  assert.ok(out.module.ownedWeights > 0);
  const info = paenetJson<InfoOut>('info', model, '--json');
  assert.equal(info.ledger.totalWeights, imported.weights, 'no expansion was allowed');
  assert.equal(info.ledger.tasks.find((t) => t.id === 1)!.ownedWeights, pruned.module.ownedWeights);
  const evalAfter = paenetJson<EvalOut>('eval', model, '--task', 'identity', '--data', ORL, '--json');
  assert.equal(evalAfter.value, prunedEval.value, 'packing a later task changes nothing of task 1');
  assert.equal(evalAfter.threshold, prunedEval.threshold);
});

test('import: bad sources and package folders answer in one line', () => {
  assertOneLineError(paenet('import', join(dir, 'x.pae'), '--from', 'facenet'), 'facenet', /unknown --from/);
  const empty = tempDir('import-empty');
  try {
    assertOneLineError(
      paenet('import', join(dir, 'y.pae'), '--from', 'face-api-recognition', '--package-dir', empty),
      empty,
      /manifest|not found|no such/i,
    );
    const bad = join(empty, 'pairs.txt');
    writeFileSync(bad, 'not a pairs file\n');
    assertOneLineError(paenet('import', join(dir, 'z.pae'), '--from', 'face-api-recognition', '--pairs', bad), bad, /./);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test('prune killed after a ratio resumes with --resume: the model file untouched meanwhile, every ratio once', async () => {
  const file = join(dir, 'killed.pae');
  copyFileSync(unpruned, file);
  const before = readFileSync(file);
  const ckpt = join(dir, 'killed.identity.prune.ckpt');
  const args = ['prune', file, '--task', 'identity', '--data', CELEBA, '--pairs', ORL, '--goal', '0.5', '--limit', '16'];
  const rest = ['--prune-ratios', '0.2,0.4,0.6', '--prune-epochs', '1', '--batch-size', '16', '--quiet', '--json'];
  const child = spawn(process.execPath, ['bin/paenet.mjs', '--threads', '1', ...args, ...rest], {
    cwd: repoRoot,
    env: cliEnv(),
    stdio: 'ignore',
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, signal) => resolve(signal)));
  let done = false;
  void exited.then(() => (done = true));
  const deadline = Date.now() + 110_000;
  while (!done && Date.now() < deadline && !existsSync(join(ckpt, 'resume.json'))) await sleep(20);
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL', 'killed mid-ladder, not finished');
  assert.ok(before.equals(readFileSync(file)), 'the model file is only replaced when pruning is complete');
  const again = paenet(...args, ...rest);
  assertOneLineError(again, ckpt, /--resume/);
  const out = paenetJson<PruneOut>(...args, ...rest, '--resume');
  assert.deepEqual(
    out.task.pruning.records.map((r) => r.ratio),
    [0, 0.2, 0.4, 0.6],
  );
  assert.equal(out.before, imported.verification.accuracy, 'the goal is judged against the unpruned task, also on resume');
  assert.ok(!existsSync(ckpt), 'checkpoint removed');
});
