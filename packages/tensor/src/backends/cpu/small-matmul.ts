/**
 * Many tiny matmuls (attention's per-(example, head) products: [1, 32]·[32, 3], [1, 3]·[3, 32], [3, 1]·[1, 32]
 * for 3830 × 4 batch entries) as one plain loop. The wasm path would copy A, B and C through its memory and
 * pack panels for blocks of 8 × 8 and more, all for 96 multiply-adds per entry; here each output is a direct
 * dot product over strided A and B.
 */
import type { TypedArray } from '../../dtype.js';
import { type MatmulProblem, planMatmul } from '../reference/matmul.js';

/** Per-entry work (M·K·N multiply-adds) up to which the plain loop beats the wasm path. */
export const SMALL_MATMUL_WORK = 4096;

export function isSmallMatmul(M: number, K: number, N: number): boolean {
  return M * K * N <= SMALL_MATMUL_WORK;
}

export function smallMatmulInto(p: MatmulProblem, out: TypedArray, plan = planMatmul(p)): void {
  const { M, K, N, nBatch, aOffsets, bOffsets } = plan;
  const { a, b, transA, transB } = p;
  // A(i, k) = a[ao + i·ai + k·ak], whichever way A is stored.
  const ai = transA ? 1 : K;
  const ak = transA ? M : 1;
  // The innermost loop should run along memory, and as long as possible (loop overhead dominates at these
  // sizes). transB stores B's columns contiguously: a dot product over k. Otherwise B's rows are contiguous:
  // add A(i, k)·B(k, :) into the output row. Either way each output sums its k terms in ascending order.
  if (transB) {
    let o = 0;
    for (let t = 0; t < nBatch; t++) {
      const ao = aOffsets[t]!;
      const bo = bOffsets[t]!;
      for (let i = 0; i < M; i++) {
        const ar = ao + i * ai;
        for (let j = 0, bc = bo; j < N; j++, bc += K) {
          let s = 0;
          for (let k = 0, ap = ar; k < K; k++, ap += ak) s += a[ap]! * b[bc + k]!;
          out[o++] = s;
        }
      }
    }
    return;
  }
  // Rows accumulate in the output itself (float32 between terms, as the wasm kernel does): a float64 row
  // buffer to fill, add into and copy out costs three passes where K is 1 or 3.
  for (let t = 0; t < nBatch; t++) {
    const ao = aOffsets[t]!;
    const bo = bOffsets[t]!;
    for (let i = 0; i < M; i++) {
      const o = (t * M + i) * N;
      const ap = ao + i * ai;
      if (K === 0) {
        for (let j = 0; j < N; j++) out[o + j] = 0;
        continue;
      }
      const a0 = a[ap]!;
      for (let j = 0; j < N; j++) out[o + j] = a0 * b[bo + j]!;
      for (let k = 1; k < K; k++) {
        const aik = a[ap + k * ak]!;
        const br = bo + k * N;
        for (let j = 0; j < N; j++) out[o + j]! += aik * b[br + j]!;
      }
    }
  }
}
