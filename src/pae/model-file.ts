// The *.pae file: safetensors tensors + a JSON manifest, written atomically, validated and checksummed on load.
// A layer whose free weights are all 0 (every finished model) stores only its owned weights (`owned_weight`, see
// owned-weights.ts); a layer caught mid-task with values in free weights stores them densely (`weight`). Owner maps
// are packed to the bits the largest task id needs, and owned weights may be stored as fp16 or int8
// (compact-storage.ts); the manifest's `storage` says how, and loading always gives float32 tensors back.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PaenetError } from '../common/errors.ts';
import { noGrad, tensor, tidy, type DType, type Tensor } from '../engine/index.ts';
import { decodeSafetensors, encodeSafetensors, typedFromRecord, type SafeDtype, type TensorRecord } from '../io/safetensors.ts';
import { writeFileAtomicSync } from '../io/atomic-write.ts';
import { validateConfig } from './config.ts';
import {
  decodeLayer,
  encodeLayer,
  LEGACY_STORAGE,
  maxOwner,
  parseStorage,
  storageFor,
  type Storage,
  type WeightStorage,
} from './compact-storage.ts';
import { computeLedger } from './ledger.ts';
import { freeWeightsAreZero } from './ownership.ts';
import { PaeModel, slotOptions, type Provenance, type TaskRecord } from './model.ts';
import { PackableNet } from './network.ts';
import { layerTensorName, stateTensors } from './state-dict.ts';

/**
 * Bumped on any incompatible change of names, shapes or manifest fields. 2: owned-only layer weights. 3: packed owner
 * maps (`owner_packed`), fp16/int8 owned weights, the manifest's `storage`.
 */
export const FORMAT_VERSION = 3;
/** Versions this reader understands: version 1 files store every layer densely, which version 2 still allows. */
const READABLE_VERSIONS = [1, 2, 3];
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
  /** How layers are stored; absent in formats 1 and 2 (fp32 weights, a byte per owner tag). */
  storage?: Storage;
  /** Size ledger at save time, of the bytes as stored (informational; recomputed on load). */
  ledger: ReturnType<typeof computeLedger>;
}

/** How {@link saveModel} stores owned weights: fp32 (default) is exact, fp16 and int8 are lossy (compact-storage.ts). */
export interface SaveOptions {
  weights?: WeightStorage;
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

/**
 * Writes the model atomically (temp file + rename): a crash never leaves a half-written model. Checkpoints and
 * training save with the default fp32 weights, which round-trip bit for bit.
 */
export function saveModel(model: PaeModel, path: string, options: SaveOptions = {}): void {
  const storage = storageFor(model.net, options.weights ?? 'fp32');
  const records = new Map<string, TensorRecord>();
  const layerNames = new Set(
    model.net.layers.flatMap((l) => [layerTensorName(l.spec.name, 'weight'), layerTensorName(l.spec.name, 'owner')]),
  );
  for (const [name, t] of stateTensors(model.net)) if (!layerNames.has(name)) records.set(name, record(t));
  for (const l of model.net.layers) {
    const values = { weight: l.weight.data() as Float32Array, owner: l.owner.data() as Uint8Array };
    const stored = encodeLayer(l.spec.name, l.weight.shape, values, freeWeightsAreZero(l), storage);
    if (typeof stored === 'string')
      throw new PaenetError(
        'PAENET_UNSUPPORTED',
        `${path}: layer ${l.spec.name} ${stored}`,
        'fp32 stores every finite weight exactly (int8 also takes weights beyond ±65504); a weight that is NaN or ±Infinity is a training fault',
      );
    for (const [name, r] of stored) records.set(name, r);
  }
  const manifest: Manifest = {
    format: 'paenet',
    formatVersion: FORMAT_VERSION,
    saved: new Date().toISOString(),
    backbone: model.config,
    tasks: model.tasks,
    provenance: model.provenance,
    storage,
    ledger: computeLedger(model, storage.weights),
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

/** Reads and validates a model; any problem is one line naming the file. Weights come back as float32. */
export function loadModel(path: string): PaeModel {
  return readModelFile(path).model;
}

/** {@link loadModel}, and how the file stored the model (formats 1 and 2: fp32 weights, byte owner tags). */
export function readModelFile(path: string): { model: PaeModel; storage: Storage } {
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
  let storage: Storage | null = null; // null: a format 1/2 file
  if (manifest.formatVersion >= 3) {
    const parsed = parseStorage(manifest.storage);
    if (typeof parsed === 'string') fail(path, parsed);
    storage = parsed;
  }
  const config = validateConfig(manifest.backbone, path);
  if (!Array.isArray(manifest.tasks)) fail(path, 'manifest has no task list');
  const net = PackableNet.create(config);
  const model = new PaeModel(net, manifest.tasks, manifest.provenance);
  const read = new Set<string>(); // every tensor used: any other one is not part of the model
  try {
    /** A BN or head tensor, after checking it has the dtype and shape of the tensor it fills. */
    const take = (name: string, dst: Tensor): Tensor => {
      const r = tensors.get(name);
      if (!r) fail(path, `missing tensor ${name}`);
      if (r.dtype !== SAFE[dst.dtype]) fail(path, `tensor ${name} is ${r.dtype}, expected ${SAFE[dst.dtype]}`);
      if (r.shape.join() !== dst.shape.join()) fail(path, `tensor ${name} has shape [${r.shape}], expected [${dst.shape}]`);
      read.add(name);
      return tensor(typedFromRecord(r), dst.shape);
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
        const layerNames = new Set<string>();
        for (const l of net.layers) {
          const shape = l.weight.shape;
          const v = decodeLayer(tensors, l.spec.name, shape, storage, (problem) => fail(path, problem));
          l.replace(tensor(v.weight, shape), tensor(v.owner, shape));
          for (const name of v.read) read.add(name);
          layerNames.add(layerTensorName(l.spec.name, 'weight')).add(layerTensorName(l.spec.name, 'owner'));
        }
        for (const [name, dst] of stateTensors(net)) {
          if (layerNames.has(name)) continue;
          const src = take(name, dst);
          dst.copy_(src);
          src.dispose();
        }
      }),
    );
    const largest = maxOwner(net);
    const ids = manifest.tasks.map((t) => t.id);
    if (largest > Math.max(0, ...ids))
      fail(path, `owner map names task ${largest}, but the manifest lists tasks ${ids.join(', ') || 'none'}`);
    const extra = [...tensors.keys()].find((name) => !read.has(name));
    if (extra !== undefined) fail(path, `unexpected tensor ${extra} (the manifest does not describe it)`);
  } catch (e) {
    model.dispose();
    throw e;
  }
  const stored = storage ?? LEGACY_STORAGE;
  model.weightStorage = stored.weights;
  return { model, storage: stored };
}
