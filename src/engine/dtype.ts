// Tensor element types and their c10::ScalarType codes.

/** Element types paenet exposes. */
export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

// c10/core/ScalarType.h order.
const CODES: Record<DType, number> = {
  uint8: 0,
  int8: 1,
  int16: 2,
  int32: 3,
  int64: 4,
  float16: 5,
  float32: 6,
  float64: 7,
  bool: 11,
  bfloat16: 15,
};
const NAMES = new Map<number, DType>(Object.entries(CODES).map(([k, v]) => [v, k as DType]));

/** c10::ScalarType code of a dtype. */
export function dtypeCode(d: DType): number {
  // An unknown name must not reach the addon as `undefined` (factories would silently fall back to float32).
  if (!Object.hasOwn(CODES, d)) throw new Error(`paenet: unknown dtype '${String(d)}' (known: ${Object.keys(CODES).join(', ')})`);
  return CODES[d];
}

/** dtype of a c10::ScalarType code. */
export function dtypeName(code: number): DType {
  const d = NAMES.get(code);
  if (d === undefined) throw new Error(`paenet: unsupported ScalarType code ${code}`);
  return d;
}

/** Bytes per element. */
export function dtypeSize(d: DType): number {
  switch (d) {
    case 'float64':
    case 'int64':
      return 8;
    case 'float32':
    case 'int32':
      return 4;
    case 'float16':
    case 'bfloat16':
    case 'int16':
      return 2;
    default:
      return 1;
  }
}

/** Typed array of a dtype, as returned by `Tensor.data()`. */
export type TypedArrayOf<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int64'
      ? BigInt64Array
      : D extends 'int32'
        ? Int32Array
        : D extends 'uint8' | 'bool'
          ? Uint8Array
          : ArrayBufferView;

/** Any typed array a tensor can be built from. */
export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array;

/** The dtype a typed array holds by default. */
export function dtypeOfArray(a: TensorData): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint16Array) return 'float16';
  return 'uint8';
}
