// Same person? A face crop's verification descriptor (the crop and its mirror image through the identity task,
// flip-concatenated: the protocol the threshold was calibrated with) and the decision on two descriptors. The API,
// the HTTP service and the CLI's `verify` all compare faces here, so they give the same answer for the same crops.
import { cosineDistance, flipConcatEmbedding } from '../metrics/embedding.ts';
import { samePerson } from '../metrics/threshold.ts';
import type { TaskRecord } from '../pae/index.ts';
import type { TaskAnswer } from '../tasks/index.ts';
import type { FaceCrops, TaskRuntime } from './runtime.ts';

/** The distance of two faces, the threshold it was held against, and the decision. */
export interface FaceComparison {
  distance: number;
  threshold: number;
  same: boolean;
}

/** The crop mirrored left-right (HWC RGB, `size`×`size`). */
export function mirrorCrop(crop: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(crop.length);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) out.set(crop.subarray((y * size + x) * 3, (y * size + x) * 3 + 3), (y * size + (size - 1 - x)) * 3);
  return out;
}

/**
 * The verification descriptor of one face (its crops, side → HWC RGB; the identity task reads the one at its own
 * size). The crops and their mirrors run as one batch of two on every path: a batch's size and company can change
 * the last float bits of a forward pass.
 */
export async function faceDescriptor(runtime: TaskRuntime, task: TaskRecord, crops: FaceCrops): Promise<Float32Array> {
  const needed = [...crops].filter(([size]) => runtime.sizes.includes(size));
  const mirrored = new Map(needed.map(([size, crop]) => [size, mirrorCrop(crop, size)]));
  const [plain, flipped] = await runtime.run([crops, mirrored]);
  return flipConcatEmbedding(embeddingOf(plain?.[task.name], task), embeddingOf(flipped?.[task.name], task));
}

function embeddingOf(answer: TaskAnswer | undefined, task: TaskRecord): number[] {
  if (answer?.kind !== 'identity') throw new Error(`paenet: task '${task.name}' gave no embedding to verify with`);
  return answer.embedding;
}

/** Cosine distance of two descriptors, decided against `threshold` by the one rule ({@link samePerson}). */
export function compareFaces(a: Float32Array, b: Float32Array, threshold: number): FaceComparison {
  const distance = cosineDistance(a, b);
  return { distance, threshold, same: samePerson(distance, threshold) };
}
