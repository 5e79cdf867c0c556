import { describe, expect, it } from 'vitest';
import { type DType, matmul, matmulShape, tensor } from '@grok/tensor';
import { expectClose, randomValues, size, strides } from './helpers.js';

/**
 * The textbook triple loop over broadcast batches: C[b, i, j] = Σk A[b, i, k] · B[b, k, j], where A is read
 * transposed when stored [.., K, M] (transA) and B when stored [.., N, K] (transB).
 */
function naiveMatmul(
  a: number[], aShape: number[], b: number[], bShape: number[], transA = false, transB = false,
): { shape: number[]; data: number[] } {
  const M = transA ? aShape.at(-1)! : aShape.at(-2)!;
  const K = transA ? aShape.at(-2)! : aShape.at(-1)!;
  const N = transB ? bShape.at(-2)! : bShape.at(-1)!;
  const ba = aShape.slice(0, -2);
  const bb = bShape.slice(0, -2);
  const nd = Math.max(ba.length, bb.length);
  const pa = [...new Array(nd - ba.length).fill(1), ...ba];
  const pb = [...new Array(nd - bb.length).fill(1), ...bb];
  const batch = pa.map((d, i) => Math.max(d, pb[i]!));
  const sa = strides(pa);
  const sb = strides(pb);
  const data: number[] = [];
  for (let t = 0; t < size(batch); t++) {
    // Batch coordinates; a size-1 axis of an operand always reads its index 0.
    let rem = t;
    let oa = 0;
    let ob = 0;
    for (let d = nd - 1; d >= 0; d--) {
      const c = rem % batch[d]!;
      rem = Math.floor(rem / batch[d]!);
      oa += (pa[d] === 1 ? 0 : c) * sa[d]!;
      ob += (pb[d] === 1 ? 0 : c) * sb[d]!;
    }
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const x = a[oa * M * K + (transA ? k * M + i : i * K + k)]!;
          const y = b[ob * K * N + (transB ? j * K + k : k * N + j)]!;
          s += x * y;
        }
        data.push(s);
      }
    }
  }
  return { shape: [...batch, M, N], data };
}

function check(aShape: number[], bShape: number[], transA = false, transB = false, dtype: DType = 'float64') {
  const a = randomValues(size(aShape), size(aShape) + 1);
  const b = randomValues(size(bShape), size(bShape) + 7);
  const ta = tensor(a, { shape: aShape, dtype });
  const tb = tensor(b, { shape: bShape, dtype });
  // The naive loop sees the values as stored (float32-rounded for float32).
  const want = naiveMatmul(Array.from(ta.data), aShape, Array.from(tb.data), bShape, transA, transB);
  const got = matmul(ta, tb, { transA, transB });
  expect(got.shape).toEqual(want.shape);
  expect(got.dtype).toBe(dtype);
  expectClose(got.data, want.data, dtype === 'float32' ? 1e-5 : 1e-12);
}

describe('matmul', () => {
  it('hand-worked 2×3 · 3×2', () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    const b = tensor([[7, 8], [9, 10], [11, 12]]);
    expect(matmul(a, b).toArray()).toEqual([[58, 64], [139, 154]]);
    expect(a.matmul(b).toArray()).toEqual([[58, 64], [139, 154]]);
  });

  it('2-D at odd sizes (1, 3, 113)', () => {
    for (const [m, k, n] of [[1, 1, 1], [1, 3, 1], [3, 1, 3], [3, 113, 1], [113, 3, 7], [1, 113, 113], [113, 113, 3]]) {
      check([m!, k!], [k!, n!]);
    }
  });

  it('all transA / transB combinations', () => {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const [M, K, N] = [3, 5, 4];
        check(transA ? [K, M] : [M, K], transB ? [N, K] : [K, N], transA, transB);
        check(transA ? [2, K, M] : [2, M, K], transB ? [2, N, K] : [2, K, N], transA, transB);
        check(transA ? [2, 1, K, M] : [2, 1, M, K], transB ? [3, N, K] : [3, K, N], transA, transB, 'float32');
      }
    }
  });

  it('batched, and broadcast over batch axes', () => {
    check([4, 3, 5], [4, 5, 2]);
    check([2, 1, 3, 4], [5, 4, 2]); // → [2, 5, 3, 2]
    check([3, 4], [6, 4, 2]); // a 2-D operand broadcasts against a batch
    check([6, 3, 4], [4, 2]);
    check([1, 3, 4], [2, 1, 4, 2]);
    expect(matmulShape([2, 1, 3, 4], [5, 4, 2])).toEqual([2, 5, 3, 2]);
  });

  it('float32 and int32', () => {
    check([7, 9], [9, 5], false, false, 'float32');
    const a = tensor([[1, 2], [3, 4]], { dtype: 'int32' });
    const c = matmul(a, a);
    expect(c.dtype).toBe('int32');
    expect(c.toArray()).toEqual([[7, 10], [15, 22]]);
  });

  it('empty dimensions: K = 0 gives zeros, M = 0 gives an empty result', () => {
    expect(matmul(tensor([], { shape: [2, 0] }), tensor([], { shape: [0, 3] })).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(matmul(tensor([], { shape: [0, 2] }), tensor([1, 2, 3, 4], { shape: [2, 2] })).shape).toEqual([0, 2]);
  });

  it('IEEE semantics: 0 · ∞ is NaN and NaN propagates, like the naive loop', () => {
    const a = tensor([[0, 1]]);
    const b = tensor([[Infinity], [1]]);
    expect(matmul(a, b).data[0]).toBeNaN();
    const c = tensor([[NaN], [0]]);
    expect(matmul(tensor([[0, 0]]), c).data[0]).toBeNaN();
  });

  it('shape errors name both shapes', () => {
    const a = tensor([1, 2, 3, 4, 5, 6], { shape: [2, 3] });
    expect(() => matmul(a, a)).toThrow('matmul: inner dimensions differ (3 vs 2) for [2, 3] and [2, 3]');
    expect(() => matmul(a, a, { transB: true })).not.toThrow();
    expect(() => matmul(a, a, { transA: true, transB: true })).toThrow(/matmul: inner dimensions differ \(2 vs 3\) for \[2, 3\]ᵀ and \[2, 3\]ᵀ/);
    expect(() => matmul(tensor([1, 2, 3]), a)).toThrow(/matmul: both operands need at least 2 dimensions, got \[3\] and \[2, 3\]/);
    const b3 = tensor(randomValues(24, 1), { shape: [2, 3, 4] });
    const c3 = tensor(randomValues(36, 1), { shape: [3, 4, 3] });
    expect(() => matmul(b3, c3)).toThrow(/matmul: .*\[2, 3, 4\] and \[3, 4, 3\]/);
    expect(() => matmul(a, tensor([[1, 2, 3]], { dtype: 'float64' }))).toThrow(/matmul: dtype mismatch, float32\[2, 3\] and float64\[1, 3\]/);
  });
});
