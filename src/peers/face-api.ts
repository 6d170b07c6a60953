// @vladmandic/face-api as shipped: its expression, age/gender and recognition nets from its npm package, on tfjs-wasm.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot, packageVersion } from '../io/packages.ts';
import { loadFaceApi, type Tf } from './tfjs-runtime.ts';
import { FER_CLASSES, type Crop, type Peer, type PeerModelFiles } from './peer.ts';

// face-api's expression names → FER2013 class indices.
const EXPRESSION_TO_FER: Record<string, number> = {
  angry: FER_CLASSES.indexOf('angry'),
  disgusted: FER_CLASSES.indexOf('disgust'),
  fearful: FER_CLASSES.indexOf('fear'),
  happy: FER_CLASSES.indexOf('happy'),
  sad: FER_CLASSES.indexOf('sad'),
  surprised: FER_CLASSES.indexOf('surprise'),
  neutral: FER_CLASSES.indexOf('neutral'),
};

const MODELS = {
  expression: 'face_expression_model',
  'age-gender': 'age_gender_model',
  recognition: 'face_recognition_model',
} as const;

function modelFiles(dir: string, module: string, stem: string): PeerModelFiles {
  const files = [`${stem}-weights_manifest.json`, `${stem}.bin`].map((f) => join(dir, f));
  return { module, files, bytes: files.reduce((n, f) => n + statSync(f).size, 0) };
}

/** A crop as the [1, s, s, 3] float 0..255 tensor face-api's nets take. */
export function cropTensor(tf: typeof Tf, c: Crop): Tf.Tensor4D {
  return tf.tensor4d(Float32Array.from(c.pixels), [1, c.size, c.size, 3], 'float32');
}

export async function faceApiPeer(): Promise<Peer> {
  const faceapi = await loadFaceApi();
  const { tf, nets } = faceapi;
  const dir = join(packageRoot('@vladmandic/face-api'), 'model');
  await Promise.all(
    [nets.faceExpressionNet, nets.ageGenderNet, nets.faceRecognitionNet].map((n) => (n.isLoaded ? undefined : n.loadFromDisk(dir))),
  );
  const run = async <T>(c: Crop, f: (x: Tf.Tensor4D) => Promise<T>): Promise<T> => {
    const x = cropTensor(tf, c);
    try {
      return await f(x);
    } finally {
      x.dispose();
    }
  };
  return {
    name: `@vladmandic/face-api@${packageVersion('@vladmandic/face-api')}`,
    models: Object.entries(MODELS).map(([m, stem]) => modelFiles(dir, m, stem)),
    inputSize: { expression: 112, ageGender: 112, recognition: 150 },
    async expression(c) {
      const p = await run(c, (x) => nets.faceExpressionNet.predictExpressions(x));
      const scores = (Array.isArray(p) ? p[0] : p) as Record<string, number>;
      let best = 'neutral';
      for (const [k, v] of Object.entries(scores)) if (k in EXPRESSION_TO_FER && v > (scores[best] ?? -1)) best = k;
      return EXPRESSION_TO_FER[best]!;
    },
    async ageGender(c) {
      const p = await run(c, (x) => nets.ageGenderNet.predictAgeAndGender(x));
      const r = (Array.isArray(p) ? p[0] : p) as { age: number; gender: string };
      return { age: r.age, gender: r.gender === 'female' ? 1 : 0 };
    },
    async descriptor(c) {
      const d = await run(c, (x) => nets.faceRecognitionNet.computeFaceDescriptor(x));
      return Float32Array.from(Array.isArray(d) ? d[0]! : d);
    },
    dispose() {
      // The nets are package-global in face-api; they stay loaded for the process (a few MB).
    },
  };
}
