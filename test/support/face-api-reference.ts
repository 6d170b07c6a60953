// Test support: runs @vladmandic/face-api's own face-recognition net (the 128-d dlib ResNet descriptor)
// in Node through tfjs on the wasm backend, as a parity reference for our reimplementation.
// face-api's node-wasm bundle and its tfjs engine are loaded by src/peers/tfjs-runtime.ts (the peer rows use
// the same engine); this file keeps its own recognition-net instance so the package-global nets are left alone.
import { join, resolve } from 'node:path';
import { loadFaceApi } from '../../src/peers/tfjs-runtime.ts';
import { packageRoot } from '../../src/io/packages.ts';

/** 128-d face descriptors from face-api's FaceRecognitionNet (wasm backend). */
export interface FaceApiRecognizer {
  /** 128-d descriptors of 150×150 RGB crops given as HWC float32 (0..255) arrays of length 150*150*3, computed by face-api's FaceRecognitionNet.computeFaceDescriptor on a [1,150,150,3] tensor each. */
  descriptors(crops: Float32Array[]): Promise<Float32Array[]>;
  /** The tfjs backend name actually used (must be 'wasm'). */
  readonly backend: string;
  /** Releases the net's weights (for every holder of this shared instance); a later faceApiRecognizer() call loads them again. */
  dispose(): void;
}

/** Side length of the crops the recognition net takes. */
export const FACE_API_CROP_SIZE = 150;
/** Length of one face-api descriptor. */
export const FACE_API_DESCRIPTOR_LENGTH = 128;

const faceApiRoot = packageRoot('@vladmandic/face-api');
const recognizers = new Map<string, Promise<FaceApiRecognizer>>();

/** Loads face-api (node-wasm build) with its recognition net once; later calls reuse it. */
export async function faceApiRecognizer(modelDir?: string): Promise<FaceApiRecognizer> {
  const dir = resolve(modelDir ?? join(faceApiRoot, 'model'));
  let pending = recognizers.get(dir);
  if (!pending) {
    pending = createRecognizer(dir, () => recognizers.delete(dir));
    recognizers.set(dir, pending);
    pending.catch(() => recognizers.delete(dir));
  }
  return pending;
}

async function createRecognizer(dir: string, forget: () => void): Promise<FaceApiRecognizer> {
  const faceapi = await loadFaceApi();
  const tf = faceapi.tf;
  // An own instance, so the package-global `faceapi.nets.faceRecognitionNet` is left alone.
  const net = new faceapi.FaceRecognitionNet();
  await net.loadFromDisk(dir);
  if (!net.isLoaded) throw new Error(`face-api reference: face_recognition_model not loaded from ${dir}`);
  const n = FACE_API_CROP_SIZE;
  let disposed = false;

  async function descriptor(crop: Float32Array, index: number): Promise<Float32Array> {
    if (crop.length !== n * n * 3) throw new Error(`face-api reference: crop ${index} has ${crop.length} values, expected ${n * n * 3}`);
    const input = tf.tensor4d(crop, [1, n, n, 3], 'float32');
    try {
      const out = await net.computeFaceDescriptor(input);
      const d = Array.isArray(out) ? out[0] : out;
      if (!d || d.length !== FACE_API_DESCRIPTOR_LENGTH)
        throw new Error(`face-api reference: crop ${index} gave a descriptor of length ${d?.length}`);
      return Float32Array.from(d);
    } finally {
      input.dispose();
    }
  }

  return {
    backend: tf.getBackend(),
    async descriptors(crops: Float32Array[]): Promise<Float32Array[]> {
      if (disposed) throw new Error('face-api reference: recognizer was disposed');
      const out: Float32Array[] = [];
      for (let i = 0; i < crops.length; i++) out.push(await descriptor(crops[i]!, i));
      return out;
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      forget();
      net.dispose();
    },
  };
}
