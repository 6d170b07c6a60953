// The HTTP service: POST /v1/analyze (an image body or form), POST /v1/verify (two images, JSON base64 or a form),
// GET /v1/tasks, GET /healthz, and the web page at /. Every error answers {"error": {status, code, message, hint}}
// with the status its PaenetError code maps to, never a stack; a bounded queue keeps load from exhausting memory;
// close() drains in-flight requests.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { httpStatus, PaenetError, type PaenetErrorCode } from '../common/errors.ts';
import { packageRoot } from '../io/packages.ts';
import { computeLedger } from '../pae/index.ts';
import type { Analyzer } from './analyze.ts';
import { BoundedQueue } from './queue.ts';
import { IMAGE_TYPES, readPair, readPhoto } from './upload.ts';
import { webPage } from './web-page.ts';

export interface ServerOptions {
  /** Largest request body in bytes (a form's images together, too). @default 10 MiB */
  bodyLimit?: number;
  /** Requests analysed at once. @default 1 */
  concurrency?: number;
  /** Requests allowed to wait. @default 16 */
  queue?: number;
  /** Per-request timeout in ms. @default 30000 */
  requestTimeout?: number;
  /** Serve the ONNX graph for the in-browser mode (GET /v1/model.onnx). */
  onnx?: Uint8Array;
}

/** Messages for the framework's own size errors (fastify's body limit, @fastify/multipart's part limit), by their code. */
const TOO_LARGE: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'request body too large',
  FST_REQ_FILE_TOO_LARGE: 'form part too large',
};

/** The framework's 4xx errors (fastify, @fastify/multipart) carry a status, not a paenet code: which code it is. */
const FRAMEWORK_CODES: Record<number, PaenetErrorCode> = { 404: 'PAENET_NOT_FOUND', 413: 'PAENET_TOO_LARGE', 415: 'PAENET_MEDIA_TYPE' };

/** Any error as the PaenetError the client is answered with: a server fault (status 500) says only that it is one. */
function clientError(e: Error, bodyLimit: number, contentType: string): PaenetError {
  const internal = new PaenetError('PAENET_INTERNAL', 'internal error', 'the server log has the details');
  if (e instanceof PaenetError) return httpStatus(e.code) === 500 ? internal : e;
  const { statusCode, code } = e as { statusCode?: number; code?: string };
  if (typeof statusCode !== 'number' || statusCode < 400 || statusCode >= 500) return internal;
  const paenetCode = FRAMEWORK_CODES[statusCode] ?? 'PAENET_INPUT';
  const tooLarge = code === undefined ? undefined : TOO_LARGE[code];
  if (tooLarge) return new PaenetError(paenetCode, `${tooLarge} (limit ${bodyLimit} bytes)`);
  if (paenetCode === 'PAENET_MEDIA_TYPE') return new PaenetError(paenetCode, `content type '${contentType || 'none'}' is not taken here`);
  return new PaenetError(paenetCode, e.message);
}

/** The error contract: the status the code maps to, and {"error": {status, code, message, hint}}. */
function sendError(reply: FastifyReply, e: PaenetError): FastifyReply {
  const status = httpStatus(e.code);
  return reply.status(status).send({ error: { status, code: e.code, message: e.message, hint: e.hint } });
}

export function buildServer(analyzer: Analyzer, o: ServerOptions = {}): FastifyInstance {
  const bodyLimit = o.bodyLimit ?? 10 * 2 ** 20;
  const app = Fastify({ bodyLimit, requestTimeout: o.requestTimeout ?? 30_000, logger: false });
  const queue = new BoundedQueue(o.concurrency ?? 1, o.queue ?? 16);
  const model = analyzer.model;
  // On close, answers still in flight say `Connection: close`, so their keep-alive sockets do not hold the
  // shutdown open for fastify's 72 s keep-alive timeout.
  let closing = false;
  app.addHook('preClose', async () => void (closing = true));
  app.addHook('onSend', async (_req, reply) => void (closing && reply.header('connection', 'close')));
  app.addContentTypeParser(IMAGE_TYPES, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  void app.register(multipart);

  app.setErrorHandler((error: Error, req, reply) => {
    const answer = clientError(error, bodyLimit, String(req.headers['content-type'] ?? ''));
    if (answer.code === 'PAENET_INTERNAL') app.log.error(error);
    void sendError(reply, answer);
  });
  app.setNotFoundHandler(
    (req, reply) =>
      void sendError(
        reply,
        new PaenetError('PAENET_NOT_FOUND', `no route ${req.method} ${req.url}`, 'the routes are listed in the README'),
      ),
  );

  app.get('/healthz', async () => ({ ok: true, tasks: model.tasks.length, queue: { active: queue.active, waiting: queue.pending } }));

  // The model does not change while served: its description and size ledger are computed on the first request only.
  let tasksInfo: ReturnType<typeof describeTasks> | undefined;
  app.get('/v1/tasks', async () => (tasksInfo ??= describeTasks(analyzer)));

  app.post<{ Querystring: { tasks?: string } }>('/v1/analyze', async (req) => {
    const body = await readPhoto(req, bodyLimit);
    const tasks = req.query.tasks?.split(',').map((t) => t.trim());
    const known = analyzer.runtime.tasks.map((x) => x.name);
    for (const t of tasks ?? [])
      if (!known.includes(t)) throw new PaenetError('PAENET_INPUT', `no task named '${t}'`, `tasks of this model: ${known.join(', ')}`);
    const r = await queue.run(() => analyzer.analyze(body, 'upload'));
    if (tasks) for (const f of r.faces) f.tasks = Object.fromEntries(Object.entries(f.tasks).filter(([k]) => tasks.includes(k)));
    return r;
  });

  app.post('/v1/verify', async (req) => {
    const { a, b, task } = await readPair(req, bodyLimit);
    return queue.run(() => analyzer.verify(a, b, task));
  });

  if (o.onnx) {
    const bytes = Buffer.from(o.onnx);
    app.get('/v1/model.onnx', async (_req, reply) => reply.type('application/octet-stream').send(bytes));
  }
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(webPage(model.tasks.map((t) => t.name))));
  // The page's script and, for the in-browser mode, the detector and ONNX runtime from their npm packages.
  const web = fileURLToPath(new URL('./web/', import.meta.url));
  app.get('/app.mjs', async (_req, reply) => sendFile(reply, join(web, 'app.mjs')));
  const ortDir = join(packageRoot('onnxruntime-web'), 'dist');
  const faceApi = packageRoot('@vladmandic/face-api');
  const ORT_FILES = new Set(['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.mjs']);
  app.get<{ Params: { file: string } }>('/vendor/ort/:file', async (req, reply) =>
    ORT_FILES.has(req.params.file) ? sendFile(reply, join(ortDir, req.params.file)) : notFound(req.params.file),
  );
  app.get('/vendor/face-api/face-api.esm.js', async (_req, reply) => sendFile(reply, join(faceApi, 'dist', 'face-api.esm.js')));
  app.get<{ Params: { file: string } }>('/vendor/face-api/model/:file', async (req, reply) =>
    /^(ssd_mobilenetv1|face_landmark_68)_model(-weights_manifest\.json|\.bin)$/.test(req.params.file)
      ? sendFile(reply, join(faceApi, 'model', req.params.file))
      : notFound(req.params.file),
  );
  return app;
}

/** GET /v1/tasks: tasks (with their input sizes), labels, metrics, module sizes, runtime and detector. */
function describeTasks(analyzer: Analyzer) {
  const model = analyzer.model;
  const ledger = computeLedger(model);
  return {
    backbone: { arch: model.config.arch, inputSize: model.config.inputSize, embedDim: model.config.embedDim },
    tasks: model.tasks.map((t) => ({
      name: t.name,
      kind: t.kind,
      // Each task takes face crops of its own side (the backbone's inputSize is the default).
      inputSize: model.inputSizeOf(t),
      labels: t.labels,
      metric: t.metric,
      threshold: t.extra.threshold ?? null,
      moduleBytes: ledger.tasks.find((x) => x.id === t.id)!.moduleBytes,
    })),
    sizes: { fileTensorBytes: ledger.fileTensorBytes, individualBytes: ledger.individualBytes },
    runtime: analyzer.runtime.kind,
    detector: analyzer.detector.name,
  };
}

const TYPES: Record<string, string> = {
  mjs: 'text/javascript; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  wasm: 'application/wasm',
  json: 'application/json',
  bin: 'application/octet-stream',
};

/** A static file of a known folder (names are whitelisted by the routes, so no path leaves them). */
function sendFile(reply: FastifyReply, path: string): FastifyReply {
  if (!existsSync(path)) notFound(path.split('/').pop()!);
  return reply.type(TYPES[path.split('.').pop() ?? ''] ?? 'application/octet-stream').send(readFileSync(path));
}

function notFound(name: string): never {
  throw new PaenetError('PAENET_NOT_FOUND', `no such file ${name}`, 'the page loads only the files it names');
}
