// Tensor factories: from typed arrays or JS numbers, constants, ranges and random draws.
import { dtypeCode, dtypeOfArray, type DType, type TensorData } from './dtype.ts';
import { native, type OpArg } from './native.ts';
import { aten } from './ops.ts';
import { Tensor, wrap } from './tensor.ts';

/** Options shared by the factories. */
export interface TensorOptions {
  /** @default 'float32' for factories; the array's type for `tensor()` */
  dtype?: DType;
  /** @default 'cpu' */
  device?: string;
  /** @default false */
  requiresGrad?: boolean;
}

function finish(t: Tensor, o: TensorOptions | undefined): Tensor {
  if (o?.requiresGrad) t.requiresGrad = true;
  return t;
}

function packNumbers(values: ArrayLike<number>, dtype: DType): TensorData {
  switch (dtype) {
    case 'float64':
      return Float64Array.from(values);
    case 'int64':
      return BigInt64Array.from(Array.from(values, (v) => BigInt(Math.trunc(v))));
    case 'int32':
      return Int32Array.from(values);
    case 'int16':
      return Int16Array.from(values);
    case 'int8':
      return Int8Array.from(values);
    case 'uint8':
    case 'bool':
      return Uint8Array.from(values, (v) => (dtype === 'bool' ? (v ? 1 : 0) : v));
    case 'float32':
      return Float32Array.from(values);
    default:
      throw new Error(`paenet: tensor() cannot pack JS numbers as ${dtype}`);
  }
}

/**
 * A tensor from a typed array (copied) or JS numbers. `shape` defaults to 1-D.
 * Numbers default to float32; typed arrays keep their type (Uint8Array → uint8 unless `dtype: 'bool'`).
 */
export function tensor(values: TensorData | ArrayLike<number>, shape?: number[], options?: TensorOptions): Tensor {
  const isTyped = ArrayBuffer.isView(values);
  const dtype = options?.dtype ?? (isTyped ? dtypeOfArray(values as TensorData) : 'float32');
  const data =
    isTyped && (dtypeOfArray(values as TensorData) === dtype || (dtype === 'bool' && values instanceof Uint8Array))
      ? (values as TensorData)
      : packNumbers(values as ArrayLike<number>, dtype);
  const dims = shape ?? [data.length];
  return finish(new Tensor(native.fromBuffer(data, dims, dtypeCode(dtype), options?.device)), options);
}

/** A 0-d tensor holding one number. */
export function scalar(value: number, options?: TensorOptions): Tensor {
  return tensor([value], [], options);
}

function factoryArgs(o: TensorOptions | undefined, defaultDtype: DType | null = 'float32'): OpArg[] {
  const dtype = o?.dtype ?? defaultDtype;
  return [dtype === null ? null : dtypeCode(dtype), null, o?.device ?? null, null];
}

export function zeros(shape: number[], o?: TensorOptions): Tensor {
  return finish(wrap(aten('zeros')([shape, ...factoryArgs(o)])), o);
}
export function ones(shape: number[], o?: TensorOptions): Tensor {
  return finish(wrap(aten('ones')([shape, ...factoryArgs(o)])), o);
}
export function empty(shape: number[], o?: TensorOptions): Tensor {
  return finish(wrap(aten('empty', 'memory_format')([shape, ...factoryArgs(o), null])), o);
}
export function full(shape: number[], value: number, o?: TensorOptions): Tensor {
  return finish(wrap(aten('full')([shape, value, ...factoryArgs(o)])), o);
}
export function eye(n: number, o?: TensorOptions): Tensor {
  return finish(wrap(aten('eye')([n, ...factoryArgs(o)])), o);
}
/** Standard normal draws (seeded by `manualSeed`). */
export function randn(shape: number[], o?: TensorOptions): Tensor {
  return finish(wrap(aten('randn')([shape, ...factoryArgs(o)])), o);
}
/** Uniform draws in [0, 1). */
export function rand(shape: number[], o?: TensorOptions): Tensor {
  return finish(wrap(aten('rand')([shape, ...factoryArgs(o)])), o);
}
/** Integers uniform in [low, high). @default dtype 'int64' */
export function randint(low: number, high: number, shape: number[], o?: TensorOptions): Tensor {
  return wrap(aten('randint', 'low')([low, high, shape, ...factoryArgs(o, 'int64')]));
}
/** A random permutation of 0..n-1 (int64). */
export function randperm(n: number): Tensor {
  return wrap(aten('randperm')([n, dtypeCode('int64'), null, null, null]));
}
/** start, start+step, … < end. Integer arguments give int64 unless `dtype` says otherwise. */
export function arange(start: number, end?: number, step = 1, o?: TensorOptions): Tensor {
  const [s, e] = end === undefined ? [0, start] : [start, end];
  return wrap(aten('arange', 'start_step')([s, e, step, ...factoryArgs(o, null)]));
}
export function linspace(start: number, end: number, steps: number, o?: TensorOptions): Tensor {
  return wrap(aten('linspace')([start, end, steps, ...factoryArgs(o)]));
}
export function zerosLike(t: Tensor): Tensor {
  return wrap(aten('zeros_like')([t.handle]));
}
export function onesLike(t: Tensor): Tensor {
  return wrap(aten('ones_like')([t.handle]));
}
export function fullLike(t: Tensor, value: number): Tensor {
  return wrap(aten('full_like')([t.handle, value]));
}
export function randnLike(t: Tensor): Tensor {
  return wrap(aten('randn_like')([t.handle]));
}

/** Concatenates along an existing dimension. */
export function cat(tensors: Tensor[], dim = 0): Tensor {
  return wrap(aten('cat')([tensors.map((t) => t.handle), dim]));
}
/** Stacks along a new dimension. */
export function stack(tensors: Tensor[], dim = 0): Tensor {
  return wrap(aten('stack')([tensors.map((t) => t.handle), dim]));
}
/** Elementwise `cond ? a : b`. */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof a === 'number' && typeof b === 'number') return wrap(aten('where', 'Scalar')([cond.handle, a, b]));
  if (typeof a === 'number') return wrap(aten('where', 'ScalarSelf')([cond.handle, a, (b as Tensor).handle]));
  if (typeof b === 'number') return wrap(aten('where', 'ScalarOther')([cond.handle, a.handle, b]));
  return wrap(aten('where', 'self')([cond.handle, a.handle, b.handle]));
}
