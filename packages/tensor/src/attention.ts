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
 * Two ops: attentionShortContext (z and the pattern) and attentionPattern (the pattern alone, for code that
 * weights something else by it and never forms z), each with its backward.
 *
 * A backend with the fused kernels (reference, cpu) runs them: the whole chain in one pass per entry, where
 * the op-by-op path launches five kernels and stores scores three times. Any other backend (gpujs) gets the
 * composition of existing ops below, which is also the readable statement of what the kernels compute.
 */
import { isFloat } from './dtype.js';
import { NDArray } from './ndarray.js';
import { add, div, matmul, mul, softmax, sub, sum } from './ops.js';
import { type Shape, formatShape, shapesEqual } from './shape.js';

export interface AttentionOptions {
  /** Mask keys after each query's position (default false). */
  causal?: boolean;
}

/** q [..., qPos, d], k and v [..., pos, d] → z [..., qPos, d] and pattern [..., qPos, pos]. */
export function attentionShortContext(q: NDArray, k: NDArray, v: NDArray, { causal = false }: AttentionOptions = {}): { z: NDArray; pattern: NDArray } {
  checkAttention('attentionShortContext', { q, k, v }, causal);
  const kernel = q.backend.attentionShortContext;
  return kernel ? kernel.call(q.backend, q, k, v, causal) : attentionByOps(q, k, v, causal);
}

/** q [..., qPos, d], k [..., pos, d] → pattern [..., qPos, pos]: the forward without z (and without v). */
export function attentionPattern(q: NDArray, k: NDArray, { causal = false }: AttentionOptions = {}): NDArray {
  checkAttention('attentionPattern', { q, k }, causal);
  const kernel = q.backend.attentionPattern;
  return kernel ? kernel.call(q.backend, q, k, causal) : attentionPatternByOps(q, k, causal);
}

/** The pattern as the op-by-op path computes it (what the fused kernels are tested against). */
export function attentionPatternByOps(q: NDArray, k: NDArray, causal: boolean): NDArray {
  const [qPos, d] = q.shape.slice(-2) as [number, number];
  const pos = k.shape.at(-2)!;
  let scores = div(matmul(q, k, { transB: true }), Math.sqrt(d));
  if (causal) scores = add(scores, causalMask(qPos, pos, q));
  return softmax(scores, -1);
}

/** The forward as the op-by-op path computes it: the pattern, then z = pattern·v. */
export function attentionByOps(q: NDArray, k: NDArray, v: NDArray, causal: boolean): { z: NDArray; pattern: NDArray } {
  const pattern = attentionPatternByOps(q, k, causal);
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
  checkAttention(op, { q, k, v }, false);
  const pShape = patternShapeOf(q, k);
  const checked: [string, NDArray, Shape][] = [['pattern', pattern, pShape], ['dz', dz, q.shape]];
  if (dpattern !== null) checked.push(['dpattern', dpattern, pShape]);
  checkLikeQ(op, q, checked);
  const kernel = q.backend.attentionShortContextBackward;
  return kernel ? kernel.call(q.backend, q, k, v, pattern, dz, dpattern) : attentionBackwardByOps(q, k, v, pattern, dz, dpattern);
}

/**
 * The backward of attentionPattern: the pattern's gradient dpattern [..., qPos, pos] → dq and dk, given the
 * forward's pattern. (attentionShortContextBackward with no z: dpattern is the whole gradient.)
 */
export function attentionPatternBackward(q: NDArray, k: NDArray, pattern: NDArray, dpattern: NDArray): { dq: NDArray; dk: NDArray } {
  const op = 'attentionPatternBackward';
  checkAttention(op, { q, k }, false);
  const pShape = patternShapeOf(q, k);
  checkLikeQ(op, q, [['pattern', pattern, pShape], ['dpattern', dpattern, pShape]]);
  const kernel = q.backend.attentionPatternBackward;
  return kernel ? kernel.call(q.backend, q, k, pattern, dpattern) : attentionPatternBackwardByOps(q, k, pattern, dpattern);
}

/**
 * The pattern's backward as autograd computes it from the ops of attentionPatternByOps, each op's derivative
 * in turn: the softmax's, the division's by √d, then the matmul's (the mask is a constant).
 */
export function attentionPatternBackwardByOps(q: NDArray, k: NDArray, pattern: NDArray, dpattern: NDArray): { dq: NDArray; dk: NDArray } {
  const d = q.shape.at(-1)!;
  const dscores = mul(pattern, sub(dpattern, sum(mul(dpattern, pattern), -1, true))); // softmax backward
  const draw = div(dscores, Math.sqrt(d)); // through the division by √d
  return { dq: matmul(draw, k), dk: matmul(draw, q, { transA: true }) };
}

/** The backward as autograd computes it from the ops of attentionByOps: z's matmul, then the pattern's. */
export function attentionBackwardByOps(
  q: NDArray, k: NDArray, v: NDArray, pattern: NDArray, dz: NDArray, dpatternElsewhere: NDArray | null = null,
): { dq: NDArray; dk: NDArray; dv: NDArray } {
  const fromZ = matmul(dz, v, { transB: true }); // [..., qPos, pos]
  const dpattern = dpatternElsewhere ? add(fromZ, dpatternElsewhere) : fromZ;
  const { dq, dk } = attentionPatternBackwardByOps(q, k, pattern, dpattern);
  return { dq, dk, dv: matmul(pattern, dz, { transA: true }) };
}

/** [..., qPos, pos]. */
const patternShapeOf = (q: NDArray, k: NDArray): Shape => [...q.shape.slice(0, -1), k.shape.at(-2)!];

/** The inputs of a forward or backward: q and k, and v for the ops that form z. */
interface AttentionInputs {
  q: NDArray;
  k: NDArray;
  v?: NDArray;
}

function checkAttention(op: string, inputs: AttentionInputs, causal: boolean): void {
  const named = Object.entries(inputs) as [string, NDArray][]; // v is checked when it is passed, even as undefined
  for (const [name, t] of named) {
    if (!(t instanceof NDArray)) throw new Error(`${op}: ${name} must be an NDArray, got ${typeof t}`);
  }
  const { q, k, v } = inputs;
  const names = v ? 'q, k and v' : 'q and k';
  const shapes = named.map(([name, t]) => `${name} ${t.dtype}${formatShape(t.shape)}`).join(', ');
  const fail = (why: string) => {
    throw new Error(`${op}: ${shapes}: ${why}`);
  };
  if (q.ndim < 2) fail(`${names} need [..., positions, d_head]`);
  if (!isFloat(q.dtype) || named.some(([, t]) => t.dtype !== q.dtype)) fail(`${names} must share one float dtype`);
  if (named.some(([, t]) => t.backend !== q.backend)) fail(`${names} live on different backends`);
  if (v && !shapesEqual(k.shape, v.shape)) fail('k and v must have one shape');
  if (k.ndim !== q.ndim || !shapesEqual(k.shape.slice(0, -2), q.shape.slice(0, -2)) || k.shape.at(-1) !== q.shape.at(-1)) {
    fail('k must match q in every axis but positions');
  }
  if (q.size === 0 || k.size === 0) fail('empty tensors have no attention');
  if (causal && q.shape.at(-2)! > k.shape.at(-2)!) fail('causal attention needs no more queries than keys');
}

/** Each of a backward's other arrays must have its shape, q's dtype and q's backend. */
function checkLikeQ(op: string, q: NDArray, checked: readonly [string, NDArray, Shape][]): void {
  for (const [name, t, shape] of checked) {
    if (!(t instanceof NDArray) || !shapesEqual(t.shape, shape) || t.dtype !== q.dtype || t.backend !== q.backend) {
      const got = t instanceof NDArray ? `${t.dtype}${formatShape(t.shape)}` : typeof t;
      throw new Error(`${op}: ${name} must be ${q.dtype}${formatShape(shape)} on q's backend, got ${got}`);
    }
  }
}

/** [qPos, pos]: 0 where key j ≤ i + pos − qPos, −∞ after. */
function causalMask(qPos: number, pos: number, like: NDArray): NDArray {
  const data = like.dtype === 'float64' ? new Float64Array(qPos * pos) : new Float32Array(qPos * pos);
  for (let i = 0; i < qPos; i++) for (let j = i + pos - qPos + 1; j < pos; j++) data[i * pos + j] = -Infinity;
  return like.backend.fromArray(data, [qPos, pos], like.dtype);
}
