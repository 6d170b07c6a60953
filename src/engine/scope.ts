// Deterministic native memory: every tensor belongs to the innermost open scope, and tidy() frees a scope's
// tensors when it closes. Node runs finalizers late (engine-notes §1.4), so GC is only a safety net here.
import { native, type Handle } from './native.ts';

/** Anything that owns native memory. */
export interface Disposable {
  dispose(): void;
}

interface Tracked extends Disposable {
  readonly isDisposed: boolean;
}

const scopes: Set<Tracked>[] = [];

// Safety net only: frees a tensor that was dropped without dispose(), some event-loop turns later.
const finalizer = new FinalizationRegistry<Handle>((h) => native.free(h));

/** Registers a new tensor with the current scope and the GC safety net. */
export function track(t: Tracked, h: Handle): void {
  finalizer.register(t, h, t);
  scopes[scopes.length - 1]?.add(t);
}

/** Forgets a disposed tensor. */
export function untrack(t: Tracked): void {
  finalizer.unregister(t);
  scopes[scopes.length - 1]?.delete(t);
}

/** Removes tensors from every open scope so tidy() will not free them. */
export function keep<T>(value: T): T {
  forEachTracked(value, (t) => {
    for (const s of scopes) s.delete(t);
  });
  return value;
}

function isTracked(x: unknown): x is Tracked {
  return typeof x === 'object' && x !== null && 'dispose' in x && 'isDisposed' in x;
}

function forEachTracked(value: unknown, fn: (t: Tracked) => void, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (isTracked(value)) {
    fn(value);
    return;
  }
  if (Array.isArray(value)) for (const v of value) forEachTracked(v, fn, seen);
  else if (value instanceof Map) for (const v of value.values()) forEachTracked(v, fn, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) forEachTracked(v, fn, seen);
}

/**
 * Runs `fn` and frees every tensor it created, except those reachable from its result (tensors, arrays,
 * Maps, plain objects), which move to the enclosing scope. `fn` must be synchronous.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tracked>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise)
    throw new Error('paenet: tidy() takes a synchronous function (an async one would free tensors it still uses)');
  const kept = new Set<Tracked>();
  forEachTracked(result, (t) => kept.add(t));
  for (const t of scope) if (!kept.has(t)) t.dispose();
  const parent = scopes[scopes.length - 1];
  if (parent) for (const t of kept) if (scope.has(t)) parent.add(t);
  return result;
}

/** Disposes every tensor (or disposable) reachable from `value`. */
export function dispose(value: unknown): void {
  forEachTracked(value, (t) => t.dispose());
}

/** Number of live native tensors (the addon's count; the leak tests' oracle). */
export function liveTensors(): number {
  return native.liveCount();
}

/** Bytes held by live native tensors. */
export function liveTensorBytes(): number {
  return native.liveBytes();
}
