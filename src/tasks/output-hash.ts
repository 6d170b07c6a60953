// Fingerprints of what each module answers: SHA-256 over the exact float32 bytes of a task's outputs (class
// probabilities, or embeddings) on fixed crops. Equal hashes before and after a model grows a task are the
// bit-identical guarantee of PAE, shown rather than claimed.
import { createHash } from 'node:crypto';
import type { PaeModel, TaskRecord } from '../pae/index.ts';
import { embedImages, predictProbabilities } from './inference.ts';
import type { ImageSet } from './image-set.ts';

/** The task's raw outputs on `set` (crops at the task's input size): probabilities, or unflipped embeddings. */
export function taskOutputs(model: PaeModel, t: TaskRecord, set: ImageSet): Float32Array {
  if (set.size !== model.inputSizeOf(t))
    throw new Error(`paenet: task '${t.name}' runs at ${model.inputSizeOf(t)} px, the crops are ${set.size} px`);
  return t.head.dropped ? embedImages(model.net, t.id, set, false) : predictProbabilities(model.net, t.id, set);
}

/** SHA-256 (hex) of task `t`'s outputs on `set`. */
export function outputHash(model: PaeModel, t: TaskRecord, set: ImageSet): string {
  const out = taskOutputs(model, t, set);
  return createHash('sha256')
    .update(new Uint8Array(out.buffer, out.byteOffset, out.byteLength))
    .digest('hex');
}
