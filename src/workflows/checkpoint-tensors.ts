// The tensor files of add-task checkpoints: snapshots (pruning candidate, best epoch, pre-task state) and optimizer
// moments, as plain safetensors. Float32 and the owner tags round-trip bit for bit, which exact resumes rely on.
import { readFileSync } from 'node:fs';
import { tensor, type Tensor } from '../engine/index.ts';
import { writeFileAtomicSync } from '../io/atomic-write.ts';
import { decodeSafetensors, encodeSafetensors, typedFromRecord, type SafeDtype, type TensorRecord } from '../io/safetensors.ts';
import { Snapshot } from '../pae/index.ts';

/** The dtypes checkpoints hold: weights, BN and moments are float32, owner tags uint8. */
const SAFE: Partial<Record<Tensor['dtype'], SafeDtype>> = { float32: 'F32', uint8: 'U8' };

/** Writes named tensors atomically. */
export function writeTensors(path: string, tensors: ReadonlyMap<string, Tensor>): void {
  const records = new Map<string, TensorRecord>();
  for (const [k, t] of tensors) {
    const dtype = SAFE[t.dtype];
    if (!dtype) throw new Error(`paenet: internal error: checkpoint tensor ${k} is ${t.dtype}`);
    const d = t.data();
    records.set(k, { dtype, shape: t.shape, data: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) });
  }
  writeFileAtomicSync(path, encodeSafetensors(records));
}

/** Reads the tensors a {@link writeTensors} file holds (the caller owns them). */
export function readTensors(path: string): Map<string, Tensor> {
  const { tensors } = decodeSafetensors(readFileSync(path), path);
  const out = new Map<string, Tensor>();
  for (const [k, r] of tensors) out.set(k, tensor(typedFromRecord(r), r.shape));
  return out;
}

export function writeSnapshot(path: string, s: Snapshot): void {
  writeTensors(path, s.tensors());
}

/** A snapshot of `tasks` (or of the layers alone, for `[]`) read back. */
export function readSnapshot(path: string, tasks: number[]): Snapshot {
  return Snapshot.fromTensors(readTensors(path), tasks);
}
