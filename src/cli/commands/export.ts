// paenet export MODEL OUT --format onnx [--task NAME...] [--int8 --calibration MANIFEST...]: ONNX graphs with each
// task's masked weights baked in; fp32 (checked against libtorch), or int8 calibrated on training faces (checked
// against the fp32 graph on faces calibration did not see).
import { basename } from 'node:path';
import type { Command } from 'commander';
import { writeFileAtomicSync } from '../../io/atomic-write.ts';
import { unlabelledSet, type ImageSet } from '../../tasks/index.ts';
import { CALIBRATION_IMAGES, loadCalibration } from '../../serve/onnx/calibration-set.ts';
import { exportOnnx } from '../../serve/onnx/export-model.ts';
import { graphAgreement, onnxParity } from '../../serve/onnx/parity.ts';
import { exportOnnxInt8 } from '../../serve/onnx/quantize.ts';
import { mib, num, printJson } from '../format.ts';
import { openModel, PAENET_VERSION, requireTasks } from '../model-io.ts';

/** Largest |onnx − libtorch| accepted before the export is refused. */
const TOLERANCE = 1e-4;
/** Held-out faces the int8 graph is compared with the fp32 graph on. */
const CHECK_IMAGES = 32;
/**
 * Smallest cosine between a face's int8 and fp32 output (embedding, or class probabilities) accepted: far below
 * what calibrated int8 gives (≥ 0.98 measured on faceres and packed classify tasks), so only a broken graph fails.
 */
const INT8_MIN_COSINE = 0.9;

interface Options {
  format: string;
  task?: string[];
  all?: boolean;
  json?: boolean;
  int8?: boolean;
  calibration?: string[];
  calibrationImages: string;
}

/** The first `n` faces of each side's set, and the rest. */
function split(sets: ReadonlyMap<number, ImageSet>, n: number): [Map<number, ImageSet>, Map<number, ImageSet>] {
  const part = (s: ImageSet, from: number, to: number): ImageSet => {
    const px = s.size * s.size * 3;
    return unlabelledSet(s.pixels.slice(from * px, to * px), s.size, s.source);
  };
  const head = new Map([...sets].map(([k, s]) => [k, part(s, 0, n)]));
  return [head, new Map([...sets].map(([k, s]) => [k, part(s, n, s.labels.length)]))];
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write an ONNX graph of the model (every task, or the ones named), checked against the libtorch forward')
    .argument('<model>', 'model file (*.pae)')
    .argument('<out>', 'ONNX file to write (atomically)')
    .option('--format <format>', 'output format (onnx)', 'onnx')
    .option('--task <name...>', 'export only these tasks (default: every task; --all says so explicitly)')
    .option('--all', 'every task in one graph (the default)')
    .option('--int8', 'int8 graph (per-channel int8 weights, uint8 activations) for onnxruntime; needs --calibration')
    .option('--calibration <manifest...>', 'training images to calibrate the int8 activation ranges on (manifests or class folders)')
    .option('--calibration-images <n>', 'faces to calibrate on', String(CALIBRATION_IMAGES))
    .option('--json', 'machine-readable summary')
    .action(async (file: string, out: string, o: Options) => {
      if (o.format !== 'onnx') throw new Error(`paenet: --format must be onnx, got '${o.format}'`);
      if (o.all && o.task) throw new Error('paenet: --all and --task exclude each other');
      if (o.int8 && !o.calibration) throw new Error("paenet: --int8 needs --calibration MANIFEST (training images of the model's data)");
      if (o.calibration && !o.int8) throw new Error('paenet: --calibration is for --int8');
      const model = openModel(file);
      try {
        requireTasks(file, model, o.task);
        const fp32 = exportOnnx(model, { ...(o.task ? { tasks: o.task } : {}), producerVersion: PAENET_VERSION });
        const { outputs, inputs } = fp32;
        const names = outputs.map((x) => x.name);
        const diffs = await onnxParity(model, fp32.bytes, names);
        const worst = Math.max(...Object.values(diffs));
        if (!(worst <= TOLERANCE))
          throw new Error(`${file}: the ONNX graph differs from the libtorch forward by ${worst} (> ${TOLERANCE}); not written`);
        let bytes = fp32.bytes;
        let int8: Record<string, unknown> = {};
        if (o.int8) {
          const images = num('--calibration-images', o.calibrationImages);
          const sets = await loadCalibration(
            o.calibration!,
            inputs.map((i) => i.size),
            images + CHECK_IMAGES,
          );
          const [calibration, check] = split(sets, images);
          const q = await exportOnnxInt8(model, { tasks: names, calibration, producerVersion: PAENET_VERSION });
          const agreement = await graphAgreement(fp32.bytes, q.bytes, check);
          const low = Object.entries(agreement).find(([, a]) => !(a.minCosine >= INT8_MIN_COSINE));
          if (low)
            throw new Error(
              `${file}: the int8 graph's '${low[0]}' is off the fp32 graph's (cosine ${low[1].minCosine} < ${INT8_MIN_COSINE}); not written`,
            );
          bytes = q.bytes;
          int8 = { quantization: q.quantization, int8VsFp32: agreement };
        }
        writeFileAtomicSync(out, bytes);
        if (o.json) printJson({ model: file, out, bytes: bytes.length, inputs, outputs, maxAbsDiff: diffs, ...int8 });
        else {
          const q = int8.int8VsFp32 as Record<string, { minCosine: number }> | undefined;
          const vsFp32 = q ? `; int8 vs fp32 min cosine ${Math.min(...Object.values(q).map((a) => a.minCosine)).toFixed(4)}` : '';
          console.log(
            `${out}: ${names.join(', ')} from ${basename(file)} (${mib(bytes.length)}${o.int8 ? ', int8' : ''}); ` +
              `max |onnx − libtorch| ${worst.toExponential(2)}${vsFp32}`,
          );
        }
      } finally {
        model.dispose();
      }
    });
}
