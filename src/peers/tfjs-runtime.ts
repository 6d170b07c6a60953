// The tfjs engine the peer toolkits run on: face-api's node-wasm bundle, whose `tf` is @tensorflow/tfjs on the
// wasm backend (no native tfjs-node, which cannot install offline). Human's graph models run on the same engine.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as Tf from '@tensorflow/tfjs';
import { packageRoot } from '../io/packages.ts';

export type { Tf };

/** The small part of face-api's API the peers use (its bundles are loaded by path, so typed here). */
export interface FaceApiModule {
  readonly tf: typeof Tf;
  readonly version: string;
  readonly nets: {
    readonly ageGenderNet: FaceApiNet & {
      predictAgeAndGender(x: Tf.Tensor4D): Promise<{ age: number; gender: string; genderProbability: number } | unknown[]>;
    };
    readonly faceExpressionNet: FaceApiNet & { predictExpressions(x: Tf.Tensor4D): Promise<Record<string, number> | unknown[]> };
    readonly faceRecognitionNet: FaceApiNet & { computeFaceDescriptor(x: Tf.Tensor4D): Promise<Float32Array | Float32Array[]> };
  };
  FaceRecognitionNet: new () => FaceApiNet & { computeFaceDescriptor(x: Tf.Tensor4D): Promise<Float32Array | Float32Array[]> };
}
export interface FaceApiNet {
  loadFromDisk(dir: string): Promise<void>;
  readonly isLoaded: boolean;
  dispose(): void;
}

const require = createRequire(import.meta.url);

let faceApi: Promise<FaceApiModule> | undefined;

/** face-api's node-wasm bundle with tfjs switched to the wasm backend, loaded once. */
export function loadFaceApi(): Promise<FaceApiModule> {
  faceApi ??= (async () => {
    const m = require(join(packageRoot('@vladmandic/face-api'), 'dist', 'face-api.node-wasm.js')) as FaceApiModule;
    if (!(await m.tf.setBackend('wasm'))) throw new Error('paenet: tfjs could not initialise its wasm backend');
    await m.tf.ready();
    if (m.tf.getBackend() !== 'wasm') throw new Error(`paenet: tfjs backend is '${m.tf.getBackend()}', expected 'wasm'`);
    return m;
  })();
  faceApi.catch(() => (faceApi = undefined));
  return faceApi;
}

/** The shared tfjs engine (wasm backend). */
export async function tfjs(): Promise<typeof Tf> {
  return (await loadFaceApi()).tf;
}
