import { Tensor, crossEntropy, noGrad } from '@grok/autograd';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { makeBatch } from '../src/data.js';
import { accuracy, evaluate } from '../src/evaluate.js';
import { buildModel } from '../src/model.js';

describe('evaluate', () => {
  it('gives the loss and accuracy of one full pass, though it runs in chunks of 2,048 rows', () => {
    // p = 47: 2,209 pairs, so two chunks.
    const model = buildModel(resolveConfig({ p: 47, d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32 }));
    const batch = makeBatch(47);
    const scores = evaluate(model, batch);
    const [loss, acc] = noGrad(() => {
      const logits = model.run(batch.tokens, { lastPositionOnly: true });
      return [crossEntropy(logits, new Tensor(batch.labels)).item(), accuracy(logits.value, batch.labels)];
    });
    expect(scores.loss).toBeCloseTo(loss, 12);
    expect(scores.accuracy).toBe(acc);
  });
});
