/**
 * Matrix multiplication C = op(A)·op(B), where op transposes the last two axes when a flag is set.
 * Backward, written in the effective (already transposed) matrices:
 *   dA_eff = dC · B_effᵀ      dB_eff = A_effᵀ · dC
 * and a stored-transposed input receives the transpose of its effective gradient. Each product is one
 * matmul call with transpose flags, so no transposed copies are made. Batch axes that were broadcast are
 * summed back (sumToShape).
 */
import * as T from '@grok/tensor';
import { NDArray } from '@grok/tensor';
import { sumToShape } from '../broadcast.js';
import type { Tensor } from '../tensor.js';
import { assertTensor, record } from './record.js';

export function matmul(a: Tensor, b: Tensor, flags: T.MatmulFlags = {}): Tensor {
  assertTensor(a, 'matmul', 'a');
  assertTensor(b, 'matmul', 'b');
  const transA = !!flags.transA;
  const transB = !!flags.transB;
  const out = T.matmul(a.value, b.value, { transA, transB });
  return record('matmul', out, [a, b], (g) => {
    const A = a.value;
    const B = b.value;
    let dA: NDArray | null = null;
    let dB: NDArray | null = null;
    if (a.requiresGrad) {
      dA = transA
        ? T.matmul(B, g, { transA: transB, transB: true }) // (g·B_effᵀ)ᵀ = B_eff·gᵀ
        : T.matmul(g, B, { transB: !transB }); // g·B_effᵀ
      dA = sumToShape(dA, A.shape);
    }
    if (b.requiresGrad) {
      dB = transB
        ? T.matmul(g, A, { transA: true, transB: transA }) // (A_effᵀ·g)ᵀ = gᵀ·A_eff
        : T.matmul(A, g, { transA: !transA }); // A_effᵀ·g
      dB = sumToShape(dB, B.shape);
    }
    return [dA, dB];
  });
}
