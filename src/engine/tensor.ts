// The Tensor class: a handle to a libtorch tensor, with PyTorch-named methods dispatched to ATen.
import { dtypeCode, dtypeName, type DType } from './dtype.ts';
import { native, type Handle, type OpResult } from './native.ts';
import { aten } from './ops.ts';
import { track, untrack } from './scope.ts';

type Other = Tensor | number;

/** Wraps an op result that must be one tensor. */
export function wrap(r: OpResult): Tensor {
  if (typeof r !== 'number') throw new Error(`paenet: expected a tensor result, got ${r === null ? 'null' : typeof r}`);
  return new Tensor(r);
}

/** Wraps an op result that is a list of tensors. */
export function wrapList(r: OpResult): Tensor[] {
  if (!Array.isArray(r)) throw new Error('paenet: expected a list of tensors');
  return r.map(wrap);
}

/** A tensor backed by libtorch. Free it with `dispose()` or create it inside `tidy()`. */
export class Tensor {
  private h: Handle;
  private cachedShape: number[] | undefined;

  /** @internal Takes ownership of an addon handle. */
  constructor(handle: Handle) {
    this.h = handle;
    track(this, handle);
  }

  /** @internal The addon handle; throws after dispose(). */
  get handle(): Handle {
    if (this.h < 0) throw new Error('paenet: tensor used after dispose()');
    return this.h;
  }

  get isDisposed(): boolean {
    return this.h < 0;
  }

  /** Frees the native tensor now. Safe to call twice. */
  dispose(): void {
    if (this.h < 0) return;
    native.free(this.h);
    untrack(this);
    this.h = -1;
  }

  get shape(): number[] {
    return (this.cachedShape ??= native.shape(this.handle));
  }
  get rank(): number {
    return this.shape.length;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  get dtype(): DType {
    return dtypeName(native.dtype(this.handle));
  }
  get device(): string {
    return native.device(this.handle);
  }

  // ---- values out ----
  /** A copy of the values as a typed array (float32 → Float32Array, int64 → BigInt64Array, bool/uint8 → Uint8Array). */
  data(): ReturnType<typeof native.toBuffer> {
    return native.toBuffer(this.handle);
  }
  /** The values as plain numbers (row-major). */
  toArray(): number[] {
    const d = this.data();
    return d instanceof BigInt64Array ? Array.from(d, Number) : Array.from(d as ArrayLike<number>);
  }
  /** The value of a one-element tensor. */
  item(): number {
    return Number(native.item(this.handle));
  }

  // ---- autograd ----
  get requiresGrad(): boolean {
    return native.requiresGrad(this.handle);
  }
  set requiresGrad(v: boolean) {
    native.requiresGrad(this.handle, v);
  }
  /** The accumulated gradient (a new wrapper sharing memory), or null. */
  get grad(): Tensor | null {
    const g = native.grad(this.handle);
    return g === null ? null : new Tensor(g);
  }
  /** Replaces the gradient; null clears it. */
  setGrad(g: Tensor | null): void {
    native.setGrad(this.handle, g === null ? null : g.handle);
  }
  zeroGrad(): void {
    native.setGrad(this.handle, null);
  }
  backward(grad?: Tensor, retainGraph = false): void {
    native.backward(this.handle, grad ? grad.handle : null, retainGraph);
  }
  detach(): Tensor {
    return new Tensor(native.detach(this.handle));
  }
  /** @internal Address of the first element (tests prove in-place ops do not copy). */
  dataPtr(): number {
    return native.dataPtr(this.handle);
  }

  // ---- conversion ----
  to(target: DType | string): Tensor {
    if (isDType(target)) return wrap(aten('to', 'dtype')([this.handle, dtypeCode(target)]));
    // A string c10 cannot parse as a device aborts the process inside the addon, so reject it here.
    if (!DEVICE.test(target))
      throw new Error(`paenet: to() needs a dtype (${[...DTYPES].join(', ')}) or a device such as 'cpu' or 'cuda:0', got '${target}'`);
    return wrap(aten('to', 'device')([this.handle, target, native.dtype(this.handle)]));
  }
  float(): Tensor {
    return this.to('float32');
  }
  long(): Tensor {
    return this.to('int64');
  }
  clone(): Tensor {
    return wrap(aten('clone')([this.handle]));
  }
  contiguous(memoryFormat: 'contiguous' | 'channels_last' = 'contiguous'): Tensor {
    return wrap(aten('contiguous')([this.handle, memoryFormat === 'channels_last' ? 2 : 0]));
  }

  // ---- elementwise ----
  add(o: Other, alpha = 1): Tensor {
    return wrap(
      typeof o === 'number' ? aten('add', 'Scalar')([this.handle, o, alpha]) : aten('add', 'Tensor')([this.handle, o.handle, alpha]),
    );
  }
  sub(o: Other, alpha = 1): Tensor {
    return wrap(
      typeof o === 'number' ? aten('sub', 'Scalar')([this.handle, o, alpha]) : aten('sub', 'Tensor')([this.handle, o.handle, alpha]),
    );
  }
  mul(o: Other): Tensor {
    return wrap(typeof o === 'number' ? aten('mul', 'Scalar')([this.handle, o]) : aten('mul', 'Tensor')([this.handle, o.handle]));
  }
  div(o: Other): Tensor {
    return wrap(typeof o === 'number' ? aten('div', 'Scalar')([this.handle, o]) : aten('div', 'Tensor')([this.handle, o.handle]));
  }
  pow(o: Other): Tensor {
    return wrap(
      typeof o === 'number' ? aten('pow', 'Tensor_Scalar')([this.handle, o]) : aten('pow', 'Tensor_Tensor')([this.handle, o.handle]),
    );
  }
  maximum(o: Tensor): Tensor {
    return wrap(aten('maximum')([this.handle, o.handle]));
  }
  minimum(o: Tensor): Tensor {
    return wrap(aten('minimum')([this.handle, o.handle]));
  }
  neg(): Tensor {
    return this.unary('neg');
  }
  abs(): Tensor {
    return this.unary('abs');
  }
  sign(): Tensor {
    return this.unary('sign');
  }
  exp(): Tensor {
    return this.unary('exp');
  }
  log(): Tensor {
    return this.unary('log');
  }
  sqrt(): Tensor {
    return this.unary('sqrt');
  }
  rsqrt(): Tensor {
    return this.unary('rsqrt');
  }
  sin(): Tensor {
    return this.unary('sin');
  }
  cos(): Tensor {
    return this.unary('cos');
  }
  acos(): Tensor {
    return this.unary('acos');
  }
  tanh(): Tensor {
    return this.unary('tanh');
  }
  sigmoid(): Tensor {
    return this.unary('sigmoid');
  }
  relu(): Tensor {
    return this.unary('relu');
  }
  square(): Tensor {
    return this.mul(this);
  }
  clamp(min?: number, max?: number): Tensor {
    return wrap(aten('clamp')([this.handle, min ?? null, max ?? null]));
  }
  private unary(name: string): Tensor {
    return wrap(aten(name)([this.handle]));
  }

  // ---- comparisons and masks ----
  eq(o: Other): Tensor {
    return this.compare('eq', o);
  }
  ne(o: Other): Tensor {
    return this.compare('ne', o);
  }
  lt(o: Other): Tensor {
    return this.compare('lt', o);
  }
  le(o: Other): Tensor {
    return this.compare('le', o);
  }
  gt(o: Other): Tensor {
    return this.compare('gt', o);
  }
  ge(o: Other): Tensor {
    return this.compare('ge', o);
  }
  private compare(name: string, o: Other): Tensor {
    return wrap(typeof o === 'number' ? aten(name, 'Scalar')([this.handle, o]) : aten(name, 'Tensor')([this.handle, o.handle]));
  }
  logicalNot(): Tensor {
    return this.unary('logical_not');
  }
  logicalAnd(o: Tensor): Tensor {
    return wrap(aten('logical_and')([this.handle, o.handle]));
  }
  logicalOr(o: Tensor): Tensor {
    return wrap(aten('logical_or')([this.handle, o.handle]));
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return wrap(aten('masked_fill', 'Scalar')([this.handle, mask.handle, value]));
  }
  maskedSelect(mask: Tensor): Tensor {
    return wrap(aten('masked_select')([this.handle, mask.handle]));
  }

  // ---- reductions ----
  sum(dim?: number | number[], keepdim = false): Tensor {
    if (dim === undefined) return wrap(aten('sum')([this.handle]));
    return wrap(aten('sum', 'dim_IntList')([this.handle, typeof dim === 'number' ? [dim] : dim, keepdim]));
  }
  mean(dim?: number | number[], keepdim = false): Tensor {
    if (dim === undefined) return wrap(aten('mean')([this.handle]));
    return wrap(aten('mean', 'dim')([this.handle, typeof dim === 'number' ? [dim] : dim, keepdim]));
  }
  /** Variance (unbiased like PyTorch unless `unbiased` is false). */
  var(dim?: number | number[], unbiased = true, keepdim = false): Tensor {
    const dims = dim === undefined ? null : typeof dim === 'number' ? [dim] : dim;
    return wrap(aten('var', 'dim')([this.handle, dims, unbiased, keepdim]));
  }
  std(dim?: number | number[], unbiased = true, keepdim = false): Tensor {
    const dims = dim === undefined ? null : typeof dim === 'number' ? [dim] : dim;
    return wrap(aten('std', 'dim')([this.handle, dims, unbiased, keepdim]));
  }
  /** Max over all elements, or [values, indices] along `dim`. */
  max(): Tensor;
  max(dim: number, keepdim?: boolean): [Tensor, Tensor];
  max(dim?: number, keepdim = false): Tensor | [Tensor, Tensor] {
    if (dim === undefined) return wrap(aten('max')([this.handle]));
    const [v, i] = wrapList(aten('max', 'dim')([this.handle, dim, keepdim]));
    return [v!, i!];
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): [Tensor, Tensor];
  min(dim?: number, keepdim = false): Tensor | [Tensor, Tensor] {
    if (dim === undefined) return wrap(aten('min')([this.handle]));
    const [v, i] = wrapList(aten('min', 'dim')([this.handle, dim, keepdim]));
    return [v!, i!];
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return wrap(aten('argmax')([this.handle, dim ?? null, keepdim]));
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return wrap(aten('argmin')([this.handle, dim ?? null, keepdim]));
  }
  /** p-norm over all elements or along dims. */
  norm(p = 2, dim?: number | number[], keepdim = false): Tensor {
    if (dim === undefined) return wrap(aten('norm', 'Scalar')([this.handle, p]));
    return wrap(aten('norm', 'ScalarOpt_dim')([this.handle, p, typeof dim === 'number' ? [dim] : dim, keepdim]));
  }
  all(): Tensor {
    return this.unary('all');
  }
  any(): Tensor {
    return this.unary('any');
  }
  /** Number of true (non-zero) elements. */
  countNonzero(): number {
    const c = wrap(aten('count_nonzero')([this.handle, null]));
    const n = c.item();
    c.dispose();
    return n;
  }
  sort(dim = -1, descending = false): [Tensor, Tensor] {
    const [v, i] = wrapList(aten('sort')([this.handle, dim, descending]));
    return [v!, i!];
  }
  /** The k largest (or smallest) values along `dim`: [values, indices]. */
  topk(k: number, dim = -1, largest = true, sorted = true): [Tensor, Tensor] {
    const [v, i] = wrapList(aten('topk')([this.handle, k, dim, largest, sorted]));
    return [v!, i!];
  }
  /** The k-th smallest value along `dim` (1-based k, as torch.kthvalue). */
  kthvalue(k: number, dim = -1, keepdim = false): [Tensor, Tensor] {
    const [v, i] = wrapList(aten('kthvalue')([this.handle, k, dim, keepdim]));
    return [v!, i!];
  }

  // ---- shape ----
  reshape(shape: number[]): Tensor {
    return wrap(aten('reshape')([this.handle, shape]));
  }
  view(shape: number[]): Tensor {
    return wrap(aten('view')([this.handle, shape]));
  }
  flatten(start = 0, end = -1): Tensor {
    return wrap(aten('flatten', 'using_ints')([this.handle, start, end]));
  }
  permute(dims: number[]): Tensor {
    return wrap(aten('permute')([this.handle, dims]));
  }
  transpose(a: number, b: number): Tensor {
    return wrap(aten('transpose', 'int')([this.handle, a, b]));
  }
  t(): Tensor {
    return this.unary('t');
  }
  squeeze(dim?: number): Tensor {
    return wrap(dim === undefined ? aten('squeeze')([this.handle]) : aten('squeeze', 'dim')([this.handle, dim]));
  }
  unsqueeze(dim: number): Tensor {
    return wrap(aten('unsqueeze')([this.handle, dim]));
  }
  expand(shape: number[]): Tensor {
    return wrap(aten('expand')([this.handle, shape]));
  }
  repeat(times: number[]): Tensor {
    return wrap(aten('repeat')([this.handle, times]));
  }
  flip(dims: number[]): Tensor {
    return wrap(aten('flip')([this.handle, dims]));
  }
  /** Elements start..end (exclusive) along `dim`, with a step; a view. Negative indices count from the end. */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor {
    return wrap(aten('slice', 'Tensor')([this.handle, dim, start ?? null, end ?? null, step]));
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return wrap(aten('narrow')([this.handle, dim, start, length]));
  }
  /** Index `index` along `dim`, removing that dimension; a view. */
  select(dim: number, index: number): Tensor {
    return wrap(aten('select', 'int')([this.handle, dim, index]));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return wrap(aten('index_select')([this.handle, dim, index.handle]));
  }
  /** Advanced indexing `x[i0, i1, ...]` with index tensors (null = full slice). */
  index(indices: (Tensor | null)[]): Tensor {
    return wrap(aten('index', 'Tensor')([this.handle, indices.map((i) => (i ? i.handle : null))]));
  }
  gather(dim: number, index: Tensor): Tensor {
    return wrap(aten('gather')([this.handle, dim, index.handle]));
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return wrapList(aten('chunk')([this.handle, chunks, dim]));
  }
  split(size: number, dim = 0): Tensor[] {
    return wrapList(aten('split', 'Tensor')([this.handle, size, dim]));
  }

  // ---- linear algebra ----
  matmul(o: Tensor): Tensor {
    return wrap(aten('matmul')([this.handle, o.handle]));
  }
  mm(o: Tensor): Tensor {
    return wrap(aten('mm')([this.handle, o.handle]));
  }

  // ---- in place (for optimisers and masks; return this) ----
  add_(o: Other, alpha = 1): this {
    if (typeof o === 'number') aten('add_', 'Scalar').inPlace([this.handle, o, alpha]);
    else aten('add_', 'Tensor').inPlace([this.handle, o.handle, alpha]);
    return this;
  }
  sub_(o: Other, alpha = 1): this {
    if (typeof o === 'number') aten('sub_', 'Scalar').inPlace([this.handle, o, alpha]);
    else aten('sub_', 'Tensor').inPlace([this.handle, o.handle, alpha]);
    return this;
  }
  mul_(o: Other): this {
    if (typeof o === 'number') aten('mul_', 'Scalar').inPlace([this.handle, o]);
    else aten('mul_', 'Tensor').inPlace([this.handle, o.handle]);
    return this;
  }
  div_(o: Other): this {
    if (typeof o === 'number') aten('div_', 'Scalar').inPlace([this.handle, o]);
    else aten('div_', 'Tensor').inPlace([this.handle, o.handle]);
    return this;
  }
  /** this += value * a * b */
  addcmul_(a: Tensor, b: Tensor, value = 1): this {
    aten('addcmul_').inPlace([this.handle, a.handle, b.handle, value]);
    return this;
  }
  /** this += value * a / b */
  addcdiv_(a: Tensor, b: Tensor, value = 1): this {
    aten('addcdiv_').inPlace([this.handle, a.handle, b.handle, value]);
    return this;
  }
  /** this = this + weight * (end - this) */
  lerp_(end: Tensor, weight: number): this {
    aten('lerp_', 'Scalar').inPlace([this.handle, end.handle, weight]);
    return this;
  }
  copy_(src: Tensor): this {
    aten('copy_').inPlace([this.handle, src.handle]);
    return this;
  }
  zero_(): this {
    aten('zero_').inPlace([this.handle]);
    return this;
  }
  fill_(value: number): this {
    aten('fill_', 'Scalar').inPlace([this.handle, value]);
    return this;
  }
  clamp_(min?: number, max?: number): this {
    aten('clamp_').inPlace([this.handle, min ?? null, max ?? null]);
    return this;
  }
  maskedFill_(mask: Tensor, value: number): this {
    aten('masked_fill_', 'Scalar').inPlace([this.handle, mask.handle, value]);
    return this;
  }
  sqrt_(): this {
    aten('sqrt_').inPlace([this.handle]);
    return this;
  }
  /** `x[indices] = values` in place (advanced indexing). */
  indexPut_(indices: (Tensor | null)[], values: Tensor, accumulate = false): this {
    aten('index_put_').inPlace([this.handle, indices.map((i) => (i ? i.handle : null)), values.handle, accumulate]);
    return this;
  }

  toString(): string {
    return this.h < 0 ? 'Tensor(disposed)' : `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device})`;
  }
}

const DEVICE = /^(cpu|cuda|mps|meta|xpu|hip|ipu|hpu|ve|fpga|ort|xla|lazy|vulkan|mkldnn|opengl|opencl|ideep|privateuseone)(:\d+)?$/;
const DTYPES = new Set<string>(['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool']);
function isDType(s: string): s is DType {
  return DTYPES.has(s);
}
