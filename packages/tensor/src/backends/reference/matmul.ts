/**
 * Reference matmul: the plain triple loop, accumulating each output row in float64.
 * Batched over leading axes with broadcasting. Correct for every dtype; the fast float32 path lives elsewhere.
 */
import type { TypedArray } from '../../dtype.js';
import { broadcastShapes, broadcastStrides, shapesEqual, sizeOf, stridesOf } from '../../shape.js';

export interface MatmulProblem {
  a: TypedArray; aShape: readonly number[]; transA: boolean;
  b: TypedArray; bShape: readonly number[]; transB: boolean;
}

/** Output dims and per-batch offsets of a batched matmul. */
export function planMatmul(p: MatmulProblem) {
  const { aShape, bShape, transA, transB } = p;
  const M = transA ? aShape.at(-1)! : aShape.at(-2)!;
  const K = transA ? aShape.at(-2)! : aShape.at(-1)!;
  const N = transB ? bShape.at(-2)! : bShape.at(-1)!;
  const batchA = aShape.slice(0, -2);
  const batchB = bShape.slice(0, -2);
  const batch = broadcastShapes('matmul', batchA, batchB);
  const nBatch = sizeOf(batch);
  const sa = broadcastStrides(batchA, batch);
  const sb = broadcastStrides(batchB, batch);
  const bStrides = stridesOf(batch);
  const aOffsets = new Array<number>(nBatch);
  const bOffsets = new Array<number>(nBatch);
  // Common cases without the per-entry divisions (3830 × 4 attention entries): both batch shapes equal the
  // broadcast one, or one side is a single matrix shared by all.
  const aFull = shapesEqual(batchA, batch);
  const bFull = shapesEqual(batchB, batch);
  if ((aFull || sizeOf(batchA) === 1) && (bFull || sizeOf(batchB) === 1)) {
    for (let i = 0; i < nBatch; i++) {
      aOffsets[i] = aFull ? i * M * K : 0;
      bOffsets[i] = bFull ? i * K * N : 0;
    }
    return { M, K, N, batch, nBatch, aOffsets, bOffsets, outShape: [...batch, M, N] };
  }
  for (let i = 0; i < nBatch; i++) {
    let oa = 0;
    let ob = 0;
    for (let d = 0; d < batch.length; d++) {
      const c = Math.floor(i / bStrides[d]!) % batch[d]!;
      oa += c * sa[d]!;
      ob += c * sb[d]!;
    }
    aOffsets[i] = oa * M * K;
    bOffsets[i] = ob * K * N;
  }
  return { M, K, N, batch, nBatch, aOffsets, bOffsets, outShape: [...batch, M, N] };
}

export function matmulInto(p: MatmulProblem, out: TypedArray): void {
  const { M, K, N, nBatch, aOffsets, bOffsets } = planMatmul(p);
  const { a, b, transA, transB } = p;
  const acc = new Float64Array(N);
  const aRow = new Float64Array(K);
  for (let t = 0; t < nBatch; t++) {
    const ao = aOffsets[t]!;
    const bo = bOffsets[t]!;
    const oo = t * M * N;
    for (let i = 0; i < M; i++) {
      // A(i, k) gathered once into a contiguous row.
      for (let k = 0; k < K; k++) aRow[k] = transA ? a[ao + k * M + i]! : a[ao + i * K + k]!;
      if (transB) {
        // B(k, j) = b[j, k]: each output is a dot product of two contiguous rows.
        for (let j = 0; j < N; j++) {
          let s = 0;
          const bj = bo + j * K;
          for (let k = 0; k < K; k++) s += aRow[k]! * b[bj + k]!;
          out[oo + i * N + j] = s;
        }
      } else {
        acc.fill(0);
        for (let k = 0; k < K; k++) {
          const aik = aRow[k]!; // no skipping of zeros: 0 · ∞ must still give NaN, as in the plain loop
          const bk = bo + k * N;
          for (let j = 0; j < N; j++) acc[j]! += aik * b[bk + j]!;
        }
        for (let j = 0; j < N; j++) out[oo + i * N + j] = acc[j]!;
      }
    }
  }
}
