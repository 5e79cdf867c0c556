/**
 * End-to-end gradient check of the whole model: backward() against central differences of the
 * cross-entropy loss, for every element of several parameters, in float64.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, crossEntropy, noGrad, raw } from '@grok/autograd';
import type { HookedTransformer, TransformerConfigInput } from '@grok/transformer';
import { randomTokens, tinyModel } from './helpers.js';

function checkModel(model: HookedTransformer, names: string[], last: boolean, tokenTables = false): void {
  const tokens = randomTokens(5, 3, 7, 11);
  const targets = new Tensor(raw.randint(0, 5, last ? [5] : [5, 3], { seed: 12 }));
  const loss = () => crossEntropy(model.run(tokens, { lastPositionOnly: last, tokenTables }), targets);
  model.zeroGrad();
  loss().backward();
  const params = new Map(model.namedParameters());
  const eps = 1e-6;
  for (const name of names) {
    const p = params.get(name)!;
    expect(p, name).toBeDefined();
    const analytic = p.grad!.data;
    const base = Float64Array.from(p.data);
    const original = p.value;
    let worst = 0;
    for (let k = 0; k < base.length; k++) {
      const at = (delta: number) => {
        const x = Float64Array.from(base);
        x[k]! += delta;
        p.value = raw.tensor(x, { shape: p.shape, dtype: 'float64' });
        return noGrad(() => loss().item());
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      // Pass when |analytic − numeric| ≤ atol + rtol·|numeric| (atol 1e-7: b_K's gradient is exactly 0,
      // since adding the same term to every key's score leaves the softmax unchanged).
      worst = Math.max(worst, Math.abs(analytic[k]! - numeric) / (1e-7 / 1e-4 + Math.abs(numeric)));
    }
    p.value = original;
    expect(worst, `${name}: worst relative error`).toBeLessThan(1e-4);
  }
}

const ALL = [
  'embed.W_E', 'pos_embed.W_pos', 'blocks.0.attn.W_Q', 'blocks.0.attn.W_K', 'blocks.0.attn.W_V', 'blocks.0.attn.W_O',
  'blocks.0.mlp.W_in', 'blocks.0.mlp.b_in', 'blocks.0.mlp.W_out', 'blocks.0.mlp.b_out', 'unembed.W_U',
];

describe('gradcheck of the whole model (float64)', () => {
  it('paper-style model, loss at every position', () => checkModel(tinyModel(), ALL, false));
  it('paper-style model, lastPositionOnly', () => checkModel(tinyModel(), ALL, true));
  it('paper-style model, lastPositionOnly with token tables', () => checkModel(tinyModel(), ALL, true, true));
  it('two layers with LayerNorm, GELU and all biases', () => {
    const cfg: Partial<TransformerConfigInput> = {
      n_layers: 2, normalization_type: 'LN', act_fn: 'gelu', attn_bias: true, unembed_bias: true,
    };
    checkModel(tinyModel(cfg), [
      'blocks.0.attn.W_Q', 'blocks.0.attn.b_K', 'blocks.0.ln1.w', 'blocks.1.ln2.b', 'blocks.1.attn.b_O',
      'blocks.1.attn.W_V', 'ln_final.w', 'unembed.b_U', 'embed.W_E',
    ], true);
  });
});
