/**
 * Attention over a short context as plain loops, forward and backward, for each (batch, head) entry:
 *
 *   scores  = q·kᵀ / √d   (+ −∞ above the causal diagonal)   [qPos, pos]
 *   pattern = softmax(scores) over keys                      [qPos, pos]
 *   z       = pattern·v                                      [qPos, d]
 *
 *   dpattern = dz·vᵀ (+ a gradient of the pattern from elsewhere)
 *   dscores  = pattern ⊙ (dpattern − Σ_keys pattern ⊙ dpattern)
 *   dq = (dscores / √d)·k     dk = (dscores / √d)ᵀ·q     dv = patternᵀ·dz
 *
 * The pattern-only op (attentionPatternInto, attentionPatternBackwardInto) is the same without v and z: its
 * backward starts from a given dpattern. The full loops are built from its parts (the pattern, then z; dpattern
 * from z, then the pattern's backward), so the two share every rounding.
 *
 * The loops round where the op-by-op path (matmul, div, add the mask, softmax; and autograd's backward of
 * each) stores a result in the tensors' dtype, so in float64 they give its numbers, and in float32 they give
 * them too when `sums` says how that path's matmul adds its terms (see SumRounding).
 *
 * Arrays are contiguous: q [entries, qPos, d], k and v [entries, pos, d], pattern and dpattern [entries, qPos, pos].
 * A causal query i (of qPos, the last qPos positions of the context) sees keys j ≤ i + pos − qPos.
 */
import type { TypedArray } from '../../dtype.js';

export interface AttentionDims {
  /** batch · heads. */
  entries: number;
  qPos: number;
  pos: number;
  d: number;
}

/**
 * How a matmul that adds rows of B (pattern·v, dscores·k, …) rounds its running sums: 'once' keeps them in
 * float64 and rounds the total (the reference matmul); 'each-term' rounds after every term (the cpu backend's
 * small-matmul loop, which accumulates in its float32 output). In float64 the two differ only in the sign
 * of a zero (0 + (−0) is +0): backends pick the one their matmul uses. Dot products
 * (q·kᵀ, dz·vᵀ) are summed in float64 and rounded once on both backends.
 */
export type SumRounding = 'once' | 'each-term';

const identity = (x: number) => x;
const rounding = (a: TypedArray) => (a instanceof Float32Array ? Math.fround : identity);

/** The mask term of key j for query i: 0 where it may look, −∞ where it may not. */
const maskTerm = (i: number, j: number, qPos: number, pos: number) => (j > i + pos - qPos ? -Infinity : 0);

/** Σ_c a[pa + c]·b[pb + c] over c < d, in float64. */
function dot(a: TypedArray, pa: number, b: TypedArray, pb: number, d: number): number {
  let s = 0;
  for (let c = 0; c < d; c++) s += a[pa + c]! * b[pb + c]!;
  return s;
}

/**
 * out[po + c] = Σ_m w[pw + m·ws] · rows[pr + m·d + c] for m < n: a weighted sum of n rows of length d
 * (one output row of a matmul whose B has n rows).
 */
function weightedRowsInto(
  w: TypedArray, pw: number, ws: number, rows: TypedArray, pr: number, n: number, d: number, out: TypedArray, po: number, sums: SumRounding,
): void {
  if (sums === 'each-term') {
    // Accumulating in `out` rounds each partial sum to its dtype.
    const w0 = w[pw]!;
    for (let c = 0; c < d; c++) out[po + c] = w0 * rows[pr + c]!;
    for (let m = 1; m < n; m++) {
      const wm = w[pw + m * ws]!;
      for (let c = 0; c < d; c++) out[po + c]! += wm * rows[pr + m * d + c]!;
    }
    return;
  }
  for (let c = 0; c < d; c++) {
    let s = 0;
    for (let m = 0; m < n; m++) s += w[pw + m * ws]! * rows[pr + m * d + c]!;
    out[po + c] = s;
  }
}

/** Fills pattern [entries, qPos, pos]: each query's softmax over its keys. */
export function attentionPatternInto(q: TypedArray, k: TypedArray, dims: AttentionDims, causal: boolean, pattern: TypedArray): void {
  const { entries, qPos, pos, d } = dims;
  const round = rounding(pattern);
  const scale = round(Math.sqrt(d)); // √d as a scalar of the tensors' dtype, as `scores.div(√d)` makes it
  const scores = new Float64Array(pos); // one row, each value rounded to the dtype
  for (let t = 0; t < entries; t++) {
    const kv = t * pos * d;
    for (let i = 0; i < qPos; i++) {
      const row = (t * qPos + i) * pos;
      let max = -Infinity;
      for (let j = 0; j < pos; j++) {
        let s = round(round(dot(q, (t * qPos + i) * d, k, kv + j * d, d)) / scale);
        if (causal) s = round(s + maskTerm(i, j, qPos, pos));
        scores[j] = s;
        max = Math.max(max, s);
      }
      // The softmax of the row, as the backend's softmax computes it (in float64, max-subtracted).
      if (max === -Infinity || Number.isNaN(max)) max = 0;
      let sum = 0;
      for (let j = 0; j < pos; j++) sum += Math.exp(scores[j]! - max);
      for (let j = 0; j < pos; j++) pattern[row + j] = Math.exp(scores[j]! - max) / sum;
    }
  }
}

/** Fills z [entries, qPos, d] and pattern [entries, qPos, pos]: the pattern, then z = pattern·v. */
export function attentionForwardInto(
  q: TypedArray, k: TypedArray, v: TypedArray, dims: AttentionDims, causal: boolean,
  z: TypedArray, pattern: TypedArray, sums: SumRounding = 'once',
): void {
  const { entries, qPos, pos, d } = dims;
  attentionPatternInto(q, k, dims, causal, pattern);
  for (let t = 0; t < entries; t++) {
    for (let i = 0; i < qPos; i++) weightedRowsInto(pattern, (t * qPos + i) * pos, 1, v, t * pos * d, pos, d, z, (t * qPos + i) * d, sums);
  }
}

/**
 * The softmax backward and the division by √d for one entry: ds [qPos, pos] = dscores / √d from the entry's
 * pattern and dpattern (starting at p and pd), each step rounded as its op stores it.
 */
function scoreGradsInto(
  pattern: TypedArray, p: number, dpattern: ArrayLike<number>, pd: number, qPos: number, pos: number,
  round: (x: number) => number, scale: number, ds: Float64Array,
): void {
  for (let i = 0; i < qPos; i++) {
    // Σ_j pattern ⊙ dpattern first (the sum's float64 total, rounded once).
    let s = 0;
    for (let j = 0; j < pos; j++) s += round(dpattern[pd + i * pos + j]! * pattern[p + i * pos + j]!);
    s = round(s);
    for (let j = 0; j < pos; j++) {
      const y = pattern[p + i * pos + j]!;
      ds[i * pos + j] = round(round(y * round(dpattern[pd + i * pos + j]! - s)) / scale);
    }
  }
}

/** dq = ds·k and dk = dsᵀ·q for the entry whose q rows start at qz and k rows at kv. */
function queryKeyGradsInto(
  ds: Float64Array, q: TypedArray, k: TypedArray, qz: number, kv: number, dims: AttentionDims, dq: TypedArray, dk: TypedArray, sums: SumRounding,
): void {
  const { qPos, pos, d } = dims;
  for (let i = 0; i < qPos; i++) weightedRowsInto(ds, i * pos, 1, k, kv, pos, d, dq, qz + i * d, sums);
  for (let j = 0; j < pos; j++) weightedRowsInto(ds, j, pos, q, qz, qPos, d, dk, kv + j * d, sums);
}

/** Fills dq (like q) and dk (like k) from the forward's pattern and the pattern's gradient dpattern. */
export function attentionPatternBackwardInto(
  q: TypedArray, k: TypedArray, pattern: TypedArray, dpattern: TypedArray, dims: AttentionDims,
  dq: TypedArray, dk: TypedArray, sums: SumRounding = 'once',
): void {
  const { entries, qPos, pos, d } = dims;
  const round = rounding(dq);
  const scale = round(Math.sqrt(d));
  const ds = new Float64Array(qPos * pos); // dscores / √d, [qPos, pos] of one entry
  for (let t = 0; t < entries; t++) {
    const p = t * qPos * pos;
    scoreGradsInto(pattern, p, dpattern, p, qPos, pos, round, scale, ds);
    queryKeyGradsInto(ds, q, k, t * qPos * d, t * pos * d, dims, dq, dk, sums);
  }
}

/** Fills dq (like q), dk and dv (like k and v) from the forward's pattern and dz [entries, qPos, d]. */
export function attentionBackwardInto(
  q: TypedArray, k: TypedArray, v: TypedArray, pattern: TypedArray, dz: TypedArray, dims: AttentionDims,
  dq: TypedArray, dk: TypedArray, dv: TypedArray, sums: SumRounding = 'once', dpatternElsewhere: TypedArray | null = null,
): void {
  const { entries, qPos, pos, d } = dims;
  const round = rounding(dq);
  const scale = round(Math.sqrt(d));
  const dpattern = new Float64Array(qPos * pos); // [qPos, pos] of one entry, each value rounded to the dtype
  const ds = new Float64Array(qPos * pos);
  for (let t = 0; t < entries; t++) {
    const kv = t * pos * d;
    const qz = t * qPos * d;
    const p = t * qPos * pos;
    // dpattern = dz·vᵀ (+ the gradient from elsewhere, as autograd sums the two), then the pattern's backward.
    for (let i = 0; i < qPos; i++) {
      for (let j = 0; j < pos; j++) {
        let g = round(dot(dz, qz + i * d, v, kv + j * d, d));
        if (dpatternElsewhere) g = round(g + dpatternElsewhere[p + i * pos + j]!);
        dpattern[i * pos + j] = g;
      }
    }
    scoreGradsInto(pattern, p, dpattern, 0, qPos, pos, round, scale, ds);
    queryKeyGradsInto(ds, q, k, qz, kv, dims, dq, dk, sums);
    for (let j = 0; j < pos; j++) weightedRowsInto(pattern, p + j, pos, dz, qz, qPos, d, dv, kv + j * d, sums); // patternᵀ·dz
  }
}
