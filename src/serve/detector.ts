// Face detection with a detector whose weights ship in an npm package: face-api's SSD MobileNet v1 and its
// 68-point landmarks (tfjs, wasm backend; loaded from disk, no network).
import { join } from 'node:path';
import { loadFaceApi, type FaceApiNet, type Tf } from '../peers/tfjs-runtime.ts';
import { packageRoot } from '../io/packages.ts';
import type { Box, Photo } from './photo.ts';

export interface DetectedFace {
  box: Box;
  score: number;
  /** 68 facial landmarks [x, y] in photo pixels. */
  landmarks: [number, number][];
}

export interface FaceDetector {
  readonly name: string;
  detect(photo: Photo): Promise<DetectedFace[]>;
}

interface FaceApiDetection {
  detection: { score: number; box: { x: number; y: number; width: number; height: number } };
  landmarks: { positions: { x: number; y: number }[] };
}
interface FaceApiDetect {
  detectAllFaces(input: Tf.Tensor3D, options: object): { withFaceLandmarks(): Promise<FaceApiDetection[]> };
  SsdMobilenetv1Options: new (o: { minConfidence: number; maxResults: number }) => object;
  nets: { ssdMobilenetv1: FaceApiNet; faceLandmark68Net: FaceApiNet };
}

/** face-api's SSD MobileNet v1 + 68-point landmarks, loaded once. */
export async function faceApiDetector(o: { minConfidence?: number; maxFaces?: number } = {}): Promise<FaceDetector> {
  const faceapi = (await loadFaceApi()) as unknown as FaceApiDetect & { tf: typeof Tf };
  const dir = join(packageRoot('@vladmandic/face-api'), 'model');
  for (const n of [faceapi.nets.ssdMobilenetv1, faceapi.nets.faceLandmark68Net]) if (!n.isLoaded) await n.loadFromDisk(dir);
  const options = new faceapi.SsdMobilenetv1Options({ minConfidence: o.minConfidence ?? 0.5, maxResults: o.maxFaces ?? 100 });
  return {
    name: '@vladmandic/face-api ssd_mobilenetv1 + face_landmark_68',
    async detect(photo) {
      const x = faceapi.tf.tensor3d(photo.pixels, [photo.height, photo.width, 3], 'int32');
      try {
        const found = await faceapi.detectAllFaces(x, options).withFaceLandmarks();
        return found.map((f) => ({
          box: [f.detection.box.x, f.detection.box.y, f.detection.box.width, f.detection.box.height],
          score: f.detection.score,
          landmarks: f.landmarks.positions.map((p) => [p.x, p.y] as [number, number]),
        }));
      } finally {
        x.dispose();
      }
    },
  };
}
