// Adopts face-api.js's pretrained face-recognition ResNet (dlib's 128-d descriptor net) as task 1 of a new model.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { noGrad, tensor, tidy } from '../engine/index.ts';
import { packageRoot } from '../io/packages.ts';
import { readTfjsWeights, type TfjsWeight } from '../io/tfjs-weights.ts';
import { BN_EPS, configFromPreset, PaeModel, type InputTransform, type Provenance } from '../pae/index.ts';
import { importedTaskRecord, sourceRecord, type PretrainedImport } from './pretrained.ts';

/** The recognition net's files inside the package, and the pixel normalisation its forward pass applies. */
export const FACE_API_RECOGNITION = {
  package: '@vladmandic/face-api',
  manifest: 'model/face_recognition_model-weights_manifest.json',
  /** face-api's FaceRecognitionNet: (pixel − meanRgb) / 255 on a 150×150 RGB crop. */
  meanRgb: [122.782, 117.001, 104.298],
  divisor: 255,
} as const;

/** face-api layer name → paenet layer name, in forward order (see config.ts `dlibSpecs`). */
export const FACE_API_LAYERS: readonly (readonly [string, string])[] = [
  ['conv32_down', 'stem'],
  ['conv32_1', 's0b0'],
  ['conv32_2', 's0b1'],
  ['conv32_3', 's0b2'],
  ['conv64_down', 's1.down'],
  ['conv64_1', 's1b0'],
  ['conv64_2', 's1b1'],
  ['conv64_3', 's1b2'],
  ['conv128_down', 's2.down'],
  ['conv128_1', 's2b0'],
  ['conv128_2', 's2b1'],
  ['conv256_down', 's3.down'],
  ['conv256_1', 's3b0'],
  ['conv256_2', 's3b1'],
  ['conv256_down_out', 's3.out'],
];

/** The package folder: the given one, or the installed @vladmandic/face-api. Throws one line when absent. */
export function faceApiPackageDir(dir?: string): string {
  if (dir !== undefined) {
    if (!existsSync(join(dir, FACE_API_RECOGNITION.manifest)))
      throw new Error(`${join(dir, FACE_API_RECOGNITION.manifest)}: no such weights manifest (is --package-dir a face-api package?)`);
    return resolve(dir);
  }
  try {
    return packageRoot(FACE_API_RECOGNITION.package);
  } catch {
    throw new Error(
      `paenet: ${FACE_API_RECOGNITION.package} is not installed (npm install ${FACE_API_RECOGNITION.package}, or pass --package-dir)`,
    );
  }
}

/**
 * The input transform from paenet's standard input ((p − 127.5) / 128) to face-api's ((p − mean) / 255):
 * x' = x·128/255 + (127.5 − mean)/255, per channel.
 */
export function faceApiInputTransform(): InputTransform {
  const d = FACE_API_RECOGNITION.divisor;
  return { scale: [128 / d, 128 / d, 128 / d], shift: FACE_API_RECOGNITION.meanRgb.map((m) => (127.5 - m) / d) };
}

/** A dlib conv layer's parameters: conv filters (HWIO) and bias, then the affine scale layer. */
interface DlibConv {
  filters: TfjsWeight;
  bias: TfjsWeight;
  scaleWeights: TfjsWeight;
  scaleBiases: TfjsWeight;
}

function dlibConv(weights: Map<string, TfjsWeight>, prefix: string, source: string): DlibConv {
  const get = (name: string): TfjsWeight => {
    const w = weights.get(`${prefix}/${name}`);
    if (!w) throw new Error(`${source}: weight '${prefix}/${name}' is missing (not the face-api recognition net?)`);
    return w;
  };
  return { filters: get('conv/filters'), bias: get('conv/bias'), scaleWeights: get('scale/weights'), scaleBiases: get('scale/biases') };
}

/** HWIO (tfjs) → OIHW (libtorch) filter values. */
export function hwioToOihw(w: TfjsWeight): { data: Float32Array; shape: number[] } {
  const [h, k, i, o] = w.shape as [number, number, number, number];
  const out = new Float32Array(w.data.length);
  for (let a = 0; a < h; a++)
    for (let b = 0; b < k; b++)
      for (let c = 0; c < i; c++) for (let d = 0; d < o; d++) out[((d * i + c) * h + a) * k + b] = w.data[((a * k + b) * i + c) * o + d]!;
  return { data: out, shape: [o, i, h, k] };
}

/**
 * The BN that computes dlib's (conv + bias)·scale + shift from the conv output: statistics mean 0, var 1 − eps
 * (so the normaliser is 1), gamma = scale, beta = bias·scale + shift (float32 arithmetic, as the test recomputes).
 */
export function affineAsNorm(c: Pick<DlibConv, 'bias' | 'scaleWeights' | 'scaleBiases'>): { gamma: Float32Array; beta: Float32Array } {
  const gamma = Float32Array.from(c.scaleWeights.data);
  const beta = Float32Array.from(c.bias.data, (b, j) => Math.fround(Math.fround(b * gamma[j]!) + c.scaleBiases.data[j]!));
  return { gamma, beta };
}

/**
 * Builds a 'dlib-resnet' model whose task 1 (`name`, kind identity, 128-d embedding) is face-api's recognition net:
 * every weight owned by task 1, its affine layers as frozen BN, its input normalisation as the task's input transform.
 */
export function importFaceApiRecognition(packageDir: string, name: string, provenance: Provenance): PretrainedImport {
  const manifestPath = join(packageDir, FACE_API_RECOGNITION.manifest);
  const weights = readTfjsWeights(manifestPath);
  const config = configFromPreset('dlib-resnet');
  const model = PaeModel.create(config, provenance);
  const net = model.net;
  try {
    net.addTaskSlot(1, 'cumulative', { kind: 'linear', classes: 0, dropped: true }, 0, {
      input: faceApiInputTransform(),
      frozenNorm: true,
    });
    const setLayer = (layer: string, values: { data: Float32Array; shape: number[] }, gamma?: Float32Array, beta?: Float32Array): void => {
      const l = net.layer(layer);
      if (l.weight.shape.join() !== values.shape.join())
        throw new Error(`${manifestPath}: ${layer} has shape [${values.shape}], the dlib ResNet expects [${l.weight.shape}]`);
      noGrad(() =>
        tidy(() => {
          l.weight.copy_(tensor(values.data, values.shape));
          l.owner.fill_(1);
          const n = l.norm(1);
          if (gamma) n.weight.copy_(tensor(gamma));
          if (beta) n.bias.copy_(tensor(beta));
          n.runningVar.fill_(1 - BN_EPS);
        }),
      );
      l.ownersChanged();
    };
    for (const [src, dst] of FACE_API_LAYERS) {
      const parts =
        dst === 'stem'
          ? [['', 'stem']]
          : [
              ['/conv1', `${dst}.conv1`],
              ['/conv2', `${dst}.conv2`],
            ];
      for (const [suffix, layer] of parts) {
        const c = dlibConv(weights, `${src}${suffix}`, manifestPath);
        const { gamma, beta } = affineAsNorm(c);
        setLayer(layer!, hwioToOihw(c.filters), gamma, beta);
      }
    }
    const fc = weights.get('fc');
    if (!fc || fc.shape.length !== 2) throw new Error(`${manifestPath}: weight 'fc' is missing or not a matrix`);
    const [inF, outF] = fc.shape as [number, number];
    // tfjs multiplies x·fc ([in, out]); a linear layer stores [out, in].
    const t = Float32Array.from({ length: inF * outF }, (_, k) => fc.data[(k % inF) * outF + Math.floor(k / inF)]!);
    setLayer('embed', { data: t, shape: [outF, inF] });
    const used = FACE_API_LAYERS.reduce((n, [, d]) => n + (d === 'stem' ? 4 : 8), 1);
    if (weights.size !== used) throw new Error(`${manifestPath}: ${weights.size} tensors, the dlib ResNet uses ${used}`);
    const shards = (JSON.parse(readFileSync(manifestPath, 'utf8')) as { paths: string[] }[]).flatMap((g) =>
      g.paths.map((p) => join(dirname(manifestPath), p)),
    );
    const source = sourceRecord(
      join(packageDir, 'package.json'),
      FACE_API_RECOGNITION.package,
      FACE_API_RECOGNITION.manifest,
      shards,
      weights.size,
    );
    model.tasks.push(
      importedTaskRecord({
        name,
        from: 'face-api-recognition',
        source,
        input: faceApiInputTransform(),
        what: 'face-recognition net (dlib ResNet, 128-d)',
        extra: {
          inputSize: 150,
          normalisation: { mean: [...FACE_API_RECOGNITION.meanRgb], scale: FACE_API_RECOGNITION.divisor },
          pretrained: { reported: 'dlib: 99.38 % on LFW' },
        },
      }),
    );
    return { model, source };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
