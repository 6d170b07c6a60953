// Bad input through the real paenet command: every problem is a non-zero exit and ONE line on stderr naming the
// file (or option) and the problem, with the fix and the exit code of its PaenetError code (src/common/errors.ts);
// bad images inside a data set are skipped and counted, never fatal.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.ts';
import { CHECKSUM_KEY, MANIFEST_KEY, modelChecksum } from '../../src/pae/model-file.ts';
import { defaultModelPath } from '../../src/serve/default-model.ts';
import { assertOneLineError, dataFile, nonEmptyLines, paenet, paenetAsync as run, tempDir, type CliResult } from './helpers.ts';

const dir = tempDir('bad-input');
after(() => rmSync(dir, { recursive: true, force: true }));
const model = join(dir, 'model.pae');
const manifest = join(dir, 'gender.csv');
const corrupt = join(dir, 'corrupt.jpg');
const UTK = dataFile('utkface-agegender', 'manifest.csv');
const FACE = dataFile('utkface-agegender', 'val', '10_0_0_20170103200522151.jpg');
let addTaskStderr = '';
let trainRows = 0;

interface Task {
  name: string;
  data: { trainImages: number; skipped: { empty: number; negative: number; badImages: number } };
}

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Rewrites a model file's manifest with `edit`, keeping its tensors; re-signed (a valid checksum) unless `sign` is false. */
function rewriteManifest(src: string, dst: string, edit: (m: Record<string, unknown>) => void, sign = true): void {
  const { tensors, metadata } = decodeSafetensors(readFileSync(src), src);
  const manifest = JSON.parse(metadata[MANIFEST_KEY]!) as Record<string, unknown>;
  edit(manifest);
  const json = JSON.stringify(manifest);
  const checksum = sign ? modelChecksum(json, encodeSafetensors(tensors, { [MANIFEST_KEY]: json }).slice(1)) : metadata[CHECKSUM_KEY]!;
  writeFileSync(dst, Buffer.concat(encodeSafetensors(tensors, { [MANIFEST_KEY]: json, [CHECKSUM_KEY]: checksum })));
}

before(() => {
  // A small gender manifest in the temp folder: real images by absolute path, plus one corrupt JPEG in train.
  const lines = readFileSync(UTK, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  const h = lines[0]!.split(',');
  const [path, gender, split] = ['path', 'gender', 'split'].map((c) => h.indexOf(c)) as [number, number, number];
  const rows = lines.slice(1).map((l) => l.split(','));
  const pick = (s: string, every: number, n: number): string[][] =>
    rows
      .filter((r) => r[split] === s)
      .filter((_, i) => i % every === 0)
      .slice(0, n);
  const train = pick('train', 50, 100);
  trainRows = train.length;
  const out = ['path,gender,split'];
  for (const r of train) out.push(`${join(UTK, '..', r[path]!)},${r[gender]},train`);
  out.push('corrupt.jpg,1,train');
  for (const r of pick('val', 10, 50)) out.push(`${join(UTK, '..', r[path]!)},${r[gender]},val`);
  writeFileSync(manifest, `${out.join('\n')}\n`);
  writeFileSync(corrupt, Buffer.from('this is not a JPEG at all'));

  assert.equal(paenet('init', model, '--arch', 'tiny').status, 0);
  const r = paenet(
    'add-task',
    model,
    '--name',
    'gender',
    '--kind',
    'classify',
    '--data',
    manifest,
    '--label',
    'gender',
    '--goal',
    'none',
    '--epochs',
    '1',
    '--prune-ratios',
    '0.5',
    '--prune-epochs',
    '1',
    '--batch-size',
    '32',
  );
  assert.equal(r.status, 0, `add-task over a manifest with one corrupt image must succeed:\n${r.stderr}`);
  addTaskStderr = r.stderr;
});

// The exit codes of the PaenetError codes: a stable, documented contract, so spelled out here rather than imported.
const [USAGE, NOT_FOUND, MODEL_FILE, DATA, IMAGE, UNSUPPORTED] = [2, 3, 4, 5, 6, 7];

/** Runs the commands side by side (each spawn is mostly start-up time). */
const all = (...commands: string[][]): Promise<CliResult[]> => Promise.all(commands.map((args) => run(...args)));

// The checks only read the model (or write their own files): they run concurrently.
describe('bad input', { concurrency: 3 }, () => {
  test('a bad image inside a data set is skipped, reported and counted; add-task succeeds', async () => {
    assert.ok(
      nonEmptyLines(addTaskStderr).some((l) => l.includes('skipped bad image') && l.includes(corrupt)),
      `the skip is reported:\n${addTaskStderr}`,
    );
    assert.match(addTaskStderr, /1 bad images\)/);
    const r = await run('info', model, '--json');
    assert.equal(r.status, 0, r.stderr);
    const info = JSON.parse(r.stdout) as { tasks: Task[] };
    assert.equal(info.tasks.length, 1);
    assert.equal(info.tasks[0]!.data.skipped.badImages, 1);
    assert.equal(info.tasks[0]!.data.trainImages, trainRows, 'every good image was used');
  });

  test('missing, truncated, tampered and foreign model files', async () => {
    const missing = join(dir, 'missing.pae');
    const bytes = readFileSync(model);
    const [cut, short, tampered] = ['truncated.pae', 'short.pae', 'tampered.pae'].map((f) => join(dir, f)) as [string, string, string];
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    writeFileSync(short, bytes.subarray(0, 5));
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 3]! ^= 0xff;
    writeFileSync(tampered, flipped);
    const [a, b, c, d, e] = await all(
      ['info', missing],
      ['predict', missing, FACE],
      ['info', cut],
      ['predict', short, FACE],
      ['info', tampered],
    );
    assertOneLineError(a!, missing, /no such model file/, NOT_FOUND);
    assertOneLineError(b!, missing, /no such model file/, NOT_FOUND);
    assertOneLineError(c!, cut, /truncated data section/, MODEL_FILE);
    assertOneLineError(d!, short, /too short for a safetensors header/, MODEL_FILE);
    assertOneLineError(e!, tampered, /checksum/, MODEL_FILE);
    assertOneLineError(await run('info', FACE), FACE, /safetensors|not a paenet model/, MODEL_FILE);
  });

  test('a bad model file is one line "paenet: <file>: <problem>; hint: <fix>" and the exit code of its error code', async () => {
    const missing = join(dir, 'absent.pae');
    const tampered = join(dir, 'tampered-hint.pae');
    const flipped = Buffer.from(readFileSync(model));
    flipped[flipped.length - 3]! ^= 0xff;
    writeFileSync(tampered, flipped);
    const [a, b, c, d] = await all(['info', missing], ['info', tampered], ['info', model, '--threads', '0'], ['info', model]);
    assert.match(
      assertOneLineError(a!, missing, /no such model file/, NOT_FOUND),
      /^paenet: \S+absent\.pae: no such model file; hint: check the path, or create a model with `paenet init`$/,
    );
    assert.match(assertOneLineError(b!, tampered, /checksum/, MODEL_FILE), /^paenet: \S+tampered-hint\.pae: .*; hint: restore the file/);
    assert.match(assertOneLineError(c!, '--threads', /positive integer, got '0'/, USAGE), /; hint: /);
    assert.equal(d!.status, 0, `the control (the intact model) loads: ${d!.stderr}`);
  });

  test('a model file of another format version is rejected as a version problem', async () => {
    // Control: the same rewrite keeping the current version loads, so only the version differs in v4.pae.
    const [same, v4, unsigned] = ['v3.pae', 'v4.pae', 'v4-unsigned.pae'].map((f) => join(dir, f)) as [string, string, string];
    rewriteManifest(model, same, (m) => assert.equal(m.formatVersion, 3));
    rewriteManifest(model, v4, (m) => void (m.formatVersion = 4));
    // The same edit without re-signing is rejected too (the checksum covers the manifest).
    rewriteManifest(model, unsigned, (m) => void (m.formatVersion = 4), false);
    const [ok, bad, badUnsigned] = await all(['info', same, '--json'], ['predict', v4, FACE], ['info', unsigned]);
    assert.equal(ok!.status, 0, ok!.stderr);
    assertOneLineError(bad!, v4, /model format version 4 is not supported \(this paenet reads versions 1, 2, 3\)/, UNSUPPORTED);
    assertOneLineError(badUnsigned!, unsigned, /checksum/, MODEL_FILE);
  });

  test('predict: undecodable and missing images', async () => {
    const half = join(dir, 'half.jpg');
    const jpeg = readFileSync(FACE);
    writeFileSync(half, jpeg.subarray(0, jpeg.length >> 1));
    const missing = join(dir, 'nobody.jpg');
    const [a, b, c] = await all(
      ['predict', model, FACE, corrupt],
      ['predict', model, half, '--json'],
      ['predict', model, FACE, missing, '--json'],
    );
    assertOneLineError(a!, corrupt, /cannot decode image/, IMAGE);
    assertOneLineError(b!, half, /truncated JPEG/, IMAGE);
    assertOneLineError(c!, missing, /image file not found/, NOT_FOUND);
    assert.equal(c!.stdout, '', 'no partial JSON on stdout');
  });

  test('data that does not match the task', async () => {
    const pairs = dataFile('celeba-identity', 'pairs.txt');
    const folders = dataFile('fer2013'); // class folders of other classes (expressions) for the gender task
    const missing = join(dir, 'nothing.csv');
    const [a, b, c, d, e] = await all(
      ['add-task', model, '--name', 'x', '--kind', 'classify', '--data', manifest, '--label', 'nosuch', '--goal', 'none'],
      ['eval', model, '--task', 'gender', '--data', pairs],
      ['eval', model, '--task', 'gender', '--data', folders],
      ['eval', model, '--task', 'gender', '--data', missing],
      ['verify', model, FACE, FACE],
    );
    assert.match(assertOneLineError(a!, manifest, /no column "nosuch"/, DATA), /\(columns: path, gender, split\); hint: /);
    assertOneLineError(b!, pairs, /needs an identity task; 'gender' is classify/);
    assertOneLineError(c!, folders, /class folders \[angry, .*\] differ from the training classes \[0, 1\]/);
    assertOneLineError(d!, missing, /no such data file/);
    assertOneLineError(e!, model, /no identity task/);
  });

  test('add-task: --goal out of range, an unknown --kind, a taken name and a too small --input-size leave the model untouched', async () => {
    const before = sha(model);
    const base = ['add-task', model, '--kind', 'classify', '--data', manifest, '--label', 'gender'];
    const [a, b, c, d] = await all(
      [...base, '--name', 'x', '--goal', '2'],
      ['add-task', model, '--name', 'x', '--kind', 'regress', '--data', manifest, '--goal', 'none'],
      [...base, '--name', 'gender', '--goal', 'none'],
      [...base, '--name', 'x', '--goal', 'none', '--input-size', '8'],
    );
    assertOneLineError(a!, '--goal', /accuracy in \[0, 1\], got 2/);
    assertOneLineError(b!, "'regress'", /unknown task kind 'regress' \(kinds: classify, identity\)/);
    assertOneLineError(c!, "'gender'", /already has a task named/);
    assertOneLineError(d!, "task 'x'", /input size 8 must be a whole number of pixels in 32\.\.512/);
    assert.equal(sha(model), before);
    assert.ok(!existsSync(join(dir, 'model.x.ckpt')), 'no checkpoint folder for a refused run');
  });

  test('add-task: an existing checkpoint without --resume is refused; a broken one with --resume names its file', async () => {
    const ckpt = join(dir, 'model.age.ckpt');
    mkdirSync(ckpt);
    writeFileSync(join(ckpt, 'resume.json'), '{}');
    const args = [
      'add-task',
      model,
      '--name',
      'age',
      '--kind',
      'classify',
      '--data',
      manifest,
      '--label',
      'gender',
      '--goal',
      'none',
      '--epochs',
      '1',
    ];
    const [a, b, c] = await all(args, [...args, '--resume'], [...args, '--resume', '--checkpoint-dir', join(dir, 'nowhere.ckpt')]);
    assertOneLineError(a!, ckpt, /left a checkpoint: add --resume to continue it, or delete the folder/);
    assertOneLineError(b!, join(ckpt, 'resume.json'), /checkpoint state/);
    assertOneLineError(c!, join(dir, 'nowhere.ckpt'), /nothing to resume/);
  });

  test('analyze, verify and serve without a model run the shipped one; without it in the checkout, one line says so', async () => {
    const shipped = defaultModelPath();
    if (existsSync(shipped)) {
      // The shipped model is here: a face crop against itself is the same person by its calibrated threshold.
      const r = await run('verify', FACE, FACE, '--json');
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { distance: number; same: boolean };
      assert.ok(out.same && out.distance < 1e-5, r.stdout);
    } else {
      const results = await all(['analyze', FACE], ['verify', FACE, FACE, '--json'], ['serve', '--port', '0']);
      for (const r of results)
        assertOneLineError(r, shipped, /the shipped model is not in this checkout yet; pass a model file/, NOT_FOUND);
    }
    // Named twice (option and a *.pae argument), or verify given one crop: usage errors, before any model loads.
    const [twice, one] = await all(['analyze', '--model', model, model, FACE], ['verify', '--model', model, FACE]);
    assertOneLineError(twice!, `--model ${model}`, /name the model once/, USAGE);
    assertOneLineError(one!, FACE, /verify compares two face crops, got 1/, USAGE);
  });

  test('usage errors exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['add-task', model, '--kind', 'classify', '--data', manifest], /required option '--name <name>' not specified/],
      [['info'], /missing required argument 'model'/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ];
    const results = await all(...cases.map(([args]) => args));
    cases.forEach(([args, message], i) => {
      const r = results[i]!;
      assert.equal(r.status, 2, `paenet ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
      assert.match(nonEmptyLines(r.stderr)[0] ?? '', message);
      assert.equal(r.stdout, '');
    });
  });
});
