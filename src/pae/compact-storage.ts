// How a *.pae file stores one backbone layer: its owner map, and its weights either densely (float32) or as the
// owned weights alone in the file's weight storage (float32, float16 or per-group int8).
//
// Format 3 (written): `owner_packed` U8 [⌈n·ownerBits/8⌉] (owner-bits.ts), then `weight` F32 [shape] when the layer
// has values in free weights (caught mid-task: always stored exactly), otherwise `owned_weight` [owned] as F32, F16
// or I8, and with I8 `owned_scale` F32 [groups] (owned-int8.ts).
// Formats 1 and 2 (read): `owner` U8 [shape], then `weight` F32 [shape] or `owned_weight` F32 [owned].
import { tidy } from '../engine/index.ts';
import { fromHalf, HALF_MAX, toHalf } from '../io/float16.ts';
import { recordFromTyped, typedFromRecord, type SafeDtype, type TensorRecord, type TypedArrayByDtype } from '../io/safetensors.ts';
import type { PackableNet } from './network.ts';
import { OWNER_BITS, ownerBitsFor, packOwners, unpackOwners, type OwnerBits } from './owner-bits.ts';
import { dequantizeOwned, quantizeOwned } from './owned-int8.ts';
import { packOwned, unpackOwned } from './owned-weights.ts';
import { layerTensorName, type LayerTensor } from './state-dict.ts';

/** How owned weights are stored. fp32 is exact (checkpoints and training keep it); fp16 and int8 are for shipping. */
export const WEIGHT_STORAGES = ['fp32', 'fp16', 'int8'] as const;
export type WeightStorage = (typeof WEIGHT_STORAGES)[number];

/** A file's storage, as its manifest records it (format 3). */
export interface Storage {
  weights: WeightStorage;
  ownerBits: OwnerBits;
}

/** What files of formats 1 and 2 hold: float32 weights and a byte per owner tag. */
export const LEGACY_STORAGE: Storage = { weights: 'fp32', ownerBits: 8 };

const OWNED_DTYPE: Record<WeightStorage, SafeDtype> = { fp32: 'F32', fp16: 'F16', int8: 'I8' };
/** Bytes per stored owned weight; int8 adds {@link SCALE_BYTES} per (channel, task) group. */
export const WEIGHT_BYTES: Record<WeightStorage, number> = { fp32: 4, fp16: 2, int8: 1 };
export const SCALE_BYTES = 4;

/** A layer's values as the network holds them: dense float32 weights and one owner tag per weight. */
export interface LayerValues {
  weight: Float32Array;
  owner: Uint8Array;
}

/** The largest owner tag in the network (0 when no task owns a weight). */
export function maxOwner(net: PackableNet): number {
  return Math.max(0, ...net.layers.map((l) => tidy(() => l.owner.max().item())));
}

/** The storage a file of `net` gets with `weights`: owner tags packed to the width its largest tag needs. */
export function storageFor(net: PackableNet, weights: WeightStorage): Storage {
  return { weights, ownerBits: ownerBitsFor(maxOwner(net)) };
}

/** The manifest's storage field, checked; a problem as text otherwise. */
export function parseStorage(raw: unknown): Storage | string {
  const s = raw as Partial<Storage> | null;
  if (typeof s !== 'object' || s === null) return 'manifest has no storage record (format 3 needs one)';
  if (!WEIGHT_STORAGES.includes(s.weights as WeightStorage))
    return `manifest storage.weights is ${JSON.stringify(s.weights)}, expected one of ${WEIGHT_STORAGES.join(', ')}`;
  if (!OWNER_BITS.includes(s.ownerBits as OwnerBits))
    return `manifest storage.ownerBits is ${JSON.stringify(s.ownerBits)}, expected one of ${OWNER_BITS.join(', ')}`;
  return { weights: s.weights as WeightStorage, ownerBits: s.ownerBits as OwnerBits };
}

/** Half patterns of the owned weights; a problem as text for one without a finite half (a weight never becomes ±∞). */
function halfOwned(v: LayerValues): Uint16Array | string {
  const out = new Uint16Array(packOwned(v.weight, v.owner).length);
  for (let i = 0, j = 0; i < v.owner.length; i++) {
    if (v.owner[i] === 0) continue;
    const w = v.weight[i]!;
    if (!Number.isFinite(w)) return `has weight ${w} at index ${i}, which fp16 cannot store`;
    const h = toHalf(w);
    if ((h & 0x7c00) === 0x7c00) return `has weight ${w} at index ${i}, beyond the fp16 range (±${HALF_MAX})`;
    out[j++] = h;
  }
  return out;
}

/**
 * The tensors of one layer in format 3 under `storage`. `sparse`: every free weight is 0, so only owned weights are
 * stored. `shape[0]` is the output channel count (int8 groups). A problem as text for weights the storage cannot
 * hold (the caller names the file).
 */
export function encodeLayer(
  name: string,
  shape: number[],
  v: LayerValues,
  sparse: boolean,
  storage: Storage,
): Map<string, TensorRecord> | string {
  const out = new Map<string, TensorRecord>();
  const packed = packOwners(v.owner, storage.ownerBits);
  out.set(layerTensorName(name, 'owner_packed'), recordFromTyped(packed, [packed.length]));
  if (!sparse) {
    out.set(layerTensorName(name, 'weight'), recordFromTyped(v.weight, shape));
    return out;
  }
  const owned = layerTensorName(name, 'owned_weight');
  if (storage.weights === 'fp32') {
    const values = packOwned(v.weight, v.owner);
    out.set(owned, recordFromTyped(values, [values.length]));
  } else if (storage.weights === 'fp16') {
    const halves = halfOwned(v);
    if (typeof halves === 'string') return halves;
    out.set(owned, recordFromTyped(halves, [halves.length], 'F16'));
  } else {
    const coded = quantizeOwned(v.weight, v.owner, shape[0]!);
    if (typeof coded === 'string') return coded;
    out.set(owned, recordFromTyped(coded.q, [coded.q.length]));
    out.set(layerTensorName(name, 'owned_scale'), recordFromTyped(coded.scales, [coded.scales.length]));
  }
  return out;
}

/**
 * A layer's dense values from a file's tensors. `storage` null: a format 1/2 file (byte owner map). Every problem goes
 * to `fail` as one line naming the tensor; `read` lists the tensors used, so the caller can reject extra ones.
 */
export function decodeLayer(
  tensors: ReadonlyMap<string, TensorRecord>,
  name: string,
  shape: number[],
  storage: Storage | null,
  fail: (problem: string) => never,
): LayerValues & { read: string[] } {
  const read: string[] = [];
  const numel = shape.reduce((a, b) => a * b, 1);
  /** A layer tensor's values, after checking its dtype and shape (`want` null: any 1-d length). */
  const take = <D extends SafeDtype>(what: LayerTensor, dtype: D, want: number[] | null): TypedArrayByDtype[D] => {
    const tname = layerTensorName(name, what);
    const r = tensors.get(tname);
    if (!r) fail(`missing tensor ${tname}`);
    if (r.dtype !== dtype) fail(`tensor ${tname} is ${r.dtype}, expected ${dtype}`);
    if (want && r.shape.join() !== want.join()) fail(`tensor ${tname} has shape [${r.shape}], expected [${want}]`);
    if (!want && r.shape.length !== 1) fail(`tensor ${tname} has shape [${r.shape}], expected a 1-d tensor`);
    read.push(tname);
    return typedFromRecord({ dtype, shape: r.shape, data: r.data });
  };
  let owner: Uint8Array;
  if (storage) {
    const tags = unpackOwners(take('owner_packed', 'U8', null), numel, storage.ownerBits);
    if (typeof tags === 'string') fail(`tensor ${layerTensorName(name, 'owner_packed')} ${tags}`);
    owner = tags;
  } else owner = take('owner', 'U8', shape);
  const ownedName = layerTensorName(name, 'owned_weight');
  if (!tensors.has(ownedName)) return { weight: take('weight', 'F32', shape), owner, read };
  if (tensors.has(layerTensorName(name, 'weight'))) fail(`layer ${name} is stored both densely and as owned weights`);
  const weights = storage?.weights ?? 'fp32';
  let values: Float32Array | string;
  if (weights === 'fp32') values = take('owned_weight', 'F32', null);
  else if (weights === 'fp16') values = Float32Array.from(take('owned_weight', 'F16', null), fromHalf);
  else {
    const q = take('owned_weight', 'I8', null);
    const scales = take('owned_scale', 'F32', null);
    values = dequantizeOwned(q, scales, owner, shape[0]!, { codes: ownedName, scales: layerTensorName(name, 'owned_scale') });
    if (typeof values === 'string') fail(values);
  }
  const dense = unpackOwned(values, owner);
  if (typeof dense === 'string') fail(`tensor ${ownedName} ${dense}`);
  return { weight: dense, owner, read };
}
