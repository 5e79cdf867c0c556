/** configFromStateDict: a model's config read off its tensors (TransformerLens names, no metadata). */
import { type NDArray, type StateDict, raw } from '@grok/autograd';
import { HookedTransformer, type TransformerConfigInput, configFromStateDict, resolveConfig } from '@grok/transformer';
import { describe, expect, it } from 'vitest';

const PAPER_LIKE: TransformerConfigInput = { n_layers: 1, d_model: 8, n_heads: 2, d_head: 4, d_mlp: 16, d_vocab: 12, d_vocab_out: 11, n_ctx: 3 };
/** TransformerLens's own defaults: biases everywhere, LayerNorm, two blocks, GELU. */
const TL_LIKE: TransformerConfigInput = {
  n_layers: 2, d_model: 12, n_heads: 3, d_head: 5, d_mlp: 20, d_vocab: 9, d_vocab_out: 9, n_ctx: 4,
  act_fn: 'gelu', normalization_type: 'LN', attn_bias: true, unembed_bias: true, dtype: 'float64',
};
const ATTN_ONLY: TransformerConfigInput = { n_layers: 1, d_model: 8, n_heads: 1, d_head: 8, d_vocab: 6, d_vocab_out: 5, n_ctx: 3, attn_only: true };

const tensorsOf = (input: TransformerConfigInput): StateDict<NDArray> => new HookedTransformer(input).stateDict();
/** A copy of `sd` with `name` replaced (or removed, for undefined). */
function edit(sd: StateDict<NDArray>, name: string, t: NDArray | undefined): StateDict<NDArray> {
  const out = { ...sd };
  if (t === undefined) delete out[name];
  else out[name] = t;
  return out;
}
const zeros = (shape: number[], dtype: 'float32' | 'float64' | 'int32' = 'float32') => raw.zeros(shape, { dtype });

describe('configFromStateDict', () => {
  it('reads back the config of the paper-like, TransformerLens-like and attention-only models', () => {
    for (const input of [PAPER_LIKE, TL_LIKE, ATTN_ONLY]) {
      const expected = resolveConfig(input);
      const inferred = configFromStateDict(tensorsOf(input), { given: { act_fn: expected.act_fn } });
      expect(inferred).toEqual(expected);
    }
    // spelled out once, against the numbers in the config above
    expect(configFromStateDict(tensorsOf(TL_LIKE))).toMatchObject({
      n_layers: 2, d_model: 12, n_heads: 3, d_head: 5, d_mlp: 20, d_vocab: 9, d_vocab_out: 9, n_ctx: 4,
      act_fn: 'relu', normalization_type: 'LN', attn_bias: true, unembed_bias: true, attn_only: false, dtype: 'float64',
    });
  });

  it('takes from `given` what shapes cannot tell (act_fn, LNPre) and checks what they can', () => {
    const sd = tensorsOf(PAPER_LIKE);
    expect(configFromStateDict(sd, { given: { act_fn: 'gelu_new', normalization_type: 'LNPre' } })).toMatchObject({ act_fn: 'gelu_new', normalization_type: 'LNPre' });
    expect(configFromStateDict(sd, { given: { d_mlp: 16, n_heads: 2, d_vocab_out: 11 } }).d_mlp).toBe(16);
    expect(() => configFromStateDict(sd, { given: { d_mlp: 32 }, source: 'x.safetensors' })).toThrow(
      'model config from x.safetensors: given d_mlp 32 contradicts the tensors: blocks.0.mlp.W_in [8, 16] has d_mlp = 16',
    );
    expect(() => configFromStateDict(sd, { given: { n_heads: 4 }, nameGiven: (f) => `--${f}` })).toThrow(
      /--n_heads 4 contradicts the tensors: blocks\.0\.attn\.W_Q \[2, 8, 4\] has n_heads = 2/,
    );
    expect(() => configFromStateDict(sd, { given: { n_layers: 2 } })).toThrow(/given n_layers 2 contradicts the tensors: the tensors have 1 block \(blocks\.0 … blocks\.0\)/);
    expect(() => configFromStateDict(sd, { given: { attn_only: true } })).toThrow(/given attn_only true contradicts the tensors: blocks\.0 has MLP weights/);
    expect(() => configFromStateDict(sd, { given: { normalization_type: 'LN' } })).toThrow(/"LN" contradicts the tensors: there are no LayerNorm weights/);
    expect(() => configFromStateDict(tensorsOf(TL_LIKE), { given: { normalization_type: null } })).toThrow(/null contradicts the tensors: blocks\.0\.ln1\.w and \.b exist/);
    expect(() => configFromStateDict(sd, { given: { dtype: 'float64' } })).toThrow(/given dtype "float64" contradicts the tensors: the tensors are float32/);
  });

  it('names the missing tensor and the shapes that disagree', () => {
    const sd = tensorsOf(PAPER_LIKE);
    expect(() => configFromStateDict(edit(sd, 'unembed.W_U', undefined))).toThrow(/tensor 'unembed\.W_U' \[d_model, d_vocab_out\] is missing \(the tensors: embed\.W_E, /);
    expect(() => configFromStateDict(edit(sd, 'blocks.0.mlp.W_out', zeros([24, 8])))).toThrow(
      'blocks.0.mlp.W_out [24, 8] is [d_mlp, d_model], so d_mlp = 24, but blocks.0.mlp.W_in [8, 16] has d_mlp = 16',
    );
    expect(() => configFromStateDict(edit(sd, 'pos_embed.W_pos', zeros([3, 9])))).toThrow(/pos_embed\.W_pos \[3, 9\] is \[n_ctx, d_model\], so d_model = 9, but embed\.W_E \[12, 8\] has d_model = 8/);
    expect(() => configFromStateDict(edit(sd, 'blocks.0.attn.W_O', zeros([2, 4, 8, 1])))).toThrow(/blocks\.0\.attn\.W_O \[2, 4, 8, 1\] should have 3 axes \[n_heads, d_head, d_model\]/);
    expect(() => configFromStateDict(edit(sd, 'blocks.0.mlp.b_in', undefined))).toThrow(/blocks\.0\.mlp has .*W_in, .*W_out, .*b_out but not blocks\.0\.mlp\.b_in/);
    expect(() => configFromStateDict(edit(sd, 'blocks.0.attn.b_Q', zeros([2, 4])))).toThrow(/blocks\.0\.attn has blocks\.0\.attn\.b_Q but not blocks\.0\.attn\.b_K, blocks\.0\.attn\.b_V, blocks\.0\.attn\.b_O/);
    expect(() => configFromStateDict(edit(sd, 'blocks.0.attn.mask', zeros([3, 3])))).toThrow(/not parameters of a HookedTransformer: blocks\.0\.attn\.mask/);
    expect(() => configFromStateDict(edit(sd, 'unembed.W_U', zeros([8, 11], 'float64')))).toThrow(/unembed\.W_U has dtype float64 but embed\.W_E has float32/);
    const ints = Object.fromEntries(Object.entries(sd).map(([n, t]) => [n, zeros([...t.shape], 'int32')]));
    expect(() => configFromStateDict(ints)).toThrow(/embed\.W_E has dtype int32; the weights must be float32 or float64/);
    expect(() => configFromStateDict({})).toThrow(/tensor 'embed\.W_E' \[d_vocab, d_model\] is missing \(the tensors: none\)/);
  });

  it('blocks: 0 … n − 1 with no gap, each like block 0', () => {
    const two = tensorsOf({ ...PAPER_LIKE, n_layers: 2 });
    const gap = Object.fromEntries(Object.entries(two).map(([n, t]) => [n.replace(/^blocks\.1\./, 'blocks.2.'), t]));
    expect(() => configFromStateDict(gap)).toThrow(/there are tensors of blocks\.2 but none of blocks\.1/);
    const noMlp1 = Object.fromEntries(Object.entries(two).filter(([n]) => !n.startsWith('blocks.1.mlp.')));
    expect(() => configFromStateDict(noMlp1)).toThrow(/blocks\.1 has no MLP but blocks\.0 has MLP/);
    const noBlocks = Object.fromEntries(Object.entries(two).filter(([n]) => !n.startsWith('blocks.')));
    expect(() => configFromStateDict(noBlocks)).toThrow(/no blocks\.0\.\* tensors/);
    expect(configFromStateDict(two).n_layers).toBe(2);
  });
});
