/**
 * Cross-entropy and accuracy of logits over pair rows, in float64:
 *   loss = mean over rows r of  logsumexp_c L[r, c] − L[r, label(r)],   label(a·p + b) = (a + b) mod p
 */
import { labelOf } from './activations.js';

export interface LossAndAccuracy {
  loss: number;
  accuracy: number;
}

/** Pair row r of logits [rows, p]: logsumexp_c L[r, c] − L[r, label(r)], and whether the argmax is the label. */
function scoreRow(logits: Float64Array, p: number, r: number): { loss: number; correct: boolean } {
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
  return { loss: max + Math.log(sum) - logits[o + label]!, correct: argmax === label };
}

/** logits [n_rows_total, p] indexed by pair row; `rows`: which pair rows to score (all if omitted). */
export function crossEntropyOnRows(logits: Float64Array, p: number, rows?: Int32Array): LossAndAccuracy {
  const count = rows ? rows.length : logits.length / p;
  if (count === 0) return { loss: NaN, accuracy: NaN };
  let total = 0;
  let hits = 0;
  for (let i = 0; i < count; i++) {
    const row = scoreRow(logits, p, rows ? rows[i]! : i);
    total += row.loss;
    if (row.correct) hits++;
  }
  return { loss: total / count, accuracy: hits / count };
}

/** The loss and the correctness of every row: what train, test and all-pairs figures share. */
export interface RowLosses {
  /** [rows]: logsumexp_c L[r, c] − L[r, label(r)] */
  loss: Float64Array;
  /** [rows]: 1 where the argmax is the label */
  correct: Uint8Array;
}

/** One pass over logits [p*p, p] (every pair row): each row's loss, computed as crossEntropyOnRows does. */
export function rowLosses(logits: Float64Array, p: number): RowLosses {
  const n = logits.length / p;
  const loss = new Float64Array(n);
  const correct = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    const row = scoreRow(logits, p, r);
    loss[r] = row.loss;
    correct[r] = row.correct ? 1 : 0;
  }
  return { loss, correct };
}

/** Mean loss and accuracy over `rows` (all if omitted): crossEntropyOnRows's numbers, bit for bit (same sums, same order). */
export function meanOverRows(losses: RowLosses, rows?: Int32Array): LossAndAccuracy {
  const count = rows ? rows.length : losses.loss.length;
  if (count === 0) return { loss: NaN, accuracy: NaN };
  let total = 0;
  let hits = 0;
  for (let i = 0; i < count; i++) {
    const r = rows ? rows[i]! : i;
    total += losses.loss[r]!;
    hits += losses.correct[r]!;
  }
  return { loss: total / count, accuracy: hits / count };
}

/** log Σ_c exp x[o + c] over c < n, shifted by the max (no overflow). */
export function logSumExp(x: Float64Array, o: number, n: number): number {
  let max = -Infinity;
  for (let c = 0; c < n; c++) max = Math.max(max, x[o + c]!);
  let sum = 0;
  for (let c = 0; c < n; c++) sum += Math.exp(x[o + c]! - max);
  return max + Math.log(sum);
}
