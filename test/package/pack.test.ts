// The package as a user gets it: `npm pack` (which compiles src/ to dist/), the tarball installed OFFLINE into a new
// project (whose install builds the libtorch addon there), then plain Node (no tsx) imports 'paenet', trains a tiny
// task, saves and reloads the model, analyzes a photo, serves the web page's script, runs the installed bin, and
// TypeScript type-checks a consumer file against the shipped .d.ts. Slow (the native build): one test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const manifest = join(root, 'data/utkface-agegender/manifest.csv');

// Children get a clean environment: no tsx loader, and none of the npm_* variables `npm test` sets (npm reads them
// as configuration, e.g. the prefix, which would point the nested installs back at this repository).
const env: NodeJS.ProcessEnv = { OMP_NUM_THREADS: '1', OMP_WAIT_POLICY: 'PASSIVE' };
for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'NODE_OPTIONS') env[k] ??= v;

/** Runs a command; on failure, fails the test with the command and the end of its output. */
function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) assert.fail(`\`${cmd} ${args.join(' ')}\` in ${cwd} exited ${r.status ?? r.signal}:\n${output.slice(-4000)}`);
  return r.stdout;
}

/**
 * The consumer project. `npm ci` fills npm's cache with this repo's dependency tarballs (found by integrity) but not
 * reliably with the registry's metadata, so an offline install can neither resolve version ranges nor look up a
 * tarball's address: the project starts from this repo's lockfile (the same versions, development ones dropped), each
 * entry given its registry address. It takes the repo's install policy as a user would: the .npmrc and the
 * `allowScripts` denials (onnxruntime-node's CUDA download, ...).
 */
function consumerProject(dir: string): void {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', allowScripts: pkg.allowScripts }),
  );
  copyFileSync(join(root, '.npmrc'), join(dir, '.npmrc'));
  type Entry = { dev?: boolean; link?: boolean; resolved?: string; name?: string; version?: string };
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, Entry> };
  const packages: Record<string, Entry> = { '': { name: 'consumer' } };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.dev) continue;
    const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const tarball = `https://registry.npmjs.org/${name}/-/${name.split('/').at(-1)}-${entry.version}.tgz`;
    packages[path] = entry.resolved || entry.link ? entry : { ...entry, resolved: tarball };
  }
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages }));
}

// What the consumer runs: the README's import, a task trained briefly, the model file round trip, one photo analyzed,
// and the HTTP service answering with the web page's script (an asset copied beside the compiled code).
const USE = `
import { addTask, Analyzer, analyze, buildServer, createModel, loadModel, saveModel, tensor, tidy } from 'paenet';
const [manifest, photo, file] = process.argv.slice(2);
const sum = tidy(() => tensor([1, 2, 3, 4], [2, 2]).sum().item());
const { model } = await addTask(createModel('tiny', { widthMult: 0.5 }), {
  name: 'gender', kind: 'classify', data: manifest, label: 'gender', goal: 'none', skipPruning: true,
  limit: { train: 64, val: 32 }, batchSize: 32, train: { epochs: 1 },
});
saveModel(model, file);
model.dispose();
const loaded = loadModel(file);
const analysis = await analyze(loaded, photo);
const analyzer = await Analyzer.create(loaded, { runtime: 'libtorch' });
const app = buildServer(analyzer);
const script = await app.inject({ url: '/app.mjs' });
await app.close();
await analyzer.dispose();
console.log(JSON.stringify({
  entry: import.meta.resolve('paenet'), sum, labels: loaded.tasks[0].labels, faces: analysis.faces.map((f) => f.tasks),
  script: { status: script.statusCode, bytes: script.body.length },
}));
loaded.dispose();
`;

// Type-checked against the shipped declarations: each @ts-expect-error fails the check if the types were lost (any).
const CHECK = `
import { analyze, createModel, loadModel, type Analysis, type PaeModel } from 'paenet';
const model: PaeModel = createModel('tiny');
const pending: Promise<Analysis> = analyze(loadModel('model.pae'), 'photo.jpg');
// @ts-expect-error a model file is named by a path
loadModel(42);
// @ts-expect-error the tasks are records, not a number
const count: number = model.tasks;
export { pending, count };
`;

test('npm pack, offline install into a new project, plain node imports paenet and analyzes a photo', { timeout: 40 * 60_000 }, () => {
  assert.ok(existsSync(manifest), `${manifest} is missing: the test trains on the face data (link data/ as the README says)`);
  const dir = mkdtempSync(join(tmpdir(), 'paenet-pack-'));
  try {
    run('npm', ['pack', '--pack-destination', dir], root);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack wrote no tarball');
    const shipped = run('tar', ['-tzf', join(dir, tarball)], dir).split('\n');
    for (const f of [
      'dist/index.js',
      'dist/index.d.ts',
      'dist/serve/web/app.mjs',
      'native/binding.gyp',
      'scripts/build-native.mjs',
      'bin/paenet.mjs',
    ])
      assert.ok(shipped.includes(`package/${f}`), `the tarball lacks ${f}`);
    for (const f of ['package/src/', 'package/test/', 'package/native/build/'])
      assert.ok(!shipped.some((p) => p.startsWith(f)), `the tarball ships ${f}`);

    const project = join(dir, 'consumer');
    mkdirSync(project);
    consumerProject(project);
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(dir, tarball)], project);
    const installed = join(project, 'node_modules/paenet');
    assert.ok(
      existsSync(join(installed, 'native/build/Release/paenet_native.node')),
      'the install script built no addon in the installed package',
    );

    writeFileSync(join(project, 'use.mjs'), USE);
    const photo = join(project, 'node_modules/@vladmandic/human/assets/screenshot-faceid.jpg');
    const out = JSON.parse(run(process.execPath, ['use.mjs', manifest, photo, 'model.pae'], project).trim().split('\n').at(-1)!) as {
      entry: string;
      sum: number;
      labels: string[];
      faces: Record<string, { kind: string; label: string; scores: Record<string, number> }>[];
      script: { status: number; bytes: number };
    };
    assert.equal(out.entry, `file://${installed}/dist/index.js`);
    assert.equal(out.sum, 10);
    assert.deepEqual(out.labels, ['male', 'female']);
    assert.equal(out.faces.length, 1, 'the portrait has one face');
    const gender = out.faces[0]!.gender!;
    assert.equal(gender.kind, 'classify');
    assert.ok(out.labels.includes(gender.label));
    assert.ok(Math.abs(Object.values(gender.scores).reduce((a, b) => a + b, 0) - 1) < 1e-4, 'class probabilities sum to 1');
    assert.equal(out.script.status, 200, 'the web page script (dist/serve/web/app.mjs) is served');
    assert.ok(out.script.bytes > 1000);

    const info = run(process.execPath, [join(installed, 'bin/paenet.mjs'), 'info', 'model.pae'], project);
    assert.match(info, /gender\s+classify/);

    writeFileSync(join(project, 'check.ts'), CHECK);
    const tsconfig = {
      compilerOptions: {
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        target: 'ES2022',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: [],
      },
      files: ['check.ts'],
    };
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(tsconfig));
    run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', project], project);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
