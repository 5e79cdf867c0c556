import { describe, expect, it } from 'vitest';
import { Tensor, raw, zerosLike } from '@grok/autograd';
import { HookedTransformer, paperConfig } from '@grok/transformer';
import { maxAbsDiff, randomTokens, tinyModel } from './helpers.js';

describe('hooks', () => {
  const tokens = randomTokens(4, 3, 7, 9);

  it('read activations without changing the output', () => {
    const model = tinyModel();
    const seen: string[] = [];
    const logits = model.run(tokens, { hooks: [{ name: () => true, fn: (_x, name) => void seen.push(name) }] });
    expect(seen).toEqual(model.hookNames());
    expect(maxAbsDiff(logits, model.run(tokens))).toBe(0);
  });

  it('replace activations: zeroing the attention pattern changes the logits', () => {
    const model = tinyModel();
    const logits = model.run(tokens, { hooks: { 'blocks.0.attn.hook_pattern': (x) => zerosLike(x) } });
    expect(maxAbsDiff(logits, model.run(tokens))).toBeGreaterThan(1e-3);
  });

  it('replacing hook_mlp_out with zeros equals a model whose W_out and b_out are zero', () => {
    const model = tinyModel();
    const ablated = model.run(tokens, { hooks: [{ name: 'blocks.0.hook_mlp_out', fn: (x) => zerosLike(x) }] });
    const zeroed = tinyModel();
    const dict = model.stateDict();
    for (const name of ['blocks.0.mlp.W_out', 'blocks.0.mlp.b_out']) dict[name] = raw.zerosLike(dict[name]!);
    zeroed.loadStateDict(dict);
    expect(maxAbsDiff(ablated, zeroed.run(tokens))).toBe(0);
  });

  it('are removed when the call ends, even when a hook throws', () => {
    const model = tinyModel();
    const before = model.run(tokens);
    let calls = 0;
    const hooks = [
      { name: 'hook_embed', fn: (x: Tensor) => { calls++; return zerosLike(x); } },
      { name: 'blocks.0.hook_resid_mid', fn: () => { throw new Error('boom'); } },
    ];
    expect(() => model.run(tokens, { hooks })).toThrow('boom');
    expect(maxAbsDiff(model.run(tokens), before)).toBe(0);
    expect(calls).toBe(1);
  });

  it('reject unknown names and replacements of the wrong shape', () => {
    const model = tinyModel();
    expect(() => model.run(tokens, { hooks: { 'blocks.0.attn.hook_patern': () => {} } })).toThrow(/no hook point named 'blocks.0.attn.hook_patern'/);
    expect(() => model.run(tokens, { hooks: { 'blocks.0.hook_resid_post': (x) => x.sum(-1) } })).toThrow(
      /hook on 'blocks.0.hook_resid_post' returned shape \[4, 3\], expected \[4, 3, 8\]/,
    );
  });

  it('let gradients flow through a replacement', () => {
    const model = tinyModel();
    const scale = new Tensor(raw.tensor(2, { dtype: 'float64' }), true);
    const logits = model.run(tokens, { hooks: { 'blocks.0.hook_attn_out': (x) => x.mul(scale) } });
    logits.sum().backward();
    expect(scale.grad).not.toBeNull();
  });
});

describe('runWithCache', () => {
  it('returns every requested activation with TransformerLens shapes, detached', () => {
    const model = new HookedTransformer(paperConfig(113, { dtype: 'float64' }));
    const tokens = new Tensor(raw.tensor([[1, 2, 113], [5, 9, 113]], { dtype: 'int32' }));
    const { logits, cache } = model.runWithCache(tokens);
    expect(logits.shape).toEqual([2, 3, 113]);
    const shapes = Object.fromEntries([...cache].map(([n, t]) => [n, [...t.shape]]));
    expect(shapes).toEqual({
      hook_embed: [2, 3, 128],
      hook_pos_embed: [2, 3, 128],
      'blocks.0.hook_resid_pre': [2, 3, 128],
      'blocks.0.attn.hook_q': [2, 3, 4, 32],
      'blocks.0.attn.hook_k': [2, 3, 4, 32],
      'blocks.0.attn.hook_v': [2, 3, 4, 32],
      'blocks.0.attn.hook_attn_scores': [2, 4, 3, 3],
      'blocks.0.attn.hook_pattern': [2, 4, 3, 3],
      'blocks.0.attn.hook_z': [2, 3, 4, 32],
      'blocks.0.hook_attn_out': [2, 3, 128],
      'blocks.0.hook_resid_mid': [2, 3, 128],
      'blocks.0.mlp.hook_pre': [2, 3, 512],
      'blocks.0.mlp.hook_post': [2, 3, 512],
      'blocks.0.hook_mlp_out': [2, 3, 128],
      'blocks.0.hook_resid_post': [2, 3, 128],
    });
    for (const t of cache.values()) expect(t.requiresGrad).toBe(false);
    // The pattern is causal and each row sums to 1; resid_post unembeds to the logits.
    const pattern = cache.get('blocks.0.attn.hook_pattern')!.toArray() as number[][][][];
    expect(pattern[0]![0]![0]![1]).toBe(0);
    expect(pattern[1]![3]![1]!.reduce((a, b) => a + b)).toBeCloseTo(1, 12);
    const resid = cache.get('blocks.0.hook_resid_post')!;
    expect(maxAbsDiff(model.unembed.forward(resid), logits)).toBe(0);
    // resid_pre = embed + pos_embed
    expect(maxAbsDiff(cache.get('hook_embed')!.add(cache.get('hook_pos_embed')!), cache.get('blocks.0.hook_resid_pre')!)).toBe(0);
  });

  it('keeps only the requested names, and last-position shapes with lastPositionOnly', () => {
    const model = tinyModel();
    const names = ['blocks.0.attn.hook_q', 'blocks.0.attn.hook_k', 'blocks.0.attn.hook_pattern', 'blocks.0.mlp.hook_post'];
    const { logits, cache } = model.runWithCache(randomTokens(3, 3, 7), { names, lastPositionOnly: true });
    expect(logits.shape).toEqual([3, 5]);
    expect([...cache.keys()]).toEqual(names);
    expect(cache.get('blocks.0.attn.hook_q')!.shape).toEqual([3, 1, 2, 4]);
    expect(cache.get('blocks.0.attn.hook_k')!.shape).toEqual([3, 3, 2, 4]);
    expect(cache.get('blocks.0.attn.hook_pattern')!.shape).toEqual([3, 2, 1, 3]);
    expect(cache.get('blocks.0.mlp.hook_post')!.shape).toEqual([3, 1, 16]);
    expect(() => model.runWithCache(randomTokens(1, 3, 7), { names: ['hook_nope'] })).toThrow(/hook_nope/);
  });
});
