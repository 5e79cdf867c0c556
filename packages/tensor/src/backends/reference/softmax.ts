/** Row softmax and log-softmax over the last axis, max-subtracted, computed in float64 per row. */
import type { TypedArray } from '../../dtype.js';

export function softmaxRowsInto(a: TypedArray, rows: number, n: number, out: TypedArray, log: boolean): void {
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    let max = -Infinity;
    for (let j = 0; j < n; j++) max = Math.max(max, a[base + j]!);
    if (max === -Infinity || Number.isNaN(max)) max = 0; // all −∞ (or NaN present): nothing to subtract
    let sum = 0;
    for (let j = 0; j < n; j++) sum += Math.exp(a[base + j]! - max);
    if (log) {
      // (x − max) − log Σ, not x − (max + log Σ): with |max| ≈ 1e30, max + log Σ rounds back to max.
      const logSum = Math.log(sum);
      for (let j = 0; j < n; j++) out[base + j] = a[base + j]! - max - logSum;
    } else {
      for (let j = 0; j < n; j++) out[base + j] = Math.exp(a[base + j]! - max) / sum;
    }
  }
}
