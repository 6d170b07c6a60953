// analyze(photo): find the faces, crop each as the model was trained (at every task's own input size), run every
// task; verify(a, b) with the model's calibrated threshold. No face, several faces, huge or corrupt images all have defined answers.
import type { PaeModel, TaskRecord } from '../pae/index.ts';
import type { TaskAnswer } from '../tasks/index.ts';
import { faceApiDetector, type DetectedFace, type FaceDetector } from './detector.ts';
import { PaenetError } from '../common/errors.ts';
import { decodePhoto, downscale, faceCrops, type Box, type Photo } from './photo.ts';
import { createRuntime, type FaceCrops, type RuntimeKind, type TaskRuntime } from './runtime.ts';
import { compareFaces, faceDescriptor, type FaceComparison } from './same-person.ts';

/** Detection runs on a copy whose longer side is at most this (boxes are mapped back to the photo). */
const DETECT_SIDE = 1280;

export interface FaceResult {
  box: Box;
  score: number;
  landmarks: [number, number][];
  tasks: Record<string, TaskAnswer>;
}

export interface Analysis {
  source: string;
  width: number;
  height: number;
  faces: FaceResult[];
  ms: { decode: number; detect: number; tasks: number };
}

export interface VerifyResult extends FaceComparison {
  task: string;
  faces: [Box, Box];
}

export class Analyzer {
  private constructor(
    readonly model: PaeModel,
    readonly detector: FaceDetector,
    readonly runtime: TaskRuntime,
  ) {}

  static async create(model: PaeModel, o: { runtime?: RuntimeKind; tasks?: string[]; detector?: FaceDetector } = {}): Promise<Analyzer> {
    const detector = o.detector ?? (await faceApiDetector());
    return new Analyzer(model, detector, await createRuntime(model, o.runtime ?? 'onnx', o.tasks));
  }

  /** The decoded photo and its faces, largest first, in photo pixels (detected on a copy at most DETECT_SIDE wide). */
  private async findFaces(input: string | Uint8Array, source: string): Promise<{ photo: Photo; faces: DetectedFace[]; decodeMs: number }> {
    const t0 = performance.now();
    const photo = await decodePhoto(input, source);
    const decodeMs = performance.now() - t0;
    const { photo: small, scale } = await downscale(photo, DETECT_SIDE);
    const faces: DetectedFace[] = (await this.detector.detect(small)).map((f) => ({
      ...f,
      box: f.box.map((v) => v / scale) as Box,
      landmarks: f.landmarks.map(([x, y]) => [x / scale, y / scale] as [number, number]),
    }));
    faces.sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3]);
    return { photo, faces, decodeMs };
  }

  /** Faces in the photo (largest first) with every task's answer. */
  async analyze(input: string | Uint8Array, source = typeof input === 'string' ? input : 'upload'): Promise<Analysis> {
    const t0 = performance.now();
    const { photo, faces, decodeMs } = await this.findFaces(input, source);
    const t2 = performance.now();
    const sizes = this.runtime.sizes;
    const crops = await Promise.all(faces.map((f) => faceCrops(photo, f.box, sizes)));
    const answers = await this.runtime.run(crops);
    const t3 = performance.now();
    return {
      source,
      width: photo.width,
      height: photo.height,
      faces: faces.map((f, i) => ({ box: f.box, score: f.score, landmarks: f.landmarks, tasks: answers[i]! })),
      ms: { decode: decodeMs, detect: t2 - t0 - decodeMs, tasks: t3 - t2 },
    };
  }

  /** The identity task used by verify: the named one, or the first identity task. */
  identityTask(name?: string): TaskRecord {
    const t = name ? this.model.tasks.find((x) => x.name === name) : this.model.tasks.find((x) => x.kind === 'identity');
    if (!t || t.kind !== 'identity') {
      const ids = this.model.tasks.filter((x) => x.kind === 'identity').map((x) => x.name);
      throw new PaenetError(
        ids.length ? 'PAENET_INPUT' : 'PAENET_UNSUPPORTED',
        `the model has no identity task${name ? ` named '${name}'` : ''} to verify with`,
        ids.length ? `its identity tasks: ${ids.join(', ')}` : 'add one with `paenet add-task --kind identity` or `paenet import`',
      );
    }
    if (!this.runtime.tasks.includes(t)) throw new Error(`paenet: the runtime was created without the identity task '${t.name}'`);
    return t;
  }

  /**
   * The largest face of a photo, as `verify` compares it: its box and its crops at every size the runtime's tasks
   * take (the identity task reads the one at its own size).
   */
  async largestFace(
    input: string | Uint8Array,
    source = typeof input === 'string' ? input : 'upload',
  ): Promise<{ box: Box; crops: FaceCrops }> {
    const { photo, faces } = await this.findFaces(input, source);
    if (faces.length === 0) throw new PaenetError('PAENET_IMAGE', `${source}: no face found`);
    const box = faces[0]!.box;
    return { box, crops: await faceCrops(photo, box, this.runtime.sizes) };
  }

  /**
   * Same person? The largest face of each photo, embedded as image ⊕ mirror (the protocol the threshold was
   * calibrated with), cosine distance against the model's threshold.
   */
  async verify(a: string | Uint8Array, b: string | Uint8Array, task?: string): Promise<VerifyResult> {
    const t = this.identityTask(task);
    const threshold = t.extra.threshold;
    if (typeof threshold !== 'number') throw new Error(`paenet: identity task '${t.name}' has no calibrated threshold`);
    const first = await this.largestFace(a, typeof a === 'string' ? a : 'first upload');
    const second = await this.largestFace(b, typeof b === 'string' ? b : 'second upload');
    const comparison = compareFaces(
      await faceDescriptor(this.runtime, t, first.crops),
      await faceDescriptor(this.runtime, t, second.crops),
      threshold,
    );
    return { task: t.name, ...comparison, faces: [first.box, second.box] };
  }

  async dispose(): Promise<void> {
    await this.runtime.dispose();
  }
}
