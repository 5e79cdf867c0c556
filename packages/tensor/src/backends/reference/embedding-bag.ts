/**
 * The embedding bag with per-row weights, and its two adjoints, as plain loops (the readable version; the cpu
 * backend's wasm kernels compute exactly these numbers). For table [N, D], index [B, R] (int32) and weight
 * [B, R]:
 *
 *   forward      out[b, :]       = Σ_r weight[b, r] · table[index[b, r], :]             [B, D]
 *   d weight     dWeight[b, r]   = table[index[b, r], :] · g[b, :]                      [B, R]
 *   d table      dTable[n, :]    = Σ_{(b, r): index[b, r] = n} weight[b, r] · g[b, :]   [N, D]
 *
 * Arithmetic is in the arrays' dtype: for float32 every product and every sum is rounded to float32 (as a
 * float32 SIMD lane does it, without fused multiply-adds). The sums over r and over (b, r) run in order.
 * The dot product over D keeps 16 partial sums, s[d mod 16], and adds them as
 *   v[l] = ((s[l] + s[l + 4]) + s[l + 8]) + s[l + 12],   dot = ((v[0] + v[1]) + v[2]) + v[3]
 * which is the order four f32x4 accumulators give: a long dependency chain of one sum would be 16× slower
 * there, and this order is no less accurate. Indices were range-checked by the op layer.
 */
import type { TypedArray } from '../../dtype.js';

/** Rounding to the arrays' dtype: Math.fround for float32, nothing for float64. */
const rounding = (a: TypedArray) => (a instanceof Float32Array ? Math.fround : (x: number) => x);

export function embeddingBagInto(table: TypedArray, index: Int32Array, weight: TypedArray, out: TypedArray, R: number, D: number): void {
  const f = rounding(out);
  const B = index.length / R;
  for (let b = 0; b < B; b++) {
    const o = b * D;
    out.fill(0, o, o + D);
    for (let r = 0; r < R; r++) {
      const w = weight[b * R + r]!;
      const t = index[b * R + r]! * D;
      for (let d = 0; d < D; d++) out[o + d] = f(out[o + d]! + f(w * table[t + d]!));
    }
  }
}

export function embeddingBagWeightGradInto(table: TypedArray, index: Int32Array, g: TypedArray, out: TypedArray, R: number, D: number): void {
  const f = rounding(out);
  const B = index.length / R;
  const s = new Float64Array(16);
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < R; r++) {
      const t = index[b * R + r]! * D;
      s.fill(0);
      for (let d = 0; d < D; d++) s[d % 16] = f(s[d % 16]! + f(table[t + d]! * g[b * D + d]!));
      const v = [0, 1, 2, 3].map((l) => f(f(f(s[l]! + s[l + 4]!) + s[l + 8]!) + s[l + 12]!));
      out[b * R + r] = f(f(f(v[0]! + v[1]!) + v[2]!) + v[3]!);
    }
  }
}

/** `out` [N, D] is zeroed, then every (b, r), in order, adds weight[b, r] · g[b] into row index[b, r]. */
export function embeddingBagTableGradInto(index: Int32Array, weight: TypedArray, g: TypedArray, out: TypedArray, R: number, D: number): void {
  const f = rounding(out);
  const B = index.length / R;
  out.fill(0);
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < R; r++) {
      const w = weight[b * R + r]!;
      const t = index[b * R + r]! * D;
      for (let d = 0; d < D; d++) out[t + d] = f(out[t + d]! + f(w * g[b * D + d]!));
    }
  }
}
