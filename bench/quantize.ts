// Quantization benchmark: for a model (--model FILE, or the faceres-packed stand-in) and each module's validation
// data (its task record's: a classify task's manifest, label and validation split, an identity task's pairs file;
// or --data TASK=FILE), the module's accuracy through onnxruntime on the fp32 graph and on the int8 graph (top-1;
// LFW 10-fold verification), with src/tasks/evaluate.ts's protocols run on the graphs (src/serve/onnx/
// evaluate-graph.ts; the fp32 graph scores what the libtorch forward scores), and ms per face at batch 1 of both
// graphs per module and for every module together. The libtorch pass itself is left out: its 128-face batches
// at 224 px need more memory than a serving benchmark should take.
import * as ort from 'onnxruntime-node';
import type { PaeModel, TaskRecord } from '../src/pae/index.ts';
import { loadCalibration, CALIBRATION_IMAGES } from '../src/serve/onnx/calibration-set.ts';
import { exportOnnx } from '../src/serve/onnx/export-model.ts';
import { graphTop1, graphVerification } from '../src/serve/onnx/evaluate-graph.ts';
import { exportOnnxInt8 } from '../src/serve/onnx/quantize.ts';
import type { FloatRole } from '../src/serve/onnx/quantize-plan.ts';
import { loadImageSet, loadPairSet, type ImageSet } from '../src/tasks/index.ts';
import { floatRoles, int8Speed } from './int8-speed.ts';
import { benchModelNamed, calibrationSources } from './models.ts';
import type { BenchOptions, BenchResult, Log } from './options.ts';

const DEFAULTS = { model: 'faceres-packed', steps: 40, warmup: 5, batch: 32 };

/** A task's validation data: `--data TASK=FILE` if given, else its record's. */
function dataOf(t: TaskRecord, overrides: Map<string, string>): string[] {
  const given = overrides.get(t.name);
  if (given) return [given];
  const d = t.kind === 'identity' ? t.data.pairs : t.data.manifest;
  const files = (Array.isArray(d) ? d : [d]).filter((f): f is string => typeof f === 'string');
  if (files.length === 0) throw new Error(`task '${t.name}' names no validation data in its record: pass --data ${t.name}=FILE`);
  return files;
}

/** A classify task's validation images from each of its manifests, one set. */
async function classifySet(t: TaskRecord, files: string[], size: number, limit: number | undefined): Promise<ImageSet> {
  const label = String(t.data.label ?? 'label');
  const split = String(t.data.valSplit ?? 'val');
  const each = limit === undefined ? undefined : Math.ceil(limit / files.length);
  const sets = [];
  for (const f of files) sets.push(await loadImageSet(f, { label, split, size, classes: t.labels, ...(each ? { limit: each } : {}) }));
  const pixels = new Uint8Array(sets.reduce((k, s) => k + s.pixels.length, 0));
  sets.reduce((at, s) => (pixels.set(s.pixels, at), at + s.pixels.length), 0);
  const labels = Int32Array.from(sets.flatMap((s) => [...s.labels]));
  return { ...sets[0]!, source: files.join(', '), pixels, labels, paths: sets.flatMap((s) => s.paths) };
}

/** Every module's accuracy on its fp32 and int8 graphs, flat entries `${task}_...`. */
async function accuracies(
  model: PaeModel,
  calibration: ReadonlyMap<number, ImageSet>,
  o: BenchOptions,
  float: FloatRole[] | undefined,
  log: Log,
): Promise<BenchResult> {
  const overrides = new Map(
    o.data.map((kv) => {
      if (kv.indexOf('=') < 1) throw new Error(`--data takes TASK=FILE, got '${kv}'`);
      return [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)];
    }),
  );
  const batch = o.batch ?? DEFAULTS.batch;
  const result: BenchResult = {};
  for (const t of model.tasks) {
    const size = model.inputSizeOf(t);
    const files = dataOf(t, overrides);
    const fp32 = await ort.InferenceSession.create(exportOnnx(model, { tasks: [t.name] }).bytes);
    const q = await exportOnnxInt8(model, { tasks: [t.name], calibration, ...(float ? { float } : {}) });
    const int8 = await ort.InferenceSession.create(q.bytes);
    try {
      if (t.kind === 'identity') {
        const pairs = await loadPairSet(files[0]!, size);
        const [a, b] = [await graphVerification(fp32, t.name, pairs, batch), await graphVerification(int8, t.name, pairs, batch)];
        Object.assign(result, { [`${t.name}_metric`]: 'verification-10fold', [`${t.name}_n`]: pairs.pairs.pairs.length });
        Object.assign(result, { [`${t.name}_fp32`]: a, [`${t.name}_int8`]: b, [`${t.name}_delta`]: +(b - a).toFixed(4) });
      } else {
        const set = await classifySet(t, files, size, o.limit);
        const [a, b] = [
          await graphTop1(fp32, t.name, set, t.labels.length, batch),
          await graphTop1(int8, t.name, set, t.labels.length, batch),
        ];
        const n = set.labels.length;
        Object.assign(result, { [`${t.name}_metric`]: 'top1', [`${t.name}_n`]: n });
        Object.assign(result, {
          [`${t.name}_fp32`]: a.value,
          [`${t.name}_int8`]: b.value,
          [`${t.name}_delta`]: +(b.value - a.value).toFixed(4),
        });
        result[`${t.name}_top1_agreement`] = a.predictions.filter((p, i) => p === b.predictions[i]).length / n;
      }
      const r = (k: string): string => (result[k] as number).toFixed(4);
      log(
        `${t.name} (${result[`${t.name}_metric`]}, n=${result[`${t.name}_n`]}): fp32 ${r(`${t.name}_fp32`)}, ` +
          `int8 ${r(`${t.name}_int8`)} (Δ ${r(`${t.name}_delta`)})` +
          (t.kind === 'identity' ? '' : `, top-1 agreement ${r(`${t.name}_top1_agreement`)}`),
      );
    } finally {
      await fp32.release();
      await int8.release();
    }
  }
  return result;
}

export async function run(o: BenchOptions, log: Log): Promise<BenchResult> {
  const name = o.model ?? DEFAULTS.model;
  const float = floatRoles(o.keepFloat);
  log(`loading ${name}`);
  const model = benchModelNamed(name);
  try {
    const sources = calibrationSources(model, o.calibration);
    const images = o.calibrationImages ?? CALIBRATION_IMAGES;
    log(`calibrating on ${images} training faces of ${sources.join(', ')}`);
    const calibration = await loadCalibration(
      sources,
      model.tasks.map((t) => model.inputSizeOf(t)),
      images,
    );
    const result: BenchResult = {
      benchmark: 'quantize',
      model: name,
      tasks: model.tasks.map((t) => `${t.name}@${model.inputSizeOf(t)}`).join(' '),
      calibration_images: images,
      keep_float: float ? float.join(',') || 'none' : 'default',
      ort_threads: o.threads ?? 'default',
    };
    Object.assign(result, await accuracies(model, calibration, o, float, log));
    Object.assign(
      result,
      await int8Speed(
        model,
        calibration,
        { float, threads: o.threads, warmup: o.warmup ?? DEFAULTS.warmup, steps: o.steps ?? DEFAULTS.steps },
        log,
      ),
    );
    return result;
  } finally {
    model.dispose();
  }
}
