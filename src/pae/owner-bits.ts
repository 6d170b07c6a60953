// Owner maps packed to the bits they need. A tag is a task id (0 = free) and a model rarely has more than a few
// tasks, so a byte per weight wastes 4–7 bits of it; packing is lossless, so every file packs.
//
// One width for the whole model (the manifest's storage.ownerBits), not one per layer: in PAE every task trains
// and prunes in every layer, so per-layer widths would almost never differ, and one field is one thing to check.

/** The widths a tag may be packed to: each divides 8, so a tag never straddles two bytes. */
export const OWNER_BITS = [1, 2, 4, 8] as const;
export type OwnerBits = (typeof OWNER_BITS)[number];

/** The smallest width that holds every tag up to `maxOwner` (the largest owner id in the model; 0 needs 1 bit). */
export function ownerBitsFor(maxOwner: number): OwnerBits {
  const bits = OWNER_BITS.find((b) => maxOwner < 2 ** b);
  if (bits === undefined) throw new Error(`paenet: owner id ${maxOwner} does not fit in a byte`);
  return bits;
}

/** Bytes of `count` tags packed to `bits` each (the last byte padded with zero bits). */
export function packedOwnerBytes(count: number, bits: OwnerBits): number {
  return Math.ceil((count * bits) / 8);
}

/** Tags packed `bits` each, least significant bits first: tag i sits at bit (i·bits) mod 8 of byte ⌊i·bits/8⌋. */
export function packOwners(owner: Uint8Array, bits: OwnerBits): Uint8Array {
  const out = new Uint8Array(packedOwnerBytes(owner.length, bits));
  const perByte = 8 / bits;
  for (let i = 0; i < owner.length; i++) {
    const tag = owner[i]!;
    if (tag >= 2 ** bits) throw new Error(`paenet: owner tag ${tag} does not fit in ${bits} bit(s)`);
    out[Math.floor(i / perByte)]! |= tag << ((i % perByte) * bits);
  }
  return out;
}

/**
 * The dense owner map of `count` tags from their packed bytes. Returns the problem as text (the caller names the
 * file) when the length is wrong or the padding bits after the last tag are not zero: a writer never sets them,
 * so they mean a damaged or foreign tensor.
 */
export function unpackOwners(packed: Uint8Array, count: number, bits: OwnerBits): Uint8Array | string {
  const need = packedOwnerBytes(count, bits);
  if (packed.length !== need) return `has ${packed.length} bytes, ${count} owner tags of ${bits} bit(s) need ${need}`;
  const out = new Uint8Array(count);
  const perByte = 8 / bits;
  const mask = 2 ** bits - 1;
  for (let i = 0; i < count; i++) out[i] = (packed[Math.floor(i / perByte)]! >>> ((i % perByte) * bits)) & mask;
  const used = (count * bits) % 8;
  if (used !== 0 && packed[need - 1]! >>> used !== 0) return 'has nonzero padding bits after its last owner tag';
  return out;
}
