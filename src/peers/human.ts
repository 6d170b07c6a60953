// @vladmandic/human as shipped: its emotion and faceres graph models from its npm package, with Human's own
// pre- and post-processing (src/gear/emotion.ts, src/face/faceres.ts of Human 3.3), on the same tfjs-wasm engine.
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot, packageVersion } from '../io/packages.ts';
import { tfjs, type Tf } from './tfjs-runtime.ts';
import type { Crop, Peer, PeerModelFiles } from './peer.ts';

interface GraphModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: Tf.io.WeightsManifestEntry[] }[];
}

/** Loads a tfjs graph model (model.json + shards) from disk into memory; one line naming the file on failure. */
export async function loadGraphModelFile(tf: typeof Tf, file: string): Promise<{ model: Tf.GraphModel; files: PeerModelFiles }> {
  let json: GraphModelJson;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as GraphModelJson;
  } catch (e) {
    throw new Error(`${file}: not a readable tfjs model.json (${(e as Error).message})`);
  }
  if (json.format !== 'graph-model' || !Array.isArray(json.weightsManifest)) throw new Error(`${file}: not a tfjs graph model`);
  const shards = json.weightsManifest.flatMap((g) => g.paths.map((p) => join(dirname(file), p)));
  const data = Buffer.concat(shards.map((s) => readFileSync(s)));
  const model = await tf.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
      ...(json.format ? { format: json.format } : {}),
    }),
  );
  const files = [file, ...shards];
  return { model, files: { module: '', files, bytes: files.reduce((n, f) => n + statSync(f).size, 0) } };
}

const FACERES_OUTPUTS = ['gender_pred/Sigmoid', 'age_pred/Softmax', 'global_pooling/Mean'];

/** Human's age decoding: the arg-max decade refined by its stronger neighbour (faceres.ts). */
export function humanAge(all: ArrayLike<number>): number {
  let idx = 0;
  for (let i = 1; i < all.length; i++) if (all[i]! > all[idx]!) idx = i;
  const below = all[idx - 1] ?? 0;
  const above = all[idx + 1] ?? 0;
  return Math.round(below > above ? 10 * idx - 100 * below : 10 * idx + 100 * above) / 10;
}

export async function humanPeer(): Promise<Peer> {
  const tf = await tfjs();
  const dir = join(packageRoot('@vladmandic/human'), 'models');
  const emotion = await loadGraphModelFile(tf, join(dir, 'emotion.json'));
  const faceres = await loadGraphModelFile(tf, join(dir, 'faceres.json'));
  const gray = tf.tensor1d([0.2989, 0.587, 0.114], 'float32');
  // Human hands its modules face crops as float 0..1.
  const unit = (c: Crop): Tf.Tensor4D =>
    tf.tensor4d(
      Float32Array.from(c.pixels, (v) => v / 255),
      [1, c.size, c.size, 3],
      'float32',
    );
  const outputs = (c: Crop): Tf.Tensor[] =>
    tf.tidy(() => {
      const x = tf.mul(tf.image.resizeBilinear(unit(c), [224, 224], false), 255);
      // The shipped graph lists only the gender and age heads as outputs; Human's descriptor is the 1024-d
      // 'global_pooling/Mean' node of the same graph, asked for by name.
      return faceres.model.execute(x, FACERES_OUTPUTS) as Tf.Tensor[];
    });
  return {
    name: `@vladmandic/human@${packageVersion('@vladmandic/human')}`,
    models: [
      { ...emotion.files, module: 'emotion' },
      { ...faceres.files, module: 'faceres (age, gender, descriptor)' },
    ],
    inputSize: { expression: 64, ageGender: 224, recognition: 224 },
    async expression(c) {
      // Oarriaga's grey-scale model: its classes are in FER2013's order.
      const best = tf.tidy(() => {
        const x = tf.image.resizeBilinear(unit(c), [64, 64], false);
        const g = tf.sum(tf.mul(x, gray), 3, true);
        return (emotion.model.execute(tf.mul(tf.sub(g, 0.5), 2)) as Tf.Tensor).argMax(1);
      });
      try {
        return (await best.data())[0]!;
      } finally {
        best.dispose();
      }
    },
    async ageGender(c) {
      const out = outputs(c);
      try {
        const g = (await out.find((t) => t.shape[1] === 1)!.data())[0]!;
        const age = humanAge(await out.find((t) => t.shape[1] === 100)!.data());
        return { age, gender: g <= 0.5 ? 1 : 0 };
      } finally {
        for (const t of out) t.dispose();
      }
    },
    async descriptor(c) {
      const out = outputs(c);
      try {
        return Float32Array.from(await out.find((t) => t.shape[1] === 1024)!.data());
      } finally {
        for (const t of out) t.dispose();
      }
    },
    dispose() {
      emotion.model.dispose();
      faceres.model.dispose();
      gray.dispose();
    },
  };
}
