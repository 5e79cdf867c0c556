/** lastPositionOnly computes the same logits and gradients for the last position as the full pass. */
import { describe, expect, it } from 'vitest';
import { Tensor, crossEntropy, raw } from '@grok/autograd';
import type { HookedTransformer, TransformerConfigInput } from '@grok/transformer';
import { maxAbsDiff, randomTokens, tinyModel } from './helpers.js';

function gradsOf(model: HookedTransformer, loss: () => Tensor): Map<string, Float64Array> {
  model.zeroGrad();
  loss().backward();
  return new Map([...model.namedParameters()].map(([n, p]) => [n, Float64Array.from(p.grad?.data ?? new Float64Array(p.size))]));
}

describe.each<[string, Partial<TransformerConfigInput>]>([
  ['paper-style (1 layer, no LN)', {}],
  ['2 layers, LN, biases', { n_layers: 2, normalization_type: 'LN', attn_bias: true, unembed_bias: true }],
  ['attention only', { attn_only: true }],
])('lastPositionOnly: %s', (_, cfg) => {
  it('equals the full computation at the last position, values and gradients', () => {
    const model = tinyModel({ ...cfg, d_model: 16, n_heads: 4, d_mlp: 32, n_ctx: 4 });
    const tokens = randomTokens(9, 4, 7, 5);
    const full = model.run(tokens); // [9, 4, 5]
    const last = model.run(tokens, { lastPositionOnly: true }); // [9, 5]
    expect(last.shape).toEqual([9, 5]);
    expect(maxAbsDiff(last, full.narrow(1, 3, 1).reshape(9, 5))).toBeLessThan(1e-12);

    const targets = new Tensor(raw.randint(0, 5, [9], { seed: 2 }));
    const g1 = gradsOf(model, () => crossEntropy(model.run(tokens).narrow(1, 3, 1).reshape(9, 5), targets));
    const g2 = gradsOf(model, () => crossEntropy(model.run(tokens, { lastPositionOnly: true }), targets));
    for (const [name, g] of g1) {
      const h = g2.get(name)!;
      let m = 0;
      for (let i = 0; i < g.length; i++) m = Math.max(m, Math.abs(g[i]! - h[i]!));
      expect(m, name).toBeLessThan(1e-12);
    }
  });
});
