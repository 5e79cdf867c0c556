/** Loss and accuracy of a model on a batch, without building a graph. */
import { type RawTensor, Tensor, crossEntropy, noGrad, raw } from '@grok/autograd';
import type { HookedTransformer } from '@grok/transformer';
import type { Batch } from './data.js';

export interface Scores {
  loss: number;
  accuracy: number;
}

/** Fraction of rows whose largest logit is the label. logits [n, classes], labels [n]. */
export function accuracy(logits: RawTensor, labels: RawTensor): number {
  const predicted = raw.argmax(logits, -1).data;
  const truth = labels.data;
  let hits = 0;
  for (let i = 0; i < truth.length; i++) if (predicted[i] === truth[i]) hits++;
  return hits / truth.length;
}

export function evaluate(model: HookedTransformer, batch: Batch, precision: 'float64' | 'input' = 'float64'): Scores {
  return noGrad(() => {
    const logits = model.run(batch.tokens, { lastPositionOnly: true }); // [n, p]
    const loss = crossEntropy(logits, new Tensor(batch.labels), { precision }).item();
    return { loss, accuracy: accuracy(logits.value, batch.labels) };
  });
}

/** Σ of squared entries over all parameters. */
export function sumOfSquares(params: readonly Tensor[]): number {
  let s = 0;
  for (const p of params) {
    const d = p.data;
    for (let i = 0; i < d.length; i++) s += d[i]! * d[i]!;
  }
  return s;
}
