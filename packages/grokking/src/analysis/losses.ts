/**
 * Cross-entropy and accuracy of logits over pair rows, in float64:
 *   loss = mean over rows r of  logsumexp_c L[r, c] − L[r, label(r)],   label(a·p + b) = (a + b) mod p
 */
import { labelOf } from './activations.js';

export interface LossAndAccuracy {
  loss: number;
  accuracy: number;
}

/** logits [n_rows_total, p] indexed by pair row; `rows`: which pair rows to score (all if omitted). */
export function crossEntropyOnRows(logits: Float64Array, p: number, rows?: Int32Array): LossAndAccuracy {
  const count = rows ? rows.length : logits.length / p;
  if (count === 0) return { loss: NaN, accuracy: NaN };
  let total = 0;
  let hits = 0;
  for (let i = 0; i < count; i++) {
    const r = rows ? rows[i]! : i;
    const o = r * p;
    let max = -Infinity;
    let argmax = 0;
    for (let c = 0; c < p; c++) {
      const v = logits[o + c]!;
      if (v > max) {
        max = v;
        argmax = c;
      }
    }
    let sum = 0;
    for (let c = 0; c < p; c++) sum += Math.exp(logits[o + c]! - max);
    const label = labelOf(r, p);
    total += max + Math.log(sum) - logits[o + label]!;
    if (argmax === label) hits++;
  }
  return { loss: total / count, accuracy: hits / count };
}
