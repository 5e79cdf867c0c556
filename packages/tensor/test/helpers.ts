/** Small helpers shared by the tensor tests: a seeded reference RNG independent of the code under test. */
import { expect } from 'vitest';

/** mulberry32: a tiny PRNG for test data, deliberately not the library's generator. */
export function testRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n values uniform in [-1, 1). */
export function randomValues(n: number, seed: number): number[] {
  const r = testRng(seed);
  return Array.from({ length: n }, () => 2 * r() - 1);
}

/** Row-major strides of a shape. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let k = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = k;
    k *= shape[i]!;
  }
  return s;
}

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The multi-index of flat position k in `shape`. */
export function unravel(k: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = k % shape[d]!;
    k = Math.floor(k / shape[d]!);
  }
  return idx;
}

export function ravel(idx: readonly number[], shape: readonly number[]): number {
  const s = strides(shape);
  return idx.reduce((acc, i, d) => acc + i * s[d]!, 0);
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) {
      expect(a, `element ${i}`).toBeNaN();
    } else if (!Number.isFinite(e)) {
      expect(a, `element ${i}`).toBe(e);
    } else if (Math.abs(a - e) > tol * Math.max(1, Math.abs(e))) {
      expect.fail(`element ${i}: ${a} is not within ${tol} of ${e}`);
    }
  }
}

/**
 * Runs `fn` at each thread count in turn (workers started and ready), then restores the setting: for the
 * tests that a kernel split across the threads gives the single-thread bits.
 */
export async function atEachThreadCount(counts: readonly number[], fn: (threads: number) => void): Promise<void> {
  const { getThreads, setThreads, startThreads } = await import('@grok/tensor');
  const before = getThreads();
  try {
    for (const threads of counts) {
      setThreads(threads);
      await startThreads();
      fn(threads);
    }
  } finally {
    setThreads(before);
  }
}

/** For each pair of arrays, the first index where their elements differ (Object.is), or −1: fast on 1M elements. */
export function firstDifferences(got: readonly ArrayLike<number>[], want: readonly ArrayLike<number>[]): number[] {
  return got.map((g, o) => {
    const w = want[o]!;
    if (g.length !== w.length) return Math.min(g.length, w.length);
    for (let i = 0; i < g.length; i++) if (!Object.is(g[i], w[i])) return i;
    return -1;
  });
}
