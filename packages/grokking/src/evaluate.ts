/** Loss and accuracy of a model on a batch, without building a graph. */
import { type NDArray, Tensor, crossEntropy, noGrad, raw } from '@grok/autograd';
import type { HookedTransformer } from '@grok/transformer';
import type { Batch } from './data.js';

export interface Scores {
  loss: number;
  accuracy: number;
}

/** Fraction of rows whose largest logit is the label. logits [n, classes], labels [n]. */
export function accuracy(logits: NDArray, labels: NDArray): number {
  const predicted = raw.argmax(logits, -1).data;
  const truth = labels.data;
  let hits = 0;
  for (let i = 0; i < truth.length; i++) if (predicted[i] === truth[i]) hits++;
  return hits / truth.length;
}

/**
 * Rows per forward pass in `evaluate`. The test set of the paper (8,939 rows) in one pass would hold ~100 MB of
 * activations at once; chunks keep the peak memory of training low at no cost in speed.
 */
export const EVAL_CHUNK = 2048;

export function evaluate(model: HookedTransformer, batch: Batch, precision: 'float64' | 'input' = 'float64'): Scores {
  return noGrad(() => {
    const n = batch.labels.size;
    let lossSum = 0;
    let hits = 0;
    for (let start = 0; start < n; start += EVAL_CHUNK) {
      const rows = Math.min(EVAL_CHUNK, n - start);
      const tokens = raw.narrow(batch.tokens, 0, start, rows); // [rows, 3]
      const labels = raw.narrow(batch.labels, 0, start, rows); // [rows]
      const logits = model.run(tokens, { lastPositionOnly: true }); // [rows, p]
      lossSum += crossEntropy(logits, new Tensor(labels), { precision, reduction: 'sum' }).item();
      hits += Math.round(accuracy(logits.value, labels) * rows);
    }
    return { loss: lossSum / n, accuracy: hits / n };
  });
}

/** Σw²: the sum of squared entries over all parameters, in float64 (training logs it; the analysis reports it). */
export function sumOfSquares(params: readonly Tensor[]): number {
  let s = 0;
  for (const p of params) {
    const d = p.data;
    for (let i = 0; i < d.length; i++) s += d[i]! * d[i]!;
  }
  return s;
}
