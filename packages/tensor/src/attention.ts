/**
 * Attention over a short context as one op (forward) and one op (backward), for every [batch, H] entry:
 *
 *   scores  = q·kᵀ / √d, + −∞ where key j > i + pos − qPos when causal   [batch, H, qPos, pos]
 *   pattern = softmax(scores) over keys                                  [batch, H, qPos, pos]
 *   z       = pattern·v                                                  [batch, H, qPos, d]
 *
 * With qPos = pos the causal rule is the usual one (key ≤ query); with queries at the last qPos positions
 * only, it lets each see the keys up to its own position.
 *
 * A backend with the fused kernels (reference, cpu) runs them: the whole chain in one pass per entry, where
 * the op-by-op path launches five kernels and stores scores three times. Any other backend (gpujs) gets the
 * composition of existing ops below, which is also the readable statement of what the kernels compute.
 */
import { isFloat } from './dtype.js';
import { NDArray } from './ndarray.js';
import { add, div, matmul, mul, softmax, sub, sum } from './ops.js';
import { formatShape, shapesEqual } from './shape.js';

export interface AttentionOptions {
  /** Mask keys after each query's position (default false). */
  causal?: boolean;
}

/** q [..., qPos, d], k and v [..., pos, d] → z [..., qPos, d] and pattern [..., qPos, pos]. */
export function attentionShortContext(q: NDArray, k: NDArray, v: NDArray, { causal = false }: AttentionOptions = {}): { z: NDArray; pattern: NDArray } {
  checkAttention('attentionShortContext', q, k, v, causal);
  const kernel = q.backend.attentionShortContext;
  return kernel ? kernel.call(q.backend, q, k, v, causal) : attentionByOps(q, k, v, causal);
}

/** The forward as the op-by-op path computes it (what the fused kernels are tested against). */
export function attentionByOps(q: NDArray, k: NDArray, v: NDArray, causal: boolean): { z: NDArray; pattern: NDArray } {
  const [qPos, d] = q.shape.slice(-2) as [number, number];
  const pos = k.shape.at(-2)!;
  let scores = div(matmul(q, k, { transB: true }), Math.sqrt(d));
  if (causal) scores = add(scores, causalMask(qPos, pos, q));
  const pattern = softmax(scores, -1);
  return { z: matmul(pattern, v), pattern };
}

/**
 * The backward of attentionShortContext: dz [..., qPos, d] → dq, dk, dv, given the forward's pattern.
 * `dpattern`, when the pattern itself was used elsewhere, is that use's gradient [..., qPos, pos]: it joins
 * the pattern's gradient from z (dz·vᵀ) before the softmax backward, as autograd would add the two.
 */
export function attentionShortContextBackward(
  q: NDArray, k: NDArray, v: NDArray, pattern: NDArray, dz: NDArray, dpattern: NDArray | null = null,
): { dq: NDArray; dk: NDArray; dv: NDArray } {
  const op = 'attentionShortContextBackward';
  checkAttention(op, q, k, v, false);
  const pShape = [...q.shape.slice(0, -1), k.shape.at(-2)!];
  const checked: [string, NDArray, readonly number[]][] = [['pattern', pattern, pShape], ['dz', dz, q.shape]];
  if (dpattern !== null) checked.push(['dpattern', dpattern, pShape]);
  for (const [name, t, shape] of checked) {
    if (!(t instanceof NDArray) || !shapesEqual(t.shape, shape) || t.dtype !== q.dtype || t.backend !== q.backend) {
      const got = t instanceof NDArray ? `${t.dtype}${formatShape(t.shape)}` : typeof t;
      throw new Error(`${op}: ${name} must be ${q.dtype}${formatShape(shape)} on q's backend, got ${got}`);
    }
  }
  const kernel = q.backend.attentionShortContextBackward;
  return kernel ? kernel.call(q.backend, q, k, v, pattern, dz, dpattern) : attentionBackwardByOps(q, k, v, pattern, dz, dpattern);
}

/** The backward as autograd computes it from the ops of attentionByOps, each op's derivative in turn. */
export function attentionBackwardByOps(
  q: NDArray, k: NDArray, v: NDArray, pattern: NDArray, dz: NDArray, dpatternElsewhere: NDArray | null = null,
): { dq: NDArray; dk: NDArray; dv: NDArray } {
  const d = q.shape.at(-1)!;
  const fromZ = matmul(dz, v, { transB: true }); // [..., qPos, pos]
  const dpattern = dpatternElsewhere ? add(fromZ, dpatternElsewhere) : fromZ;
  const dscores = mul(pattern, sub(dpattern, sum(mul(dpattern, pattern), -1, true))); // softmax backward
  const draw = div(dscores, Math.sqrt(d)); // through the division by √d
  return { dq: matmul(draw, k), dk: matmul(draw, q, { transA: true }), dv: matmul(pattern, dz, { transA: true }) };
}

function checkAttention(op: string, q: NDArray, k: NDArray, v: NDArray, causal: boolean): void {
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
    if (!(t instanceof NDArray)) throw new Error(`${op}: ${name} must be an NDArray, got ${typeof t}`);
  }
  const shapes = `q ${q.dtype}${formatShape(q.shape)}, k ${k.dtype}${formatShape(k.shape)}, v ${v.dtype}${formatShape(v.shape)}`;
  const fail = (why: string) => {
    throw new Error(`${op}: ${shapes}: ${why}`);
  };
  if (q.ndim < 2) fail('q, k and v need [..., positions, d_head]');
  if (!isFloat(q.dtype) || k.dtype !== q.dtype || v.dtype !== q.dtype) fail('q, k and v must share one float dtype');
  if (k.backend !== q.backend || v.backend !== q.backend) fail('q, k and v live on different backends');
  if (!shapesEqual(k.shape, v.shape)) fail('k and v must have one shape');
  if (k.ndim !== q.ndim || !shapesEqual(k.shape.slice(0, -2), q.shape.slice(0, -2)) || k.shape.at(-1) !== q.shape.at(-1)) {
    fail('k must match q in every axis but positions');
  }
  if (q.size === 0 || k.size === 0) fail('empty tensors have no attention');
  if (causal && q.shape.at(-2)! > k.shape.at(-2)!) fail('causal attention needs no more queries than keys');
}

/** [qPos, pos]: 0 where key j ≤ i + pos − qPos, −∞ after. */
function causalMask(qPos: number, pos: number, like: NDArray): NDArray {
  const data = like.dtype === 'float64' ? new Float64Array(qPos * pos) : new Float32Array(qPos * pos);
  for (let i = 0; i < qPos; i++) for (let j = i + pos - qPos + 1; j < pos; j++) data[i * pos + j] = -Infinity;
  return like.backend.fromArray(data, [qPos, pos], like.dtype);
}
