// ATen operators by name: resolved once through the c10 dispatcher, then called by index.
import { native, type OpArg, type OpResult } from './native.ts';

/** A resolved ATen operator overload. */
export interface Op {
  (args: OpArg[]): OpResult;
  /** Calls the op and drops its outputs (in-place ops that return `self`). */
  inPlace(args: OpArg[]): void;
  readonly schema: string;
}

const cache = new Map<string, Op>();

/** The ATen operator `aten::<name>.<overload>`, resolved lazily on first call. */
export function aten(name: string, overload = ''): Op {
  const key = `${name}.${overload}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let id = -1;
  const resolve = (): number => (id >= 0 ? id : (id = native.opResolve(`aten::${name}`, overload)));
  const op = ((args: OpArg[]) => native.opCall(resolve(), args)) as Op;
  op.inPlace = (args: OpArg[]) => void native.opCall(resolve(), args, true);
  Object.defineProperty(op, 'schema', { get: () => native.opSchema(resolve()) });
  cache.set(key, op);
  return op;
}
