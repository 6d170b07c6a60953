// Serving benchmark: per-face latency at batch 1 and throughput at batch 32, onnxruntime-node vs the libtorch eager
// forward on the same packed model (face-api's recognition net as task 1 + a packed classify task, 150 px; or
// --model FILE); the int8 graph vs the fp32 graph at batch 1, module by module and all together; analyze end to end
// on a real group photo; and a load test of the HTTP service on 127.0.0.1 (requests/s, p50/p99, errors, peak RSS).
// Ratios are onnx over libtorch and fp32 over int8, measured in the same run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getNumThreads, manualSeed, setNumThreads } from '../src/engine/index.ts';
import { packageRoot } from '../src/io/packages.ts';
import { openFree, PaeModel, releaseToRatio, type TaskRecord } from '../src/pae/index.ts';
import { Analyzer } from '../src/serve/analyze.ts';
import { buildServer } from '../src/serve/http.ts';
import { decodePhoto, faceCrops } from '../src/serve/photo.ts';
import { loadCalibration } from '../src/serve/onnx/calibration-set.ts';
import { createRuntime, type FaceCrops, type TaskRuntime } from '../src/serve/runtime.ts';
import { faceApiPackageDir, importFaceApiRecognition } from '../src/tasks/index.ts';
import { floatRoles, int8Speed } from './int8-speed.ts';
import { benchModelNamed, calibrationSources } from './models.ts';
import type { BenchOptions, BenchResult, Log } from './options.ts';

const DEFAULTS = { steps: 40, warmup: 5, batch: 32, clients: 8, seconds: 10, calibrationImages: 64 };
const ASSETS = join(packageRoot('@vladmandic/human'), 'assets');

/** face-api's recognition net (task 1, half pruned) and a 2-class task packed into the freed weights (untrained). */
function benchModel(): PaeModel {
  manualSeed(3);
  const model = importFaceApiRecognition(faceApiPackageDir(), 'identity', { paenetVersion: 'bench', torchVersion: '', created: '' }).model;
  for (const l of model.net.layers) releaseToRatio(l, 1, 0.5);
  model.tasks[0]!.extra.threshold = 0.06;
  model.net.addTaskSlot(2, 'cumulative', { kind: 'linear', classes: 2 });
  openFree(model.net, 2);
  const first = model.tasks[0]!;
  const gender: TaskRecord = {
    ...first,
    id: 2,
    name: 'gender',
    kind: 'classify',
    labels: ['male', 'female'],
    head: { kind: 'linear', classes: 2 },
    extra: {},
  };
  delete gender.frozenNorm;
  delete gender.input;
  model.tasks.push(gender);
  return model;
}

async function timeRuns(rt: TaskRuntime, crops: FaceCrops[], steps: number, warmup: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await rt.run(crops);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await rt.run(crops);
  return (performance.now() - t0) / steps;
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

export async function run(o: BenchOptions, log: Log): Promise<BenchResult> {
  const threads = o.threads ?? getNumThreads();
  setNumThreads(threads);
  const steps = o.steps ?? DEFAULTS.steps;
  const warmup = o.warmup ?? DEFAULTS.warmup;
  const batch = o.batch ?? DEFAULTS.batch;
  const model = o.model ? benchModelNamed(o.model) : benchModel();
  const group = readFileSync(join(ASSETS, 'screenshot-facedetect.jpg'));
  const portrait = readFileSync(join(ASSETS, 'screenshot-faceid.jpg'));
  const described = o.model
    ? `${o.model}: ${model.tasks.map((t) => `${t.name}@${model.inputSizeOf(t)}px`).join(', ')}`
    : 'dlib-resnet 150px, 2 tasks (identity + classify)';
  const result: BenchResult = { benchmark: 'serve', threads, steps, batch, model: described };
  try {
    const analyzer = await Analyzer.create(model);
    const photo = await decodePhoto(group, 'group');
    const faces = (await analyzer.analyze(group)).faces;
    const crops = await Promise.all(faces.map((f) => faceCrops(photo, f.box, analyzer.runtime.sizes)));
    const batchCrops = Array.from({ length: batch }, (_, i) => crops[i % crops.length]!);
    for (const kind of ['onnx', 'libtorch'] as const) {
      const rt = kind === 'onnx' ? analyzer.runtime : await createRuntime(model, 'libtorch');
      const one = await timeRuns(rt, [crops[0]!], steps, warmup);
      const many = await timeRuns(rt, batchCrops, Math.max(3, Math.round(steps / 8)), 1);
      result[`${kind}_ms_per_face_b1`] = +one.toFixed(2);
      result[`${kind}_faces_per_s_b${batch}`] = +((1000 * batch) / many).toFixed(1);
      log(`${kind}: ${one.toFixed(2)} ms per face at batch 1, ${((1000 * batch) / many).toFixed(1)} faces/s at batch ${batch}`);
      if (kind === 'libtorch') await rt.dispose();
    }
    result.onnx_over_libtorch_speedup_b1 = +((result.libtorch_ms_per_face_b1 as number) / (result.onnx_ms_per_face_b1 as number)).toFixed(
      2,
    );
    result[`onnx_over_libtorch_speedup_b${batch}`] = +(
      (result[`onnx_faces_per_s_b${batch}`] as number) / (result[`libtorch_faces_per_s_b${batch}`] as number)
    ).toFixed(2);
    // int8 vs fp32 onnxruntime graphs, module by module, calibrated on training faces (bench/models.ts).
    const sources = calibrationSources(model, o.calibration);
    const images = o.calibrationImages ?? DEFAULTS.calibrationImages;
    log(`int8: calibrating on ${images} faces of ${sources.join(', ')}`);
    const calibration = await loadCalibration(sources, analyzer.runtime.sizes, images);
    result.int8_calibration_images = images;
    Object.assign(result, await int8Speed(model, calibration, { float: floatRoles(o.keepFloat), warmup, steps }, log));
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) await analyzer.analyze(group);
    const perPhoto = (performance.now() - t0) / 5;
    result.analyze_ms_per_photo = +perPhoto.toFixed(1);
    result.analyze_faces_per_photo = faces.length;
    log(`analyze (detect + ${model.tasks.length} tasks): ${perPhoto.toFixed(0)} ms for ${faces.length} faces in an 800×718 photo`);

    // Load test: C clients posting a portrait back to back for S seconds.
    const app = buildServer(analyzer, { queue: 64 });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const latencies: number[] = [];
    let errors = 0;
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
    const end = Date.now() + DEFAULTS.seconds * 1000;
    await Promise.all(
      Array.from({ length: DEFAULTS.clients }, async () => {
        while (Date.now() < end) {
          const s = performance.now();
          const r = await fetch(`${base}/v1/analyze`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: portrait });
          await r.arrayBuffer();
          if (r.status !== 200) errors++;
          latencies.push(performance.now() - s);
        }
      }),
    );
    clearInterval(sampler);
    await app.close();
    await analyzer.dispose();
    Object.assign(result, {
      load_clients: DEFAULTS.clients,
      load_seconds: DEFAULTS.seconds,
      load_requests: latencies.length,
      load_requests_per_s: +(latencies.length / DEFAULTS.seconds).toFixed(1),
      load_p50_ms: +quantile(latencies, 0.5).toFixed(1),
      load_p99_ms: +quantile(latencies, 0.99).toFixed(1),
      load_errors: errors,
      peak_rss_mb: +(peakRss / 2 ** 20).toFixed(0),
    });
    log(
      `load: ${latencies.length} requests in ${DEFAULTS.seconds} s from ${DEFAULTS.clients} clients, p50 ${result.load_p50_ms} ms, ` +
        `p99 ${result.load_p99_ms} ms, ${errors} errors, peak RSS ${result.peak_rss_mb} MB`,
    );
    return result;
  } finally {
    model.dispose();
  }
}
