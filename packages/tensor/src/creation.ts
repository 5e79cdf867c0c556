/** Creating tensors: from data, constants, ranges and seeded random draws. */
import type { Backend } from './backend.js';
import { type DType, type TypedArray, allocate, assertDType, dtypeOfArray } from './dtype.js';
import { Generator, getDefaultGenerator } from './random.js';
import { getBackend } from './registry.js';
import { type Shape, assertValidShape, formatShape, sizeOf } from './shape.js';
import type { NestedArray, NDArray } from './ndarray.js';

export interface CreateOptions {
  dtype?: DType;
  backend?: Backend;
}

export interface RandomOptions extends CreateOptions {
  /** Draw from a fresh generator with this seed (same seed → same numbers). */
  seed?: number;
  /** Draw from this generator, advancing it. Default: the global generator (see manualSeed). */
  generator?: Generator;
}

function make(data: TypedArray, shape: Shape, dtype: DType, backend?: Backend): NDArray {
  return (backend ?? getBackend()).fromArray(data, shape, dtype);
}

function resolveDType(dtype: DType | undefined, fallback: DType, op: string): DType {
  const d = dtype ?? fallback;
  assertDType(d, op);
  return d;
}

/**
 * A tensor from nested arrays (`[[1, 2], [3, 4]]`), a flat typed array plus `shape`, or a number (a scalar).
 * The dtype defaults to the typed array's, else float32.
 */
export function tensor(
  values: NestedArray | ArrayLike<number>,
  options: CreateOptions & { shape?: Shape } = {},
): NDArray {
  if (typeof values === 'number') {
    const dtype = resolveDType(options.dtype, 'float32', 'tensor');
    const shape = options.shape ?? [];
    assertValidShape(shape, 'tensor');
    if (sizeOf(shape) !== 1) throw new Error(`tensor: 1 value does not fill shape ${formatShape(shape)}`);
    const data = allocate(dtype, 1);
    data[0] = values;
    return make(data, shape, dtype, options.backend);
  }
  const typed = dtypeOfArray(values as ArrayLike<number>);
  // A flat list plus a shape takes the fast path; nested arrays (with or without a shape) are walked below.
  const nested = !typed && Array.isArray(values) && values.some((v) => Array.isArray(v));
  if (typed || (options.shape && !nested)) {
    const flat = values as ArrayLike<number>;
    const dtype = resolveDType(options.dtype, typed ?? 'float32', 'tensor');
    const shape = options.shape ?? [flat.length];
    assertValidShape(shape, 'tensor');
    if (sizeOf(shape) !== flat.length) {
      throw new Error(`tensor: ${flat.length} values do not fill shape ${formatShape(shape)}`);
    }
    const data = allocate(dtype, flat.length);
    for (let i = 0; i < flat.length; i++) data[i] = checkNumber(flat[i], 'tensor');
    return make(data, shape, dtype, options.backend);
  }
  const shape = nestedShape(values as NestedArray);
  if (options.shape) {
    assertValidShape(options.shape, 'tensor');
    if (sizeOf(options.shape) !== sizeOf(shape)) {
      throw new Error(`tensor: ${sizeOf(shape)} values (shape ${formatShape(shape)}) do not fill shape ${formatShape(options.shape)}`);
    }
  }
  const dtype = resolveDType(options.dtype, 'float32', 'tensor');
  const data = allocate(dtype, sizeOf(shape));
  let k = 0;
  const fill = (v: NestedArray, dim: number, path: number[]) => {
    if (dim === shape.length) {
      data[k++] = checkNumber(v, 'tensor');
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new Error(`tensor: ragged nested array at index [${path.join(', ')}] (expected length ${shape[dim]})`);
    }
    v.forEach((x, i) => fill(x, dim + 1, [...path, i]));
  };
  fill(values as NestedArray, 0, []);
  return make(data, options.shape ?? shape, dtype, options.backend);
}

function checkNumber(x: unknown, op: string): number {
  if (typeof x !== 'number') throw new Error(`${op}: expected numbers, found ${typeof x}`);
  return x;
}

function nestedShape(values: NestedArray): number[] {
  const shape: number[] = [];
  let v: NestedArray = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    if (v.length === 0) break;
    v = v[0]!;
  }
  return shape;
}

export function full(shape: Shape, value: number, options: CreateOptions = {}): NDArray {
  assertValidShape(shape, 'full');
  const dtype = resolveDType(options.dtype, 'float32', 'full');
  const data = allocate(dtype, sizeOf(shape));
  if (value !== 0) data.fill(value);
  return make(data, shape, dtype, options.backend);
}

export const zeros = (shape: Shape, options: CreateOptions = {}) => full(shape, 0, options);
export const ones = (shape: Shape, options: CreateOptions = {}) => full(shape, 1, options);
export const zerosLike = (t: NDArray) => full(t.shape, 0, { dtype: t.dtype, backend: t.backend });
export const onesLike = (t: NDArray) => full(t.shape, 1, { dtype: t.dtype, backend: t.backend });

/** [start, start+step, …) up to `end` (exclusive). `arange(5)` is 0..4. Default dtype int32 for integer args. */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): NDArray {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0 || !Number.isFinite(step)) throw new Error(`arange: step must be a non-zero finite number, got ${step}`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  const allInt = [start, end, step].every(Number.isInteger);
  const dtype = resolveDType(options.dtype, allInt ? 'int32' : 'float32', 'arange');
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return make(data, [n], dtype, options.backend);
}

/** The n×m identity (m defaults to n). */
export function eye(n: number, m = n, options: CreateOptions = {}): NDArray {
  assertValidShape([n, m], 'eye');
  const dtype = resolveDType(options.dtype, 'float32', 'eye');
  const data = allocate(dtype, n * m);
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1;
  return make(data, [n, m], dtype, options.backend);
}

function generatorOf(options: RandomOptions): Generator {
  if (options.seed !== undefined && options.generator) throw new Error('random: give either seed or generator, not both');
  if (options.seed !== undefined) return new Generator(options.seed);
  return options.generator ?? getDefaultGenerator();
}

function randomFloat(shape: Shape, options: RandomOptions, op: string, draw: (g: Generator) => number): NDArray {
  assertValidShape(shape, op);
  const dtype = resolveDType(options.dtype, 'float32', op);
  if (dtype === 'int32') throw new Error(`${op}: dtype must be float32 or float64, got int32`);
  const g = generatorOf(options);
  const data = allocate(dtype, sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = draw(g);
  return make(data, shape, dtype, options.backend);
}

/** Standard normal draws, scaled: randn(shape, { std, mean }). Each element is one Box–Muller draw in float64. */
export function randn(shape: Shape, options: RandomOptions & { mean?: number; std?: number } = {}): NDArray {
  const { mean = 0, std = 1 } = options;
  return randomFloat(shape, options, 'randn', (g) => mean + std * g.normal());
}

/** Uniform draws in [low, high) (default [0, 1)). */
export function rand(shape: Shape, options: RandomOptions & { low?: number; high?: number } = {}): NDArray {
  const { low = 0, high = 1 } = options;
  // u < 1, but low + (high − low)·u can still round up to `high` (in float64, or when stored as float32):
  // such draws become the largest value of the dtype below `high`, so the interval stays half-open.
  const f32 = (options.dtype ?? 'float32') === 'float32';
  const round = f32 ? Math.fround : (x: number) => x;
  const below = nextDown(high, f32);
  return randomFloat(shape, options, 'rand', (g) => {
    const x = round(low + (high - low) * g.uniform());
    return x >= high && below >= low ? below : x;
  });
}

/** The largest float64 (or float32) strictly below x, for finite x. */
function nextDown(x: number, f32: boolean): number {
  if (x === 0) return f32 ? -1.401298464324817e-45 : -5e-324; // the smallest negative subnormal
  if (f32) {
    const bits = new Float32Array([x]);
    if (bits[0]! < x) return bits[0]!; // x was not a float32 and rounded down: already below
    const i = new Int32Array(bits.buffer); // step the bit pattern one unit toward −∞
    i[0]! += bits[0]! > 0 ? -1 : 1;
    return bits[0]!;
  }
  const bits = new Float64Array([x]);
  const i = new BigInt64Array(bits.buffer);
  i[0]! += x > 0 ? -1n : 1n;
  return bits[0]!;
}

/** Integers uniform in [low, high), int32 by default. */
export function randint(low: number, high: number, shape: Shape, options: RandomOptions = {}): NDArray {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new Error(`randint: need integers low < high, got low=${low}, high=${high}`);
  }
  assertValidShape(shape, 'randint');
  const dtype = resolveDType(options.dtype, 'int32', 'randint');
  const g = generatorOf(options);
  const data = allocate(dtype, sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = low + g.int(high - low);
  return make(data, shape, dtype, options.backend);
}

/** A uniformly random permutation of 0..n-1 (Fisher–Yates), int32. */
export function randperm(n: number, options: RandomOptions = {}): NDArray {
  assertValidShape([n], 'randperm');
  const dtype = resolveDType(options.dtype, 'int32', 'randperm');
  const g = generatorOf(options);
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = g.int(i + 1);
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  const data = allocate(dtype, n);
  data.set(perm);
  return make(data, [n], dtype, options.backend);
}
