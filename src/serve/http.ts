// The HTTP service: POST /v1/analyze (an image body), POST /v1/verify (two images, JSON base64), GET /v1/tasks,
// GET /healthz, and the web page at /. Client faults are 4xx with a one-line message, never a stack; a bounded
// queue keeps load from exhausting memory; close() drains in-flight requests.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { packageRoot } from '../io/packages.ts';
import { computeLedger } from '../pae/index.ts';
import type { Analyzer } from './analyze.ts';
import { InputError } from './input-error.ts';
import { BoundedQueue, QueueFullError } from './queue.ts';
import { webPage } from './web-page.ts';

export interface ServerOptions {
  /** Largest request body in bytes. @default 10 MiB */
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

const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/tiff', 'image/avif', 'application/octet-stream'];

/** Errors this service raises for bad input carry a status code. */
class ClientError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Maps an analyzer error to a status: bad images are the client's fault; everything else is ours. */
function statusOf(e: Error): number {
  if (e instanceof ClientError) return e.statusCode;
  if (e instanceof QueueFullError) return 503;
  if (e instanceof InputError) return 422;
  const code = (e as { statusCode?: number }).statusCode;
  return typeof code === 'number' && code >= 400 && code < 500 ? code : 500;
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

  app.setErrorHandler((error: Error, _req, reply) => {
    const status = statusOf(error);
    const message = status >= 500 && !(error instanceof QueueFullError) ? 'internal error' : error.message.split('\n')[0];
    if (status >= 500 && !(error instanceof QueueFullError)) app.log.error(error);
    void reply.status(status).send({ error: { status, message } });
  });
  app.setNotFoundHandler(
    (req, reply) => void reply.status(404).send({ error: { status: 404, message: `no route ${req.method} ${req.url}` } }),
  );

  app.get('/healthz', async () => ({ ok: true, tasks: model.tasks.length, queue: { active: queue.active, waiting: queue.pending } }));

  // The model does not change while served: its description and size ledger are computed on the first request only.
  let tasksInfo: ReturnType<typeof describeTasks> | undefined;
  app.get('/v1/tasks', async () => (tasksInfo ??= describeTasks(analyzer)));

  app.post<{ Querystring: { tasks?: string } }>('/v1/analyze', async (req) => {
    const type = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim();
    if (!IMAGE_TYPES.includes(type))
      throw new ClientError(415, `send the image as the request body with an image/* content type (got '${type || 'none'}')`);
    const body = req.body as Buffer;
    if (!body?.length) throw new ClientError(400, 'empty body: send the image bytes');
    const tasks = req.query.tasks?.split(',').map((t) => t.trim());
    for (const t of tasks ?? []) if (!analyzer.runtime.tasks.some((x) => x.name === t)) throw new ClientError(400, `no task named '${t}'`);
    const r = await queue.run(() => analyzer.analyze(body, 'upload'));
    if (tasks) for (const f of r.faces) f.tasks = Object.fromEntries(Object.entries(f.tasks).filter(([k]) => tasks.includes(k)));
    return r;
  });

  app.post<{ Body: { a?: string; b?: string; task?: string } }>('/v1/verify', async (req) => {
    const { a, b, task } = req.body ?? {};
    if (typeof a !== 'string' || typeof b !== 'string') throw new ClientError(400, 'send JSON {"a": base64 image, "b": base64 image}');
    return queue.run(() => analyzer.verify(Buffer.from(a, 'base64'), Buffer.from(b, 'base64'), task));
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

/** GET /v1/tasks: tasks, labels, metrics, module sizes, runtime and detector. */
function describeTasks(analyzer: Analyzer) {
  const model = analyzer.model;
  const ledger = computeLedger(model);
  return {
    backbone: { arch: model.config.arch, inputSize: model.config.inputSize, embedDim: model.config.embedDim },
    tasks: model.tasks.map((t) => ({
      name: t.name,
      kind: t.kind,
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
  if (!existsSync(path)) throw new ClientError(404, `no such file ${path.split('/').pop()}`);
  return reply.type(TYPES[path.split('.').pop() ?? ''] ?? 'application/octet-stream').send(readFileSync(path));
}

function notFound(name: string): never {
  throw new ClientError(404, `no such file ${name}`);
}
