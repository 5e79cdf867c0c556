/**
 * Cross-entropy of logit rows against class targets, in one pass per row, with the loss in float64:
 *
 *   loss[r]    = log Σ_j exp(x[r, j] − max_r) − (x[r, t_r] − max_r)          (float64)
 *   dloss[r,j] = softmax(x[r])_j − [j = t_r]                                   (the logits' dtype)
 *
 * dloss is d loss[r] / d x[r, j], the row's own derivative: autograd scales it by the incoming gradient.
 * Writing it here, while the row's exponentials are at hand, saves the separate passes over [rows, classes]
 * of log-softmax, gather, exp, scatter and subtract (and their float64 temporaries).
 */
import type { TypedArray } from '../../dtype.js';

export function crossEntropyRowsInto(
  x: TypedArray, targets: Int32Array, rows: number, classes: number, losses: Float64Array, dloss: TypedArray | null,
): void {
  const e = new Float64Array(classes); // one row's exp(x − max): each exponential is computed once
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    let max = -Infinity;
    for (let j = 0; j < classes; j++) max = Math.max(max, x[base + j]!);
    if (max === -Infinity || Number.isNaN(max)) max = 0; // as softmax.ts: nothing to subtract
    let sum = 0;
    for (let j = 0; j < classes; j++) sum += e[j] = Math.exp(x[base + j]! - max);
    const t = targets[r]!;
    // (x_t − max) − log Σ, the order softmax.ts uses for log-softmax, then negated.
    losses[r] = -(x[base + t]! - max - Math.log(sum));
    if (dloss) {
      for (let j = 0; j < classes; j++) dloss[base + j] = e[j]! / sum;
      dloss[base + t] = e[t]! / sum - 1;
    }
  }
}
