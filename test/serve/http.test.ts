// The HTTP service with real requests: every endpoint, the raw, JSON and multipart form uploads, every client fault
// as the status of its PaenetError code with {status, code, message, hint} (never a stack), the bounded queue
// answering 503 under load, and `paenet serve` draining in-flight work on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { saveModel, type PaeModel } from '../../src/pae/index.ts';
import { Analyzer } from '../../src/serve/analyze.ts';
import { buildServer } from '../../src/serve/http.ts';
import { cliEnv, repoRoot, tempDir } from '../cli/helpers.ts';
import { GROUP_PHOTO, PORTRAIT_PHOTO, servingModel } from './models.ts';

const GROUP = readFileSync(GROUP_PHOTO);
const PORTRAIT = readFileSync(PORTRAIT_PHOTO);
let BLANK: Buffer; // a photo without a face
const dir = tempDir('http');

let model: PaeModel;
let analyzer: Analyzer;
let app: FastifyInstance;
before(async () => {
  model = servingModel();
  analyzer = await Analyzer.create(model);
  app = buildServer(analyzer, { bodyLimit: 1_000_000, queue: 1 });
  BLANK = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .jpeg()
    .toBuffer();
  await app.ready();
});
after(async () => {
  await app.close();
  await analyzer.dispose();
  model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** The structured error contract: status, stable code, one-line message, a hint, no stack. */
function assertError(r: { statusCode: number; body: string }, status: number, code: string, message: RegExp): void {
  assert.equal(r.statusCode, status, r.body);
  const body = JSON.parse(r.body) as { error: { status: number; code: string; message: string; hint: string } };
  assert.deepEqual(Object.keys(body.error), ['status', 'code', 'message', 'hint']);
  assert.equal(body.error.status, status);
  assert.equal(body.error.code, code);
  assert.match(body.error.message, message);
  assert.ok(body.error.hint.length > 0, `a hint: ${r.body}`);
  assert.ok(!body.error.message.includes('\n') && !/\bat .*\.ts:\d+/.test(r.body), `no stack: ${r.body}`);
}

/** A multipart/form-data request as a browser or `curl -F` sends it: files (with a content type) and text fields. */
async function form(
  parts: [name: string, value: Buffer | string, type?: string][],
): Promise<{ payload: Buffer; headers: { 'content-type': string } }> {
  const data = new FormData();
  for (const [name, value, type] of parts)
    if (typeof value === 'string') data.append(name, value);
    else data.append(name, new Blob([new Uint8Array(value)], { type: type ?? 'image/jpeg' }), `${name}.jpg`);
  const encoded = new Response(data);
  return { payload: Buffer.from(await encoded.arrayBuffer()), headers: { 'content-type': encoded.headers.get('content-type')! } };
}

const postForm = async (url: string, parts: Parameters<typeof form>[0]) => app.inject({ method: 'POST', url, ...(await form(parts)) });

test('GET /healthz and /v1/tasks: the manifest with labels and module sizes', async () => {
  const h = await app.inject({ method: 'GET', url: '/healthz' });
  assert.equal(h.statusCode, 200);
  assert.equal(h.json<{ ok: boolean }>().ok, true);
  const t = await app.inject({ method: 'GET', url: '/v1/tasks' });
  const info = t.json<{ tasks: { name: string; labels: string[]; inputSize: number; moduleBytes: number }[]; runtime: string }>();
  assert.deepEqual(
    info.tasks.map((x) => [x.name, x.labels, x.inputSize]),
    [
      ['identity', [], 150],
      ['gender', ['male', 'female'], 150],
    ],
  );
  assert.ok(info.tasks.every((x) => x.moduleBytes > 0));
  assert.equal(info.runtime, 'onnx');
});

test('POST /v1/analyze: faces and every task; ?tasks= narrows the answer', async () => {
  const r = await app.inject({ method: 'POST', url: '/v1/analyze', headers: { 'content-type': 'image/jpeg' }, payload: GROUP });
  assert.equal(r.statusCode, 200, r.body);
  const out = r.json<{ faces: { tasks: Record<string, unknown> }[] }>();
  assert.ok(out.faces.length >= 8);
  assert.deepEqual(Object.keys(out.faces[0]!.tasks), ['identity', 'gender']);
  const one = await app.inject({
    method: 'POST',
    url: '/v1/analyze?tasks=gender',
    headers: { 'content-type': 'image/jpeg' },
    payload: PORTRAIT,
  });
  assert.deepEqual(Object.keys(one.json<{ faces: { tasks: object }[] }>().faces[0]!.tasks), ['gender']);
});

test('client faults are 4xx with one line: wrong type, empty, corrupt, too large, unknown task, unknown route', async () => {
  const post = (payload: string | Buffer, type: string, url = '/v1/analyze') =>
    app.inject({ method: 'POST', url, headers: { 'content-type': type }, payload });
  assertError(await post('hello', 'text/plain'), 415, 'PAENET_MEDIA_TYPE', /image\/\* content type/);
  assertError(await post('<a/>', 'application/xml'), 415, 'PAENET_MEDIA_TYPE', /content type 'application\/xml' is not taken/);
  assertError(await post(Buffer.alloc(0), 'image/jpeg'), 400, 'PAENET_INPUT', /empty body/);
  assertError(await post(Buffer.from('not an image at all'), 'image/jpeg'), 422, 'PAENET_IMAGE', /^upload: not a decodable image/);
  assertError(await post(Buffer.alloc(1_500_000, 1), 'image/png'), 413, 'PAENET_TOO_LARGE', /too large \(limit 1000000 bytes\)/);
  assertError(await post(PORTRAIT, 'image/jpeg', '/v1/analyze?tasks=age'), 400, 'PAENET_INPUT', /no task named 'age'/);
  assertError(await app.inject({ method: 'GET', url: '/v2/nothing' }), 404, 'PAENET_NOT_FOUND', /no route GET \/v2\/nothing/);
  assertError(await app.inject({ method: 'GET', url: '/vendor/ort/x.js' }), 404, 'PAENET_NOT_FOUND', /no such file x\.js/);
  assertError(await app.inject({ method: 'POST', url: '/v1/verify', payload: { a: 1 } }), 400, 'PAENET_INPUT', /base64/);
  assertError(
    await app.inject({ method: 'POST', url: '/v1/verify', headers: { 'content-type': 'application/json' }, payload: '{"a":' }),
    400,
    'PAENET_INPUT',
    /JSON/,
  );
});

test('POST /v1/verify: a face against itself is the same person, with the model threshold', async () => {
  const b64 = PORTRAIT.toString('base64');
  const r = await app.inject({ method: 'POST', url: '/v1/verify', payload: { a: b64, b: b64 } });
  assert.equal(r.statusCode, 200, r.body);
  const v = r.json<{ same: boolean; distance: number; threshold: number }>();
  assert.ok(v.same && v.distance < 1e-5);
  assert.equal(v.threshold, 0.06);
  const unknown = await app.inject({ method: 'POST', url: '/v1/verify', payload: { a: b64, b: b64, task: 'nope' } });
  assertError(unknown, 400, 'PAENET_INPUT', /no identity task named 'nope'/);
  const noFace = await app.inject({ method: 'POST', url: '/v1/verify', payload: { a: b64, b: BLANK.toString('base64') } });
  assertError(noFace, 422, 'PAENET_IMAGE', /^second upload: no face found/);
});

test('multipart forms (a browser form, curl -F): analyze takes the part photo, verify the parts a and b', async () => {
  const raw = await app.inject({ method: 'POST', url: '/v1/analyze', headers: { 'content-type': 'image/jpeg' }, payload: PORTRAIT });
  const viaForm = await postForm('/v1/analyze?tasks=gender', [
    ['note', 'a text field is ignored'],
    ['photo', PORTRAIT],
  ]);
  assert.equal(viaForm.statusCode, 200, viaForm.body);
  type Faces = { faces: { box: number[]; tasks: Record<string, unknown> }[] };
  const [fromForm, fromBody] = [viaForm.json<Faces>(), raw.json<Faces>()];
  assert.deepEqual(
    fromForm.faces.map((f) => f.box),
    fromBody.faces.map((f) => f.box),
    'the same photo gives the same faces either way',
  );
  assert.deepEqual(fromForm.faces[0]!.tasks, { gender: fromBody.faces[0]!.tasks.gender });
  // An unknown extension comes as application/octet-stream, as curl sends it.
  const pair = await postForm('/v1/verify', [
    ['a', PORTRAIT, 'application/octet-stream'],
    ['b', PORTRAIT],
    ['task', 'identity'],
  ]);
  assert.equal(pair.statusCode, 200, pair.body);
  const v = pair.json<{ same: boolean; distance: number }>();
  assert.ok(v.same && v.distance < 1e-5, pair.body);
  assertError(
    await postForm('/v1/verify', [
      ['a', PORTRAIT],
      ['b', PORTRAIT],
      ['task', 'nope'],
    ]),
    400,
    'PAENET_INPUT',
    /'nope'/,
  );
});

test('multipart faults: no image part is 400, an oversized part or form is 413, a non-image part is 415', async () => {
  assertError(
    await postForm('/v1/analyze', [['note', 'no file at all']]),
    400,
    'PAENET_INPUT',
    /no image part 'photo' \(file parts sent: none\)/,
  );
  assertError(
    await postForm('/v1/analyze', [['image', PORTRAIT]]),
    400,
    'PAENET_INPUT',
    /no image part 'photo' \(file parts sent: image\)/,
  );
  assertError(await postForm('/v1/analyze', [['photo', 'a text field, not a file']]), 400, 'PAENET_INPUT', /no image part 'photo'/);
  assertError(await postForm('/v1/verify', [['a', PORTRAIT]]), 400, 'PAENET_INPUT', /no image part 'b'/);
  assertError(await postForm('/v1/analyze', [['photo', Buffer.alloc(0)]]), 400, 'PAENET_INPUT', /part 'photo' is empty/);
  assertError(await postForm('/v1/analyze', [['photo', Buffer.alloc(1_500_000, 1)]]), 413, 'PAENET_TOO_LARGE', /too large/);
  // Each part under the limit, both together over it: the limit is the request's, as for a raw body.
  const half = Buffer.alloc(600_000, 1);
  assertError(
    await postForm('/v1/verify', [
      ['a', half],
      ['b', half],
    ]),
    413,
    'PAENET_TOO_LARGE',
    /1000000-byte limit/,
  );
  assertError(await postForm('/v1/analyze', [['photo', PORTRAIT, 'text/plain']]), 415, 'PAENET_MEDIA_TYPE', /'text\/plain', not an image/);
  assertError(await postForm('/v1/analyze', [['photo', Buffer.from('not an image')]]), 422, 'PAENET_IMAGE', /not a decodable image/);
});

test('the bounded queue answers 503 beyond its capacity, never 500; all others succeed', async () => {
  const rs = await Promise.all(
    Array.from({ length: 6 }, () =>
      app.inject({ method: 'POST', url: '/v1/analyze', headers: { 'content-type': 'image/jpeg' }, payload: PORTRAIT }),
    ),
  );
  const codes = rs.map((r) => r.statusCode);
  assert.ok(
    codes.every((c) => c === 200 || c === 503),
    codes.join(','),
  );
  assert.ok(codes.filter((c) => c === 503).length >= 1 && codes.filter((c) => c === 200).length >= 2, codes.join(','));
  for (const r of rs.filter((x) => x.statusCode === 503)) assertError(r, 503, 'PAENET_BUSY', /busy/);
});

test('paenet serve: a real socket; SIGTERM lets the in-flight request finish, then exits 0', async () => {
  const file = join(dir, 'model.pae');
  saveModel(model, file);
  const child = spawn(process.execPath, ['bin/paenet.mjs', '--threads', '1', 'serve', file, '--port', '0'], {
    cwd: repoRoot,
    env: cliEnv(),
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => void (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!/at (http:\/\/\S+)/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const base = /at (http:\/\/\S+)/.exec(stderr)?.[1];
  assert.ok(base, `the server announced its address:\n${stderr}`);
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  const page = await (await fetch(`${base}/`)).text();
  assert.match(page, /<title>paenet<\/title>/);
  assert.match(page, /identity, gender/);
  // A real socket form upload, as `curl -F photo=@face.jpg` sends it.
  const upload = new FormData();
  upload.append('photo', new Blob([new Uint8Array(PORTRAIT)], { type: 'image/jpeg' }), 'face.jpg');
  const viaForm = await fetch(`${base}/v1/analyze`, { method: 'POST', body: upload });
  assert.equal(viaForm.status, 200, await viaForm.clone().text());
  assert.ok(((await viaForm.json()) as { faces: unknown[] }).faces.length >= 1);
  const inFlight = fetch(`${base}/v1/analyze`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: GROUP });
  await new Promise((r) => setTimeout(r, 150));
  child.kill('SIGTERM');
  const t0 = Date.now();
  const res = await inFlight;
  console.log(`# in-flight answered ${Date.now() - t0} ms after SIGTERM`);
  assert.equal(res.status, 200, 'the in-flight request completes');
  assert.ok(((await res.json()) as { faces: unknown[] }).faces.length >= 8);
  assert.equal(await exited, 0, stderr);
  console.log(`# exited ${Date.now() - t0} ms after SIGTERM`);
  assert.match(stderr, /SIGTERM: finishing in-flight requests[\s\S]*stopped/);
});
