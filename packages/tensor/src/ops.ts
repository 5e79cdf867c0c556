/**
 * The op layer: validates arguments, resolves axes and output shapes, then calls the current tensor's
 * backend. Every error names the op and the shapes or dtypes involved. Backends can trust what they get.
 */
import type { BinaryOp, FusedKernel, ReduceOp, UnaryOp } from './backend.js';
import { type DType, allocate, assertDType, isFloat } from './dtype.js';
import {
  type Shape,
  broadcastShapes,
  formatShape,
  inferShape,
  normalizeAxis,
  shapesEqual,
  sizeOf,
} from './shape.js';
import { NDArray } from './ndarray.js';
import { full } from './creation.js';

// ---------------------------------------------------------------------------------------------------------
// Checks

function assertTensor(x: unknown, op: string, what = 'argument'): asserts x is NDArray {
  if (!(x instanceof NDArray)) throw new Error(`${op}: ${what} must be an NDArray, got ${describe(x)}`);
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return typeof x === 'object' ? (x as object).constructor?.name ?? 'an object' : typeof x;
}

function assertSameDType(op: string, a: NDArray, b: NDArray): void {
  if (a.dtype !== b.dtype) {
    throw new Error(
      `${op}: dtype mismatch, ${a.dtype}${formatShape(a.shape)} and ${b.dtype}${formatShape(b.shape)} (cast one first)`,
    );
  }
}

function assertSameBackend(op: string, ...ts: NDArray[]): void {
  const first = ts[0]!.backend;
  for (const t of ts) {
    if (t.backend !== first) {
      const which = t.backend.name === first.name ? `two ${first.name} backend instances` : `${first.name} and ${t.backend.name}`;
      throw new Error(`${op}: tensors live on different backends (${which})`);
    }
  }
}

function assertFloat(op: string, a: NDArray): void {
  if (!isFloat(a.dtype)) throw new Error(`${op}: needs a float32 or float64 tensor, got ${a.dtype}${formatShape(a.shape)}`);
}

/** Axis ops (gather, indexSelect, narrow, …) need a real axis: a scalar has none. */
function assertNotScalar(op: string, ndim: number, what = 'tensor'): void {
  if (ndim === 0) throw new Error(`${op}: needs a ${what} with at least 1 dimension, got a scalar (shape [])`);
}

function assertIndexTensor(op: string, index: NDArray, limit: number, what: string): void {
  if (index.dtype !== 'int32') {
    throw new Error(`${op}: indices must be int32, got ${index.dtype}${formatShape(index.shape)}`);
  }
  const data = index.data;
  for (let i = 0; i < data.length; i++) {
    const k = data[i]!;
    if (k < 0 || k >= limit) throw new Error(`${op}: index ${k} is out of range for ${what} of size ${limit}`);
  }
}

/**
 * A number becomes a scalar tensor of the other operand's dtype and backend. There is no type promotion,
 * so a number that int32 cannot hold exactly (0.5, 2³¹) is an error rather than a silent truncation.
 */
function lift(x: NDArray | number, like: NDArray, op = 'lift'): NDArray {
  if (x instanceof NDArray) return x;
  if (typeof x !== 'number') throw new Error(`${op}: expected an NDArray or a number, got ${describe(x)}`);
  if (like.dtype === 'int32' && (x | 0) !== x) {
    throw new Error(`${op}: the number ${x} cannot be used with an int32 tensor ${formatShape(like.shape)} (cast it to a float dtype first)`);
  }
  const data = allocate(like.dtype, 1);
  data[0] = x;
  return like.backend.fromArray(data, [], like.dtype);
}

// ---------------------------------------------------------------------------------------------------------
// Elementwise

const FLOAT_ONLY_UNARY = new Set<UnaryOp>([
  'exp', 'log', 'sqrt', 'reciprocal', 'gelu', 'gelu_tanh', 'tanh', 'sigmoid', 'sin', 'cos',
]);

export function unary(op: UnaryOp, a: NDArray): NDArray {
  assertTensor(a, op);
  if (FLOAT_ONLY_UNARY.has(op)) assertFloat(op, a);
  return a.backend.unary(op, a);
}

export const neg = (a: NDArray) => unary('neg', a);
export const exp = (a: NDArray) => unary('exp', a);
export const log = (a: NDArray) => unary('log', a);
export const sqrt = (a: NDArray) => unary('sqrt', a);
export const abs = (a: NDArray) => unary('abs', a);
export const sign = (a: NDArray) => unary('sign', a);
export const square = (a: NDArray) => unary('square', a);
export const reciprocal = (a: NDArray) => unary('reciprocal', a);
export const relu = (a: NDArray) => unary('relu', a);
/** GELU with the exact erf: x·Φ(x). */
export const gelu = (a: NDArray) => unary('gelu', a);
/** GELU with the tanh approximation (PyTorch's approximate='tanh'). */
export const geluTanh = (a: NDArray) => unary('gelu_tanh', a);
export const tanh = (a: NDArray) => unary('tanh', a);
export const sigmoid = (a: NDArray) => unary('sigmoid', a);
export const sin = (a: NDArray) => unary('sin', a);
export const cos = (a: NDArray) => unary('cos', a);

export function binary(op: BinaryOp, a: NDArray | number, b: NDArray | number): NDArray {
  if (!(a instanceof NDArray) && !(b instanceof NDArray)) throw new Error(`${op}: at least one argument must be an NDArray`);
  const ta = lift(a, (a instanceof NDArray ? a : b) as NDArray, op);
  const tb = lift(b, ta, op);
  assertSameDType(op, ta, tb);
  assertSameBackend(op, ta, tb);
  const outShape = broadcastShapes(op, ta.shape, tb.shape);
  return ta.backend.binary(op, ta, tb, outShape);
}

export const add = (a: NDArray | number, b: NDArray | number) => binary('add', a, b);
export const sub = (a: NDArray | number, b: NDArray | number) => binary('sub', a, b);
export const mul = (a: NDArray | number, b: NDArray | number) => binary('mul', a, b);
/** Division; for int32 the quotient is truncated toward zero (as in C), not floored. */
export const div = (a: NDArray | number, b: NDArray | number) => binary('div', a, b);
export const pow = (a: NDArray | number, b: NDArray | number) => binary('pow', a, b);
export const maximum = (a: NDArray | number, b: NDArray | number) => binary('maximum', a, b);
export const minimum = (a: NDArray | number, b: NDArray | number) => binary('minimum', a, b);
export const eq = (a: NDArray | number, b: NDArray | number) => binary('eq', a, b);
export const ne = (a: NDArray | number, b: NDArray | number) => binary('ne', a, b);
export const lt = (a: NDArray | number, b: NDArray | number) => binary('lt', a, b);
export const le = (a: NDArray | number, b: NDArray | number) => binary('le', a, b);
export const gt = (a: NDArray | number, b: NDArray | number) => binary('gt', a, b);
export const ge = (a: NDArray | number, b: NDArray | number) => binary('ge', a, b);

/** cond != 0 ? a : b, with broadcasting over all three. a and b must share a dtype. */
export function where(cond: NDArray, a: NDArray | number, b: NDArray | number): NDArray {
  assertTensor(cond, 'where', 'cond');
  // Two numbers take cond's dtype when it is a float, else float32: an int32 mask must not truncate them.
  const like = a instanceof NDArray ? a : b instanceof NDArray ? b : isFloat(cond.dtype) ? cond : liftFloat32(cond);
  const ta = lift(a, like, 'where');
  const tb = lift(b, ta, 'where');
  assertSameDType('where', ta, tb);
  assertSameBackend('where', cond, ta, tb);
  const outShape = broadcastShapes('where', cond.shape, ta.shape, tb.shape);
  return ta.backend.where(cond, ta, tb, outShape);
}

/** A float32 scalar on t's backend (only its dtype and backend matter to `lift`). */
function liftFloat32(t: NDArray): NDArray {
  return t.backend.fromArray(new Float32Array(1), [], 'float32');
}

/** `a` repeated along broadcast dimensions to `shape` (a copy). */
export function broadcastTo(a: NDArray, shape: Shape): NDArray {
  assertTensor(a, 'broadcastTo');
  const out = broadcastShapes('broadcastTo', a.shape, shape);
  if (!shapesEqual(out, shape)) {
    throw new Error(`broadcastTo: cannot broadcast ${formatShape(a.shape)} to ${formatShape(shape)}`);
  }
  if (shapesEqual(a.shape, shape)) return a;
  // x·1 is the identity for every value (x + 0 would turn −0 into +0).
  const one = lift(1, a, 'broadcastTo');
  return a.backend.binary('mul', a, one, shape);
}

// ---------------------------------------------------------------------------------------------------------
// Reductions

function reduceAxes(op: ReduceOp, a: NDArray, axes: readonly number[], keepdim: boolean): NDArray {
  const normalized = axes.map((ax) => normalizeAxis(ax, a.ndim, op));
  if (new Set(normalized).size !== normalized.length) {
    throw new Error(`${op}: axes [${axes.join(', ')}] name the same axis of ${formatShape(a.shape)} twice`);
  }
  // Reduce the highest axis first so the lower axis numbers stay valid.
  const sorted = [...normalized].sort((x, y) => y - x);
  let out = a;
  for (const axis of sorted) out = a.backend.reduce(op, out, axis, true);
  return keepdim ? out : reshape(out, a.shape.filter((_, i) => !sorted.includes(i)));
}

function reduceAll(op: ReduceOp, a: NDArray, keepdim: boolean): NDArray {
  if (a.size === 0 && op !== 'sum') throw new Error(`${op}: cannot reduce an empty tensor ${formatShape(a.shape)}`);
  const flat = a.backend.reduce(op, reshape(a, [a.size]), 0, false);
  return keepdim ? reshape(flat, a.shape.map(() => 1)) : flat;
}

function reduce(op: ReduceOp, a: NDArray, axis: number | readonly number[] | undefined, keepdim: boolean): NDArray {
  assertTensor(a, op);
  if (op === 'mean') assertFloat(op, a);
  if (axis === undefined) return reduceAll(op, a, keepdim);
  const axes = typeof axis === 'number' ? [axis] : axis;
  if (a.ndim === 0) {
    // A scalar has one virtual axis (0 or -1, as in torch): reducing it is reducing everything.
    for (const ax of axes) if (ax !== 0 && ax !== -1) normalizeAxis(ax, 0, op);
    return reduceAll(op, a, false);
  }
  for (const ax of axes) {
    const n = a.shape[normalizeAxis(ax, a.ndim, op)]!;
    if (n === 0 && op !== 'sum') throw new Error(`${op}: cannot reduce an empty axis of ${formatShape(a.shape)}`);
  }
  return reduceAxes(op, a, axes, keepdim);
}

export const sum = (a: NDArray, axis?: number | readonly number[], keepdim = false) => reduce('sum', a, axis, keepdim);
export const mean = (a: NDArray, axis?: number | readonly number[], keepdim = false) => reduce('mean', a, axis, keepdim);
export const max = (a: NDArray, axis?: number, keepdim = false) => reduce('max', a, axis, keepdim);
export const min = (a: NDArray, axis?: number, keepdim = false) => reduce('min', a, axis, keepdim);
/** Index of the largest element (the first on ties), as int32; over the flattened tensor when axis is omitted. */
export const argmax = (a: NDArray, axis?: number, keepdim = false) => reduce('argmax', a, axis, keepdim);
export const argmin = (a: NDArray, axis?: number, keepdim = false) => reduce('argmin', a, axis, keepdim);

// ---------------------------------------------------------------------------------------------------------
// Matmul

export interface MatmulFlags {
  transA?: boolean;
  transB?: boolean;
}

/** The output shape of matmul, or an error naming both shapes. Shared with autograd. */
export function matmulShape(a: Shape, b: Shape, { transA = false, transB = false }: MatmulFlags = {}): number[] {
  const desc = () =>
    `${formatShape(a)}${transA ? 'ᵀ' : ''} and ${formatShape(b)}${transB ? 'ᵀ' : ''}`;
  if (a.length < 2 || b.length < 2) throw new Error(`matmul: both operands need at least 2 dimensions, got ${desc()}`);
  const [m, ka] = transA ? [a.at(-1)!, a.at(-2)!] : [a.at(-2)!, a.at(-1)!];
  const [kb, n] = transB ? [b.at(-1)!, b.at(-2)!] : [b.at(-2)!, b.at(-1)!];
  if (ka !== kb) throw new Error(`matmul: inner dimensions differ (${ka} vs ${kb}) for ${desc()}`);
  let batch: number[];
  try {
    batch = broadcastShapes('matmul', a.slice(0, -2), b.slice(0, -2));
  } catch {
    throw new Error(`matmul: batch dimensions cannot be broadcast together for ${desc()}`);
  }
  return [...batch, m, n];
}

/** a · b over the last two axes, batched with broadcasting over the leading ones. */
export function matmul(a: NDArray, b: NDArray, flags: MatmulFlags = {}): NDArray {
  assertTensor(a, 'matmul', 'a');
  assertTensor(b, 'matmul', 'b');
  assertSameDType('matmul', a, b);
  assertSameBackend('matmul', a, b);
  matmulShape(a.shape, b.shape, flags);
  return a.backend.matmul(a, b, { transA: !!flags.transA, transB: !!flags.transB });
}

// ---------------------------------------------------------------------------------------------------------
// Shape and layout

/** Same data, new shape (one dimension may be -1). Shares storage: no copy. */
export function reshape(a: NDArray, shape: Shape): NDArray {
  assertTensor(a, 'reshape');
  const out = inferShape(shape, a.size, 'reshape', a.shape);
  return shapesEqual(out, a.shape) ? a : a.backend.reshape(a, out);
}

export const view = reshape;

export function flatten(a: NDArray): NDArray {
  return reshape(a, [a.size]);
}

export function unsqueeze(a: NDArray, axis: number): NDArray {
  const ax = normalizeAxis(axis, a.ndim + 1, 'unsqueeze');
  return reshape(a, [...a.shape.slice(0, ax), 1, ...a.shape.slice(ax)]);
}

export function squeeze(a: NDArray, axis?: number): NDArray {
  if (axis === undefined) return reshape(a, a.shape.filter((d) => d !== 1));
  const ax = normalizeAxis(axis, a.ndim, 'squeeze');
  if (a.shape[ax] !== 1) throw new Error(`squeeze: axis ${axis} of ${formatShape(a.shape)} has size ${a.shape[ax]}, not 1`);
  return reshape(a, a.shape.filter((_, i) => i !== ax));
}

/** Reorders axes (a contiguous copy): out.shape[i] = a.shape[perm[i]]. */
export function permute(a: NDArray, perm: readonly number[]): NDArray {
  assertTensor(a, 'permute');
  const p = perm.map((ax) => normalizeAxis(ax, a.ndim, 'permute'));
  if (p.length !== a.ndim || new Set(p).size !== p.length) {
    throw new Error(`permute: [${perm.join(', ')}] is not a permutation of the axes of ${formatShape(a.shape)}`);
  }
  if (p.every((ax, i) => ax === i)) return a;
  return a.backend.permute(a, p);
}

/** Swaps two axes (a copy). */
export function transpose(a: NDArray, dim0 = -2, dim1 = -1): NDArray {
  assertTensor(a, 'transpose');
  const d0 = normalizeAxis(dim0, a.ndim, 'transpose');
  const d1 = normalizeAxis(dim1, a.ndim, 'transpose');
  const perm = a.shape.map((_, i) => (i === d0 ? d1 : i === d1 ? d0 : i));
  return permute(a, perm);
}

/**
 * The box [starts[i], ends[i]) along each axis; missing trailing entries mean the whole axis. Negative
 * values count from the end, as in Python.
 */
export function slice(a: NDArray, starts: readonly number[], ends?: readonly number[]): NDArray {
  assertTensor(a, 'slice');
  if (starts.length > a.ndim || (ends && ends.length > a.ndim)) {
    throw new Error(`slice: more bounds than the ${a.ndim} axes of ${formatShape(a.shape)}`);
  }
  const s: number[] = [];
  const e: number[] = [];
  for (let i = 0; i < a.ndim; i++) {
    const n = a.shape[i]!;
    const resolve = (x: number) => Math.min(Math.max(x < 0 ? x + n : x, 0), n);
    const lo = resolve(starts[i] ?? 0);
    const hi = resolve(ends?.[i] ?? n);
    if (!Number.isInteger(starts[i] ?? 0) || !Number.isInteger(ends?.[i] ?? 0)) {
      throw new Error(`slice: bounds must be integers, got [${starts.join(', ')}] to [${(ends ?? []).join(', ')}]`);
    }
    s.push(lo);
    e.push(Math.max(hi, lo));
  }
  return a.backend.slice(a, s, e);
}

/** `length` entries of `axis` starting at `start`. */
export function narrow(a: NDArray, axis: number, start: number, length: number): NDArray {
  assertTensor(a, 'narrow');
  assertNotScalar('narrow', a.ndim);
  const ax = normalizeAxis(axis, a.ndim, 'narrow');
  const n = a.shape[ax]!;
  if (start < 0 || length < 0 || start + length > n) {
    throw new Error(`narrow: [${start}, ${start + length}) is out of range for axis ${ax} of ${formatShape(a.shape)}`);
  }
  const starts = a.shape.map((_, i) => (i === ax ? start : 0));
  const ends = a.shape.map((d, i) => (i === ax ? start + length : d));
  return slice(a, starts, ends);
}

export function concat(tensors: readonly NDArray[], axis = 0): NDArray {
  if (tensors.length === 0) throw new Error('concat: needs at least one tensor');
  tensors.forEach((t, i) => assertTensor(t, 'concat', `tensor ${i}`));
  const first = tensors[0]!;
  if (first.ndim === 0) throw new Error('concat: scalars (shape []) have no axis to join along; use stack');
  const ax = normalizeAxis(axis, first.ndim, 'concat');
  for (const t of tensors) {
    assertSameDType('concat', first, t);
    assertSameBackend('concat', first, t);
    const ok = t.ndim === first.ndim && t.shape.every((d, i) => i === ax || d === first.shape[i]);
    if (!ok) {
      throw new Error(
        `concat: shapes ${tensors.map((x) => formatShape(x.shape)).join(', ')} differ outside axis ${ax}`,
      );
    }
  }
  if (tensors.length === 1) return first;
  return first.backend.concat(tensors, ax);
}

export function stack(tensors: readonly NDArray[], axis = 0): NDArray {
  if (tensors.length === 0) throw new Error('stack: needs at least one tensor');
  const first = tensors[0]!;
  const ax = normalizeAxis(axis, first.ndim + 1, 'stack');
  for (const t of tensors) {
    if (!shapesEqual(t.shape, first.shape)) {
      throw new Error(`stack: all shapes must be equal, got ${tensors.map((x) => formatShape(x.shape)).join(', ')}`);
    }
  }
  return concat(tensors.map((t) => unsqueeze(t, ax)), ax);
}

export function cast(a: NDArray, dtype: DType): NDArray {
  assertTensor(a, 'cast');
  assertDType(dtype, 'cast');
  return a.dtype === dtype ? a : a.backend.cast(a, dtype);
}

// ---------------------------------------------------------------------------------------------------------
// Indexing

/** torch.gather: picks along `axis` with an int32 index tensor of the same rank. */
export function gather(a: NDArray, axis: number, index: NDArray): NDArray {
  assertTensor(a, 'gather');
  assertTensor(index, 'gather', 'index');
  assertNotScalar('gather', a.ndim);
  const ax = normalizeAxis(axis, a.ndim, 'gather');
  const ok = index.ndim === a.ndim && index.shape.every((d, i) => i === ax || d <= a.shape[i]!);
  if (!ok) throw new Error(`gather: index ${formatShape(index.shape)} does not fit ${formatShape(a.shape)} along axis ${ax}`);
  assertIndexTensor('gather', index, a.shape[ax]!, `axis ${ax}`);
  assertSameBackend('gather', a, index);
  return a.backend.gather(a, ax, index);
}

/** The adjoint of gather: a zero tensor of `shape` with src added at the indexed places. */
export function scatterAdd(shape: Shape, axis: number, index: NDArray, src: NDArray): NDArray {
  assertTensor(index, 'scatterAdd', 'index');
  assertTensor(src, 'scatterAdd', 'src');
  assertNotScalar('scatterAdd', shape.length, 'shape');
  const ax = normalizeAxis(axis, shape.length, 'scatterAdd');
  if (!shapesEqual(index.shape, src.shape) || index.ndim !== shape.length ||
      !index.shape.every((d, i) => i === ax || d <= shape[i]!)) {
    throw new Error(
      `scatterAdd: index ${formatShape(index.shape)} and src ${formatShape(src.shape)} do not fit ${formatShape(shape)} along axis ${ax}`,
    );
  }
  assertIndexTensor('scatterAdd', index, shape[ax]!, `axis ${ax}`);
  assertSameBackend('scatterAdd', index, src);
  return src.backend.scatterAdd(shape, ax, index, src);
}

/** Selects entries `indices` (1-D int32) along `axis`; an embedding lookup is indexSelect(W_E, 0, tokens). */
export function indexSelect(a: NDArray, axis: number, indices: NDArray): NDArray {
  assertTensor(a, 'indexSelect');
  assertTensor(indices, 'indexSelect', 'indices');
  assertNotScalar('indexSelect', a.ndim);
  const ax = normalizeAxis(axis, a.ndim, 'indexSelect');
  if (indices.ndim !== 1) throw new Error(`indexSelect: indices must be 1-D, got ${formatShape(indices.shape)}`);
  assertIndexTensor('indexSelect', indices, a.shape[ax]!, `axis ${ax} of ${formatShape(a.shape)}`);
  assertSameBackend('indexSelect', a, indices);
  return a.backend.indexSelect(a, ax, indices);
}

/** The adjoint of indexSelect: zeros(shape), then rows of src added at `indices` along `axis`. */
export function indexAdd(shape: Shape, axis: number, indices: NDArray, src: NDArray): NDArray {
  assertTensor(indices, 'indexAdd', 'indices');
  assertTensor(src, 'indexAdd', 'src');
  assertNotScalar('indexAdd', shape.length, 'shape');
  const ax = normalizeAxis(axis, shape.length, 'indexAdd');
  const expected = shape.map((d, i) => (i === ax ? indices.size : d));
  if (indices.ndim !== 1 || !shapesEqual(src.shape, expected)) {
    throw new Error(
      `indexAdd: src ${formatShape(src.shape)} with indices ${formatShape(indices.shape)} does not fit ${formatShape(shape)} along axis ${ax}`,
    );
  }
  assertIndexTensor('indexAdd', indices, shape[ax]!, `axis ${ax}`);
  assertSameBackend('indexAdd', indices, src);
  return src.backend.indexAdd(shape, ax, indices, src);
}

// ---------------------------------------------------------------------------------------------------------
// Embedding bag: a weighted sum of table rows per example

/**
 * out[b, :] = Σ_r weight[b, r] · table[index[b, r], :] for table [N, D], int32 index [B, R] and weight
 * [B, R] of the table's dtype → [B, D]. The same as sum(indexSelect(table, index) · weight, over r) (as
 * torch's embedding_bag with per_sample_weights, mode 'sum'), without forming the [B, R, D] rows.
 */
export function embeddingBag(table: NDArray, index: NDArray, weight: NDArray): NDArray {
  const op = 'embeddingBag';
  assertTensor(table, op, 'table');
  checkEmbeddingBag(op, table.shape, table.dtype, index, weight);
  const kernel = table.backend.embeddingBag;
  if (kernel) return kernel.call(table.backend, table, index, weight);
  const [B, R] = index.shape as [number, number];
  const rows = reshape(indexSelect(table, 0, reshape(index, [B * R])), [B, R, table.shape[1]!]); // [B, R, D]
  return sum(mul(rows, reshape(weight, [B, R, 1])), 1);
}

/** d/d weight of Σ g · embeddingBag: dWeight[b, r] = table[index[b, r], :] · g[b, :]. → [B, R] */
export function embeddingBagWeightGrad(table: NDArray, index: NDArray, g: NDArray): NDArray {
  const op = 'embeddingBagWeightGrad';
  assertTensor(table, op, 'table');
  assertTensor(index, op, 'index');
  checkEmbeddingBag(op, table.shape, table.dtype, index, g, [index.shape[0]!, table.shape[1]!]);
  const kernel = table.backend.embeddingBagWeightGrad;
  if (kernel) return kernel.call(table.backend, table, index, g);
  const [B, R] = index.shape as [number, number];
  const rows = reshape(indexSelect(table, 0, reshape(index, [B * R])), [B, R, table.shape[1]!]); // [B, R, D]
  return sum(mul(rows, reshape(g, [B, 1, table.shape[1]!])), 2);
}

/** d/d table of Σ g · embeddingBag: row n gathers weight[b, r] · g[b, :] wherever index[b, r] = n. → [rows, D] */
export function embeddingBagTableGrad(rows: number, index: NDArray, weight: NDArray, g: NDArray): NDArray {
  const op = 'embeddingBagTableGrad';
  if (!Number.isInteger(rows) || rows < 1) throw new Error(`${op}: rows must be a positive integer, got ${rows}`);
  assertTensor(g, op, 'g');
  if (g.ndim !== 2) throw new Error(`${op}: g must be [batch, D], got ${formatShape(g.shape)}`);
  const D = g.shape[1]!;
  checkEmbeddingBag(op, [rows, D], g.dtype, index, weight);
  const kernel = g.backend.embeddingBagTableGrad;
  if (kernel) return kernel.call(g.backend, rows, index, weight, g);
  const [B, R] = index.shape as [number, number];
  const contributions = mul(reshape(weight, [B, R, 1]), reshape(g, [B, 1, D])); // [B, R, D]
  return indexAdd([rows, D], 0, reshape(index, [B * R]), reshape(contributions, [B * R, D]));
}

/**
 * The shapes, dtypes and indices of an embedding bag: table [N, D] (float), index [B, R] int32 in [0, N),
 * `perRow` [B, R] (the weights) or, when `perRowShape` is given, of that shape (the output gradient [B, D]).
 */
function checkEmbeddingBag(op: string, tableShape: Shape, tableDtype: DType, index: NDArray, perRow: NDArray, perRowShape?: Shape): void {
  assertTensor(index, op, 'index');
  assertTensor(perRow, op, perRowShape ? 'g' : 'weight');
  if (tableShape.length !== 2) throw new Error(`${op}: table must be [rows, D], got ${formatShape(tableShape)}`);
  if (!isFloat(tableDtype)) throw new Error(`${op}: needs a float32 or float64 table, got ${tableDtype}${formatShape(tableShape)}`);
  if (index.ndim !== 2) throw new Error(`${op}: index must be [batch, R], got ${formatShape(index.shape)}`);
  const expected = perRowShape ?? index.shape;
  const what = perRowShape ? 'g' : 'weight';
  if (!shapesEqual(perRow.shape, expected)) {
    throw new Error(`${op}: ${what} ${formatShape(perRow.shape)} must be ${formatShape(expected)} for index ${formatShape(index.shape)} and table ${formatShape(tableShape)}`);
  }
  if (perRow.dtype !== tableDtype) throw new Error(`${op}: ${what} is ${perRow.dtype} but the table is ${tableDtype}`);
  assertIndexTensor(op, index, tableShape[0]!, `the table's ${tableShape[0]} rows`);
  assertSameBackend(op, index, perRow);
}

// ---------------------------------------------------------------------------------------------------------
// Softmax

function alongLastAxis(a: NDArray, axis: number, op: string, kernel: (x: NDArray) => NDArray): NDArray {
  assertTensor(a, op);
  assertFloat(op, a);
  if (a.ndim === 0) throw new Error(`${op}: needs at least 1 dimension, got a scalar`);
  const ax = normalizeAxis(axis, a.ndim, op);
  if (ax === a.ndim - 1) return kernel(a);
  return transpose(kernel(transpose(a, ax, -1)), ax, -1);
}

/**
 * exp(x − max) / Σ exp(x − max) along `axis` (default: last). Finite for any finite logits; −∞ entries get
 * probability 0; a line that is all −∞ (or holds +∞ or NaN) gives NaN, as in torch.
 */
export function softmax(a: NDArray, axis = -1): NDArray {
  return alongLastAxis(a, axis, 'softmax', (x) => x.backend.softmax(x));
}

/** x − max − log Σ exp(x − max) along `axis`: finite for any finite input, however large. */
export function logSoftmax(a: NDArray, axis = -1): NDArray {
  return alongLastAxis(a, axis, 'logSoftmax', (x) => x.backend.logSoftmax(x));
}

/**
 * Cross-entropy of logit rows [rows, classes] against int32 class targets [rows]: the float64 losses
 * −log softmax(x)[t] (log-sum-exp accumulated in float64 for any float input), and, when asked, the
 * derivative of each row's loss with respect to its logits, softmax(x) − one-hot(t), in the logits' dtype.
 */
export function crossEntropyRows(
  logits: NDArray, targets: NDArray, { withDerivative = false } = {},
): { losses: NDArray; dloss: NDArray | null } {
  const op = 'crossEntropyRows';
  if (logits.ndim !== 2) throw new Error(`${op}: logits must be [rows, classes], got ${formatShape(logits.shape)}`);
  assertFloat(op, logits);
  const [rows, classes] = logits.shape as [number, number];
  if (targets.ndim !== 1 || targets.shape[0] !== rows) {
    throw new Error(`${op}: targets ${formatShape(targets.shape)} must be [${rows}] for logits ${formatShape(logits.shape)}`);
  }
  assertIndexTensor(op, targets, classes, 'classes');
  assertSameBackend(op, logits, targets);
  const kernel = logits.backend.crossEntropyRows;
  if (kernel && logits.backend.dtypes?.includes('float64') !== false) return kernel.call(logits.backend, logits, targets, withDerivative);
  // The composition, for backends without the fused kernel.
  const logp = logSoftmax(logits.dtype === 'float64' ? logits : cast(logits, 'float64'), -1); // [rows, classes]
  const t = reshape(targets, [rows, 1]);
  const losses = neg(reshape(gather(logp, 1, t), [rows]));
  if (!withDerivative) return { losses, dloss: null };
  const oneHot = scatterAdd([rows, classes], 1, t, full([rows, 1], 1, { dtype: 'float64', backend: logits.backend }));
  const dloss = sub(exp(logp), oneHot);
  return { losses, dloss: logits.dtype === 'float64' ? dloss : cast(dloss, logits.dtype) };
}

// ---------------------------------------------------------------------------------------------------------
// Fused elementwise kernels (the formula language is described at FusedKernel in backend.ts)

/** Runs `kernel` over `inputs` and returns one new array per output. */
export function fused(kernel: FusedKernel, inputs: readonly NDArray[], scalars: readonly number[] = []): NDArray[] {
  checkFused(kernel, inputs, scalars, null);
  return inputs[0]!.backend.fused(kernel, inputs, scalars);
}

/**
 * Runs `kernel` and writes its outputs into `targets`, in place (one target per output; a target may also be
 * an input). This is the one in-place entry of the package: optimizers update their parameters with it.
 */
export function fusedInPlace(kernel: FusedKernel, targets: readonly NDArray[], inputs: readonly NDArray[], scalars: readonly number[] = []): void {
  checkFused(kernel, inputs, scalars, targets);
  inputs[0]!.backend.fused(kernel, inputs, scalars, targets);
}

function checkFused(kernel: FusedKernel, inputs: readonly NDArray[], scalars: readonly number[], targets: readonly NDArray[] | null): void {
  const op = kernel.name;
  const want = (n: number, what: string, got: number) => {
    if (n !== got) throw new Error(`${op}: the kernel takes ${n} ${what}, got ${got}`);
  };
  want(kernel.inputs.length, 'input arrays', inputs.length);
  want(kernel.scalars?.length ?? 0, 'scalars', scalars.length);
  if (targets) want(kernel.outputs.length, 'targets (one per output)', targets.length);
  if (inputs.length === 0) throw new Error(`${op}: a fused kernel needs at least one input array`);
  for (const x of scalars) if (typeof x !== 'number') throw new Error(`${op}: scalars must be numbers, got ${describe(x)}`);
  const first = inputs[0]!;
  assertTensor(first, op, kernel.inputs[0]);
  assertFloat(op, first);
  const all = [...inputs, ...(targets ?? [])];
  all.forEach((t, k) => {
    const name = k < inputs.length ? kernel.inputs[k]! : `target ${k - inputs.length}`;
    assertTensor(t, op, name);
    assertSameDType(op, first, t);
    assertSameBackend(op, first, t);
    if (!shapesEqual(t.shape, first.shape)) {
      const shapes = `${kernel.inputs[0]} ${formatShape(first.shape)} and ${name} ${formatShape(t.shape)}`;
      throw new Error(`${op}: ${shapes}: a fused kernel's arrays must share one shape`);
    }
  });
}

export { sizeOf };
