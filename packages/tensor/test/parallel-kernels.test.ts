/**
 * The captured tape's vector kernels split across threads (fast/parallel.ts through wasm-dispatch.ts) against
 * the same kernels on one thread and against plain loops, bit for bit: at 1, 2 and 3 threads, odd sizes,
 * sizes just below and above the split threshold, the model's shapes, outputs in place, repeated indexAdd
 * indices. Also: that the workers really run pieces above the threshold, and none below it or at one thread.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getThreads, setThreads } from '@grok/tensor';
import type { TypedArray } from '../src/dtype.js';
import { allocateInWasmMemory, releaseWasmMemory, startThreads, threadPoolStats } from '../src/backends/cpu/fast/fast-matmul.js';
import { MIN_SPLIT_ELEMENTS, MIN_WAKE_ELEMENTS, parallelKernel, splitRange } from '../src/backends/cpu/fast/parallel.js';
import {
  type Allocate, wasmBinary, wasmColumnSum, wasmGatherRows, wasmReluBackward, wasmScatterAddRows, wasmSmallMatmul, wasmUnary,
} from '../src/backends/cpu/wasm-dispatch.js';
import { reduceInto } from '../src/backends/reference/reduce.js';
import { planMatmul } from '../src/backends/reference/matmul.js';
import { smallMatmulInto } from '../src/backends/cpu/small-matmul.js';

const alloc: Allocate = (dtype, n) => allocateInWasmMemory(dtype, n);
let start = 0; // the persistent wasm memory this file reserves, given back at the end
const threadsBefore = getThreads();

beforeAll(async () => {
  await startThreads(3);
  start = allocateInWasmMemory('int32', 1)!.byteOffset;
});
afterAll(() => {
  setThreads(threadsBefore);
  releaseWasmMemory(start);
});

/** Deterministic float32 data in [-1, 1) with zeros and negative zeros, in wasm memory. */
function data(n: number, seed: number): Float32Array {
  const out = alloc('float32', n) as Float32Array;
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = s % 19 === 0 ? 0 : s % 19 === 1 ? -0 : s / 2 ** 31 - 1;
  }
  return out;
}
function indices(n: number, below: number, seed: number): Int32Array {
  const out = alloc('int32', n) as Int32Array;
  let s = seed >>> 0 || 1;
  // Skewed: a third of them go to row 0, so rows repeat many times over.
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = s % 3 === 0 ? 0 : s % below;
  }
  return out;
}

function expectSameBits(actual: TypedArray, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(Float32Array.from(expected).buffer);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== e[i]) expect.fail(`${what}: element ${i} of ${a.length} is ${actual[i]}, want ${expected[i]}`);
  }
}

/**
 * Runs `kernel` at 1, 2 and 3 threads, each time after `reset` (which restores in-place inputs), and checks
 * every result against `want` (a plain loop's, computed before anything ran).
 */
function expectSameAtEveryThreadCount(what: string, kernel: () => void, out: TypedArray, want: ArrayLike<number>, reset = () => {}): void {
  for (const threads of [1, 2, 3, 2, 1]) {
    setThreads(threads);
    reset();
    if (threads > 1) wakeWorkers(); // a kernel below MIN_WAKE_ELEMENTS only uses workers that are awake
    kernel();
    expectSameBits(out, want, `${what} at ${threads} threads`);
  }
}

let wake: (() => void) | undefined;
/** Runs a split large enough to wake the workers: they poll for a while after it. */
function wakeWorkers(): void {
  if (!wake) {
    const n = MIN_WAKE_ELEMENTS;
    const [a, out] = [data(n, 99), data(n, 98)];
    wake = wasmUnary(alloc, 'relu', a, out)!;
  }
  wake();
}

/** Sizes below, at and above the threshold, odd ones, and a model one. */
const SIZES = [1, 7, MIN_SPLIT_ELEMENTS - 1, MIN_SPLIT_ELEMENTS, MIN_SPLIT_ELEMENTS + 3, 333_333, 3830 * 512];
/** [rows, cols] around the threshold, odd columns, and the model's. */
const SHAPES: [number, number][] = [[3, 5], [781, 128], [783, 128], [887, 113], [3830, 113], [3830, 128], [3830, 512], [100_003, 1]];

describe('elementwise kernels split by ranges of elements', () => {
  it.each(SIZES)('relu, reluBackward, add, sub, mul, scale: n = %i', (n) => {
    const [x, g, out] = [data(n, n), data(n, n + 1), data(n, 0)];
    const plain = (f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
    const relu = wasmUnary(alloc, 'relu', x, out)!;
    expectSameAtEveryThreadCount('relu', relu, out, plain((i) => (x[i]! > 0 ? x[i]! : 0)));
    const back = wasmReluBackward(alloc, x, g, out)!;
    expectSameAtEveryThreadCount('reluBackward', back, out, plain((i) => (x[i]! > 0 ? g[i]! : 0)));
    for (const [op, f] of [['add', (a: number, b: number) => a + b], ['sub', (a: number, b: number) => a - b], ['mul', (a: number, b: number) => a * b]] as const) {
      const k = wasmBinary(alloc, op, x, [n], g, [n], out, [n])!;
      expectSameAtEveryThreadCount(op, k, out, plain((i) => f(x[i]!, g[i]!)));
    }
    const s = Float32Array.of(-0.3712345678); // host-made: a constant scalar
    const scale = wasmBinary(alloc, 'mul', x, [n], s, [1], out, [n])!;
    expectSameAtEveryThreadCount('scale', scale, out, plain((i) => x[i]! * s[0]!));
  });

  it('in place: out = a + b with out = a', () => {
    const n = 333_333;
    const [a, b] = [data(n, 3), data(n, 4)];
    const before = a.slice();
    const add = wasmBinary(alloc, 'add', a, [n], b, [n], a, [n])!;
    expectSameAtEveryThreadCount('add in place', add, a, Array.from(before, (v, i) => v + b[i]!), () => a.set(before));
  });
});

describe('row kernels split by rows', () => {
  it.each(SHAPES)('addRowBias and scaleRows (a factor per row): [%i, %i]', (rows, cols) => {
    const n = rows * cols;
    const [x, bias, factor, out] = [data(n, n), data(cols, cols), data(rows, rows + 5), data(n, 0)];
    const addBias = wasmBinary(alloc, 'add', x, [rows, cols], bias, [cols], out, [rows, cols])!;
    expectSameAtEveryThreadCount('addRowBias', addBias, out, Array.from(x, (v, i) => v + bias[i % cols]!));
    if (cols > 1) {
      const scaleRows = wasmBinary(alloc, 'mul', x, [rows, cols], factor, [rows, 1], out, [rows, cols])!;
      expectSameAtEveryThreadCount('scaleRows', scaleRows, out, Array.from(x, (v, i) => v * factor[Math.floor(i / cols)]!));
    }
  });

  it.each([[5, 3, 4], [3830, 128, 342], [45960, 32, 1368], [3126, 33, 17]])(
    'gatherRows: %i indices of %i columns from %i rows', (nIndex, cols, vocab) => {
      const [table, index, out] = [data(vocab * cols, vocab), indices(nIndex, vocab, nIndex), data(nIndex * cols, 0)];
      const want = new Float32Array(nIndex * cols);
      index.forEach((row, i) => want.set(table.subarray(row * cols, (row + 1) * cols), i * cols));
      expectSameAtEveryThreadCount('gatherRows', wasmGatherRows(alloc, table, index, out, cols)!, out, want);
    });

  it('the attention products, split by batch entries', () => {
    // [3830·4, 1, 32]·[3830·4, 3, 32]ᵀ (scores) and [3830·4, 1, 3]·[3830·4, 3, 32] (pattern · v), and an odd batch.
    for (const [batch, M, K, N, transB] of [[15320, 1, 32, 3, true], [15320, 1, 3, 32, false], [3333, 2, 3, 5, false]] as const) {
      const aShape = [batch, M, K];
      const bShape = transB ? [batch, N, K] : [batch, K, N];
      const p = { a: data(batch * M * K, batch + M), aShape, transA: false, b: data(batch * K * N, batch + K), bShape, transB };
      const plan = planMatmul(p);
      const want = new Float32Array(batch * M * N);
      smallMatmulInto(p, want, plan);
      const out = data(batch * M * N, 0);
      expectSameAtEveryThreadCount(`small matmul [${aShape}]·[${bShape}]`, wasmSmallMatmul(alloc, p, plan, out)!, out, want);
    }
  });
});

describe('sums over rows, kept on one thread (their exact splits measured slower)', () => {
  it.each(SHAPES)('columnSum (sum over axis 0, in float64 as the reference): [%i, %i]', (rows, cols) => {
    const [x, out] = [data(rows * cols, rows + cols), data(cols, 0)];
    const want = new Float32Array(cols);
    reduceInto('sum', x, 1, rows, cols, want);
    expectSameAtEveryThreadCount('columnSum', wasmColumnSum(alloc, x, out, rows, cols)!, out, want);
  });

  it.each([[7, 3, 2], [3830, 128, 342], [45960, 32, 1368], [15320, 32, 456], [4001, 67, 9]])(
    'indexAdd (kept on one thread), repeated indices: %i rows of %i columns into %i', (nIndex, cols, vocab) => {
      const [src, index, out] = [data(nIndex * cols, nIndex + cols), indices(nIndex, vocab, vocab), data(vocab * cols, 9)];
      const want = new Float32Array(vocab * cols);
      index.forEach((row, i) => {
        for (let c = 0; c < cols; c++) want[row * cols + c] = want[row * cols + c]! + src[i * cols + c]!;
      });
      expectSameAtEveryThreadCount('scatterAddRows', wasmScatterAddRows(alloc, src, index, out, cols)!, out, want);
    });
});

describe('when the threads are used', () => {
  const runs = (kernel: () => void, threads: number) => {
    setThreads(threads);
    const before = threadPoolStats().tasksRunByWorkers;
    for (let i = 0; i < 50; i++) kernel();
    return threadPoolStats().tasksRunByWorkers - before;
  };

  it('above the threshold the workers run pieces; below it, or at one thread, none', () => {
    const big = MIN_WAKE_ELEMENTS * 2; // large enough to wake a sleeping worker
    const [a, b] = [data(big, 1), data(big, 2)];
    const add = wasmBinary(alloc, 'add', a, [big], b, [big], a, [big])!;
    expect(runs(add, 2)).toBeGreaterThan(0);
    expect(runs(add, 1)).toBe(0);
    const small = MIN_SPLIT_ELEMENTS - 1;
    const addSmall = wasmBinary(alloc, 'add', a.subarray(0, small), [small], b.subarray(0, small), [small], a.subarray(0, small), [small])!;
    expect(runs(addSmall, 2)).toBe(0);
    expect(threadPoolStats().failedJobs).toBe(0);
  });

  it('names an unknown kernel', () => {
    expect(() => parallelKernel('vector.noSuchKernel', 10, () => [])).toThrow(/no kernel 'vector.noSuchKernel'/);
  });

  it('splitRange covers 0 … n exactly, inner boundaries aligned', () => {
    for (const [n, parts, align] of [[10, 3, 1], [100_003, 4, 16], [5, 8, 1], [33, 4, 16], [0, 2, 1]] as const) {
      const ranges = splitRange(n, parts, align);
      expect(ranges.length).toBeLessThanOrEqual(parts);
      let at = 0;
      for (const [s, e] of ranges) {
        expect(s).toBe(at);
        expect(e).toBeGreaterThan(s);
        if (e !== n) expect(e % align).toBe(0);
        at = e;
      }
      expect(at).toBe(n);
    }
  });
});
