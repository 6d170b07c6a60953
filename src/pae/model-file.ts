// The *.pae file: safetensors tensors + a JSON manifest, written atomically, validated and checksummed on load.
// A layer whose free weights are all 0 (every finished model) stores only its owned weights (`owned_weight`, see
// owned-weights.ts); a layer caught mid-task with values in free weights stores them densely (`weight`).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PaenetError } from '../common/errors.ts';
import { noGrad, tensor, tidy, type DType, type Tensor } from '../engine/index.ts';
import { decodeSafetensors, encodeSafetensors, typedFromRecord, type SafeDtype, type TensorRecord } from '../io/safetensors.ts';
import { writeFileAtomicSync } from '../io/atomic-write.ts';
import { validateConfig } from './config.ts';
import { computeLedger } from './ledger.ts';
import { packOwned, unpackOwned } from './owned-weights.ts';
import { freeWeightsAreZero } from './ownership.ts';
import { PaeModel, slotOptions, type Provenance, type TaskRecord } from './model.ts';
import { PackableNet } from './network.ts';
import { layerTensorName, stateTensors } from './state-dict.ts';

/** Bumped on any incompatible change of names, shapes or manifest fields. 2: owned-only layer weights. */
export const FORMAT_VERSION = 2;
/** Versions this reader understands: version 1 files store every layer densely, which version 2 still allows. */
const READABLE_VERSIONS = [1, 2];
export const MANIFEST_KEY = 'paenet';
export const CHECKSUM_KEY = 'paenet.sha256';

const SAFE: Partial<Record<DType, SafeDtype>> = { float32: 'F32', uint8: 'U8', int64: 'I64' };

function record(t: Tensor): TensorRecord {
  const dtype = SAFE[t.dtype];
  if (!dtype) throw new Error(`paenet: cannot store a ${t.dtype} tensor`);
  const typed = t.data();
  return { dtype, shape: t.shape, data: new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength) };
}

/** The manifest stored in the file's metadata. */
export interface Manifest {
  format: 'paenet';
  formatVersion: number;
  saved: string;
  backbone: PackableNet['config'];
  tasks: TaskRecord[];
  provenance: Provenance;
  /** Size ledger at save time (informational; recomputed on load). */
  ledger: ReturnType<typeof computeLedger>;
}

/**
 * The file's integrity checksum: SHA-256 over the manifest JSON and the tensor data section, so an edit to
 * either (labels, goals, owner maps, weights) is detected on load. `data` is the data section in file order.
 */
export function modelChecksum(manifestJson: string, data: Uint8Array | readonly Uint8Array[]): string {
  const sum = createHash('sha256').update(manifestJson).update('\n');
  for (const chunk of data instanceof Uint8Array ? [data] : data) sum.update(chunk);
  return sum.digest('hex');
}

/** Writes the model atomically (temp file + rename): a crash never leaves a half-written model. */
export function saveModel(model: PaeModel, path: string): void {
  const records = new Map<string, TensorRecord>();
  for (const [name, t] of stateTensors(model.net)) records.set(name, record(t));
  for (const l of model.net.layers) {
    if (!freeWeightsAreZero(l)) continue;
    const owned = packOwned(l.weight.data() as Float32Array, l.owner.data() as Uint8Array);
    records.delete(layerTensorName(l.spec.name, 'weight'));
    records.set(layerTensorName(l.spec.name, 'owned_weight'), {
      dtype: 'F32',
      shape: [owned.length],
      data: new Uint8Array(owned.buffer, owned.byteOffset, owned.byteLength),
    });
  }
  const manifest: Manifest = {
    format: 'paenet',
    formatVersion: FORMAT_VERSION,
    saved: new Date().toISOString(),
    backbone: model.config,
    tasks: model.tasks,
    provenance: model.provenance,
    ledger: computeLedger(model),
  };
  const json = JSON.stringify(manifest);
  // The data section does not depend on the metadata, so encoding once unsigned gives the bytes to sign.
  const unsigned = encodeSafetensors(records, { [MANIFEST_KEY]: json });
  const chunks = encodeSafetensors(records, { [MANIFEST_KEY]: json, [CHECKSUM_KEY]: modelChecksum(json, unsigned.slice(1)) });
  writeFileAtomicSync(path, chunks);
}

function fail(path: string, problem: string): never {
  throw new PaenetError('PAENET_MODEL_FILE', `${path}: ${problem}`);
}

/** Reads and validates a model; any problem is one line naming the file. */
export function loadModel(path: string): PaeModel {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new PaenetError('PAENET_NOT_FOUND', `${path}: no such model file`, 'check the path, or create a model with `paenet init`');
    fail(path, `cannot read (${(e as Error).message})`);
  }
  let decoded: ReturnType<typeof decodeSafetensors>;
  try {
    decoded = decodeSafetensors(bytes, path);
  } catch (e) {
    throw new PaenetError('PAENET_MODEL_FILE', (e as Error).message); // names the file already
  }
  const { tensors, metadata } = decoded;
  const raw = metadata[MANIFEST_KEY];
  if (raw === undefined) fail(path, 'not a paenet model (no paenet manifest in the safetensors metadata)');
  const headerLength = Number(bytes.readBigUInt64LE(0));
  if (metadata[CHECKSUM_KEY] !== modelChecksum(raw, bytes.subarray(8 + headerLength))) {
    fail(path, 'manifest or tensor data does not match the checksum (corrupt or modified file)');
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(raw) as Manifest;
  } catch {
    fail(path, 'manifest is not valid JSON');
  }
  if (manifest.format !== 'paenet') fail(path, 'manifest format is not "paenet"');
  if (!READABLE_VERSIONS.includes(manifest.formatVersion)) {
    throw new PaenetError(
      'PAENET_UNSUPPORTED',
      `${path}: model format version ${manifest.formatVersion} is not supported (this paenet reads versions ${READABLE_VERSIONS.join(', ')})`,
      'another paenet version wrote it: open it with that version, or upgrade paenet',
    );
  }
  const config = validateConfig(manifest.backbone, path);
  if (!Array.isArray(manifest.tasks)) fail(path, 'manifest has no task list');
  const net = PackableNet.create(config);
  const model = new PaeModel(net, manifest.tasks, manifest.provenance);
  try {
    const stored = (name: string, shape: number[] | null): TensorRecord => {
      const r = tensors.get(name);
      if (!r) fail(path, `missing tensor ${name}`);
      if (shape && r.shape.join() !== shape.join()) fail(path, `tensor ${name} has shape [${r.shape}], expected [${shape}]`);
      return r;
    };
    const take = (name: string, shape: number[]): Tensor => tensor(typedFromRecord(stored(name, shape)), shape);
    /** A layer's dense weights: stored as they are, or rebuilt from its owned weights and owner map. */
    const layerWeight = (name: string, shape: number[], owner: Tensor): Tensor => {
      const packed = layerTensorName(name, 'owned_weight');
      const dense = layerTensorName(name, 'weight');
      if (!tensors.has(packed)) return take(dense, shape);
      if (tensors.has(dense)) fail(path, `layer ${name} is stored both densely and as owned weights`);
      const r = stored(packed, null);
      if (r.dtype !== 'F32' || r.shape.length !== 1) fail(path, `tensor ${packed} must be a 1-d F32 tensor`);
      const values = unpackOwned(typedFromRecord(r) as Float32Array, owner.data() as Uint8Array);
      if (typeof values === 'string') fail(path, `tensor ${packed} ${values}`);
      return tensor(values, shape);
    };
    for (const t of manifest.tasks) {
      if (t.level > config.expansions.length)
        fail(path, `task ${t.name} has width level ${t.level} beyond the backbone's ${config.expansions.length}`);
      net.addTaskSlot(t.id, t.sharing, t.head, t.level, slotOptions(t));
    }
    // tidy frees a tensor already read when a later one is rejected (replace() keeps the ones it takes).
    noGrad(() =>
      tidy(() => {
        // Layers first (owned weights unpack through their owner map), then every other tensor by name, in place.
        const read = new Set<string>();
        for (const l of net.layers) {
          const shape = l.weight.shape;
          const ownerName = layerTensorName(l.spec.name, 'owner');
          const owner = take(ownerName, shape);
          l.replace(layerWeight(l.spec.name, shape, owner), owner);
          read.add(ownerName).add(layerTensorName(l.spec.name, 'weight'));
        }
        for (const [name, dst] of stateTensors(net)) {
          if (read.has(name)) continue;
          const src = take(name, dst.shape);
          dst.copy_(src);
          src.dispose();
        }
      }),
    );
    const maxOwner = Math.max(0, ...net.layers.map((l) => tidy(() => l.owner.max().item())));
    const ids = manifest.tasks.map((t) => t.id);
    if (maxOwner > Math.max(0, ...ids))
      fail(path, `owner map names task ${maxOwner}, but the manifest lists tasks ${ids.join(', ') || 'none'}`);
    const expected = stateTensors(net).size;
    if (tensors.size !== expected) fail(path, `file has ${tensors.size} tensors, the manifest describes ${expected}`);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
