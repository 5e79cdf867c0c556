import { describe, expect, it } from 'vitest';
import { HookedTransformer, initParameters, paperConfig, resolveConfig } from '@grok/transformer';
import { randomTokens, sampleStd, tinyModel } from './helpers.js';

// TransformerLens's names and shapes for the paper's model (no attention or unembed biases).
const PAPER_PARAMETERS: [string, number[]][] = [
  ['embed.W_E', [114, 128]],
  ['pos_embed.W_pos', [3, 128]],
  ['blocks.0.attn.W_Q', [4, 128, 32]],
  ['blocks.0.attn.W_K', [4, 128, 32]],
  ['blocks.0.attn.W_V', [4, 128, 32]],
  ['blocks.0.attn.W_O', [4, 32, 128]],
  ['blocks.0.mlp.W_in', [128, 512]],
  ['blocks.0.mlp.b_in', [512]],
  ['blocks.0.mlp.W_out', [512, 128]],
  ['blocks.0.mlp.b_out', [128]],
  ['unembed.W_U', [128, 113]],
];

describe('HookedTransformer: parameters', () => {
  it('has the paper model’s TransformerLens names and shapes, ≈226.7k parameters', () => {
    const model = new HookedTransformer(paperConfig(113));
    const got = [...model.namedParameters()].map(([n, p]) => [n, [...p.shape]]);
    expect(got).toEqual(PAPER_PARAMETERS);
    // 114·128 + 3·128 + 3·4·128·32 + 4·32·128 + 128·512 + 512 + 512·128 + 128 + 128·113
    expect(model.parameterCount()).toBe(226_688);
    expect(new HookedTransformer(paperConfig(113, { d_vocab_out: 114 })).parameterCount()).toBe(226_816);
  });

  it('optional biases and LayerNorm use TransformerLens names', () => {
    const model = tinyModel({ attn_bias: true, unembed_bias: true, normalization_type: 'LN', n_layers: 2 });
    const names = [...model.namedParameters()].map(([n]) => n);
    for (const n of ['blocks.0.attn.b_Q', 'blocks.0.attn.b_K', 'blocks.0.attn.b_V', 'blocks.0.attn.b_O',
      'blocks.1.ln1.w', 'blocks.1.ln1.b', 'blocks.1.ln2.w', 'blocks.1.ln2.b', 'ln_final.w', 'ln_final.b', 'unembed.b_U']) {
      expect(names).toContain(n);
    }
    expect(model.blocks.items[0]!.attn.b_Q!.shape).toEqual([2, 4]);
  });

  it('attn_only has no MLP parameters or MLP hooks', () => {
    const model = tinyModel({ attn_only: true });
    expect([...model.namedParameters()].some(([n]) => n.includes('mlp'))).toBe(false);
    expect(model.hookNames().some((n) => n.includes('mlp') || n.includes('resid_mid'))).toBe(false);
    expect(model.run(randomTokens(2, 3, 7)).shape).toEqual([2, 3, 5]);
  });

  it('initialises with the paper’s stds, deterministically from the seed', () => {
    const cfg = paperConfig(113, { dtype: 'float64', seed: 7 });
    const model = new HookedTransformer(cfg);
    for (const [name, p] of model.namedParameters()) {
      const std = sampleStd(p);
      if (name.includes('.b_')) {
        expect(std, name).toBe(0);
        continue;
      }
      const want = name === 'unembed.W_U' ? 1 / Math.sqrt(114) : 1 / Math.sqrt(128);
      // Relative standard error of a sample std is ≈ 1/sqrt(2n): 3.6% for W_pos (n = 384), < 0.6% for the rest.
      const tol = p.size < 1000 ? 0.15 : 0.03;
      expect(Math.abs(std / want - 1), `${name}: std ${std} vs ${want}`).toBeLessThan(tol);
    }
    const again = new HookedTransformer(cfg);
    expect(again.stateDict()['blocks.0.attn.W_Q']!.data).toEqual(model.stateDict()['blocks.0.attn.W_Q']!.data);
    const other = new HookedTransformer({ ...cfg, seed: 8 });
    expect(other.embed.W_E.data).not.toEqual(model.embed.W_E.data);
    // float32 weights are the float64 draws rounded.
    const f32 = new HookedTransformer({ ...cfg, dtype: 'float32' });
    expect(f32.unembed.W_U.data).toEqual(Float32Array.from(model.unembed.W_U.data));
  });

  it('has a TransformerLens-style init: normal(0, init_range) for every W_*', () => {
    const model = new HookedTransformer(paperConfig(113, { init: 'transformerlens', init_range: 0.02, dtype: 'float64' }));
    expect(Math.abs(sampleStd(model.blocks.items[0]!.mlp!.W_in) / 0.02 - 1)).toBeLessThan(0.03);
    expect(Math.abs(sampleStd(model.unembed.W_U) / 0.02 - 1)).toBeLessThan(0.03);
    expect(resolveConfig({ n_layers: 1, d_model: 64, d_head: 16, d_vocab: 10, n_ctx: 4 }).init_range).toBeCloseTo(0.1);
  });
});

describe('parameters change in place', () => {
  it('loadStateDict and initParameters write into each parameter’s NDArray', () => {
    const model = tinyModel();
    const held = new Map([...model.namedParameters()].map(([n, p]) => [n, p.value]));
    const source = tinyModel({ seed: 5 }); // other weights
    model.loadStateDict(source.stateDict());
    for (const [name, p] of model.namedParameters()) {
      expect(p.value, name).toBe(held.get(name));
      expect(p.data, name).toEqual(source.stateDict()[name]!.data);
    }
    initParameters(model, { ...model.cfg, seed: 11 });
    for (const [name, p] of model.namedParameters()) expect(p.value, name).toBe(held.get(name));
  });
});

describe('config validation', () => {
  const base = { n_layers: 1, d_model: 8, d_head: 4, d_vocab: 7, n_ctx: 3 };
  it('fills TransformerLens defaults', () => {
    const cfg = resolveConfig(base);
    expect(cfg).toMatchObject({ n_heads: 2, d_mlp: 32, d_vocab_out: 7, act_fn: 'relu', normalization_type: null, dtype: 'float32' });
  });
  it.each([
    [{ d_model: 0 }, /d_model must be a positive integer/],
    [{ n_heads: 1.5 }, /n_heads/],
    [{ act_fn: 'tanh' }, /act_fn/],
    [{ normalization_type: 'RMS' }, /normalization_type/],
    [{ n_layer: 2 }, /n_layer is not a config field/],
    [{ dtype: 'int32' }, /dtype/],
    [{ init: 'xavier' }, /init/],
    [{ attn_only: 'yes' }, /attn_only must be a boolean/],
  ])('rejects %j', (bad, message) => {
    expect(() => new HookedTransformer({ ...base, ...(bad as object) })).toThrow(message);
  });
});

describe('forward', () => {
  it('gives logits [batch, pos, d_vocab_out] and validates tokens', () => {
    const model = tinyModel();
    expect(model.forward(randomTokens(4, 3, 7)).shape).toEqual([4, 3, 5]);
    expect(model.forward([[1, 2]]).shape).toEqual([1, 2, 5]);
    expect(() => model.forward([[1, 2, 7]])).toThrow(/token 7 .* d_vocab = 7/);
    expect(() => model.forward([[1, 2, 3, 4]])).toThrow(/4 positions, n_ctx is 3/);
  });

  it('is causal: a later token never changes earlier positions', () => {
    const model = tinyModel({ n_layers: 2, normalization_type: 'LN' });
    const a = model.run([[1, 2, 3], [4, 5, 6]]);
    const b = model.run([[1, 2, 0], [4, 5, 1]]);
    const early = (t: typeof a) => t.narrow(1, 0, 2).data;
    expect(early(b)).toEqual(early(a));
    expect(b.narrow(1, 2, 1).data).not.toEqual(a.narrow(1, 2, 1).data);
  });

  it('runs every activation function and normalisation', () => {
    for (const act_fn of ['relu', 'gelu', 'gelu_new'] as const) {
      for (const normalization_type of [null, 'LN', 'LNPre'] as const) {
        const logits = tinyModel({ act_fn, normalization_type }).run(randomTokens(2, 3, 7));
        expect(logits.data.every(Number.isFinite)).toBe(true);
      }
    }
  });
});
