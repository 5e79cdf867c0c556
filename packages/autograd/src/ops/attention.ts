/**
 * Attention over a short context as one differentiable op (the fused kernels of @grok/tensor's
 * attentionShortContext):
 *
 *   z = softmax(q·kᵀ / √d  (+ causal mask)) · v       q [..., qPos, d], k, v [..., pos, d] → z [..., qPos, d]
 *
 * The pattern is kept for the backward and not returned: code that wants to see (or change) scores or the
 * pattern composes the ops instead (matmul, div, add, softmax, matmul), which give the same numbers.
 *
 *   dpattern = dz·vᵀ
 *   dscores  = pattern ⊙ (dpattern − Σ_keys pattern ⊙ dpattern)       (the softmax backward)
 *   dq = dscores·k / √d      dk = dscoresᵀ·q / √d      dv = patternᵀ·dz
 *
 * attentionPattern is the same op stopped at the pattern (no v, no z), for code that only weights something
 * else by it (the table shortcuts of @grok/transformer): its backward is the last two lines, from the
 * pattern's gradient.
 */
import * as T from '@grok/tensor';
import type { Tensor } from '../tensor.js';
import { assertTensor, record } from './record.js';

export function attentionShortContext(q: Tensor, k: Tensor, v: Tensor, options: T.AttentionOptions = {}): Tensor {
  assertTensor(q, 'attentionShortContext', 'q');
  assertTensor(k, 'attentionShortContext', 'k');
  assertTensor(v, 'attentionShortContext', 'v');
  const { z, pattern } = T.attentionShortContext(q.value, k.value, v.value, options);
  return record('attentionShortContext', z, [q, k, v], (dz) => {
    const { dq, dk, dv } = T.attentionShortContextBackward(q.value, k.value, v.value, pattern, dz);
    return [q.requiresGrad ? dq : null, k.requiresGrad ? dk : null, v.requiresGrad ? dv : null];
  });
}

/**
 * The pattern alone: softmax(q·kᵀ / √d (+ causal mask)) over keys, q [..., qPos, d], k [..., pos, d] →
 * [..., qPos, pos] (@grok/tensor's attentionPattern and attentionPatternBackward).
 */
export function attentionPattern(q: Tensor, k: Tensor, options: T.AttentionOptions = {}): Tensor {
  assertTensor(q, 'attentionPattern', 'q');
  assertTensor(k, 'attentionPattern', 'k');
  const pattern = T.attentionPattern(q.value, k.value, options);
  return record('attentionPattern', pattern, [q, k], (dpattern) => {
    const { dq, dk } = T.attentionPatternBackward(q.value, k.value, pattern, dpattern);
    return [q.requiresGrad ? dq : null, k.requiresGrad ? dk : null];
  });
}
