/**
 * The two shortcuts compute the same function as the plain full pass:
 * - lastPositionOnly: the last position's logits (and the gradients of a loss on them);
 * - tokenTables: the first block's q, k, v and residual input by lookups in per-(position, token) tables;
 * - mlpTables: with token tables, the first block's attention output and MLP input as embedding bags of table rows;
 * - logitTables: with those, a one-block model's logits from tables too.
 * Compared in float64, values and gradients, to 1e-12.
 */
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
  ['1 layer, biases', { attn_bias: true, unembed_bias: true }],
  ['2 layers, no LN', { n_layers: 2 }],
  ['2 layers, LN, biases', { n_layers: 2, normalization_type: 'LN', attn_bias: true, unembed_bias: true }],
  ['attention only', { attn_only: true }],
])('%s', (_, cfg) => {
  const model = tinyModel({ ...cfg, d_model: 16, n_heads: 4, d_mlp: 32, n_ctx: 4 });
  const tokens = randomTokens(9, 4, 7, 5);
  const targets = new Tensor(raw.randint(0, 5, [9], { seed: 2 }));
  const reference = model.run(tokens, { tokenTables: false }); // [9, 4, 5]
  const lastOfFull = (t: Tensor) => t.narrow(1, 3, 1).reshape(9, 5);
  const refGrads = gradsOf(model, () => crossEntropy(lastOfFull(model.run(tokens, { tokenTables: false })), targets));

  it.each([
    [false, true, false, false],
    [true, false, false, false],
    [true, true, false, false],
    [true, true, 'auto', false],
    [false, true, 'auto', false],
    [true, true, 'auto', 'auto'],
    [false, true, 'auto', 'auto'],
  ] as const)('lastPositionOnly %s, tokenTables %s, mlpTables %s, logitTables %s: same values and gradients', (last, tables, mlpTables, logitTables) => {
    const run = () => model.run(tokens, { lastPositionOnly: last, tokenTables: tables, mlpTables, logitTables });
    const out = run();
    if (last) {
      expect(out.shape).toEqual([9, 5]);
      expect(maxAbsDiff(out, lastOfFull(reference))).toBeLessThan(1e-12);
    } else {
      expect(maxAbsDiff(out, reference)).toBeLessThan(1e-12);
    }
    const grads = gradsOf(model, () => crossEntropy(last ? run() : lastOfFull(run()), targets));
    for (const [name, g] of refGrads) {
      const h = grads.get(name)!;
      let m = 0;
      for (let i = 0; i < g.length; i++) m = Math.max(m, Math.abs(g[i]! - h[i]!));
      expect(m, name).toBeLessThan(1e-12);
    }
  });
});

describe('tokenTables', () => {
  it('is refused with hooks it cannot serve, and skipped by auto', () => {
    const model = tinyModel();
    const tokens = randomTokens(20, 3, 7);
    expect(() => model.run(tokens, { tokenTables: true, hooks: { 'blocks.0.attn.hook_k': () => {} } })).toThrow(
      /tokenTables cannot serve hooks on blocks.0.attn.hook_k/,
    );
    const { cache } = model.runWithCache(tokens, { names: ['blocks.0.attn.hook_k', 'hook_embed'] });
    expect(cache.get('blocks.0.attn.hook_k')!.shape).toEqual([20, 3, 2, 4]);
    // Hooks after q/k/v still work on the table path.
    const z = model.runWithCache(tokens, { names: ['blocks.0.attn.hook_z'], tokenTables: true }).cache.get('blocks.0.attn.hook_z')!;
    const zPlain = model.runWithCache(tokens, { names: ['blocks.0.attn.hook_z'], tokenTables: false }).cache.get('blocks.0.attn.hook_z')!;
    expect(maxAbsDiff(z, zPlain)).toBeLessThan(1e-12);
  });
});

describe('logitTables', () => {
  // d_model 16, d_mlp 32, d_vocab_out 5: the bags' widths tell the two table shortcuts apart.
  const cfg = { d_model: 16, n_heads: 4, d_mlp: 32, n_ctx: 3 };
  const model = tinyModel(cfg);
  const tokens = randomTokens(20, 3, 7);
  const run = (options: Parameters<HookedTransformer['run']>[1]) => model.run(tokens, { lastPositionOnly: true, ...options });

  it('auto forms a one-block model\'s logits from tables (bags of d_mlp and d_vocab_out columns), with mlpTables', () => {
    expect(bagWidths(run({}))).toEqual([5, 32]);
    expect(bagWidths(model.run(tokens))).toEqual([5, 32]); // every position
    expect(bagWidths(run({ logitTables: false }))).toEqual([16, 32]); // attention output and MLP input only
    expect(bagWidths(run({ mlpTables: false }))).toEqual([]);
    expect(bagWidths(tinyModel({ ...cfg, n_layers: 2 }).run(tokens, { lastPositionOnly: true }))).toEqual([16, 32]);
  });

  it('steps aside for hooks on what it skips, serves hooks on the MLP\'s activations, and refuses when forced', () => {
    const mlpOut = { 'blocks.0.hook_mlp_out': (x: Tensor) => x.mul(2) };
    const hooked = run({ hooks: mlpOut });
    expect(bagWidths(hooked)).toEqual([16, 32]);
    expect(maxAbsDiff(hooked, run({ hooks: mlpOut, tokenTables: false }))).toBeLessThan(1e-12);
    const post = { 'blocks.0.mlp.hook_post': (x: Tensor) => x.mul(0.5) }; // formed by the shortcut: served
    expect(bagWidths(run({ hooks: post }))).toEqual([5, 32]);
    expect(maxAbsDiff(run({ hooks: post }), run({ hooks: post, tokenTables: false }))).toBeLessThan(1e-12);
    expect(() => run({ logitTables: true, hooks: { 'blocks.0.hook_resid_post': () => {} } })).toThrow(
      /logitTables cannot be used here: hooks on blocks.0.hook_resid_post would not reach the logits/,
    );
    expect(() => run({ logitTables: true, mlpTables: false })).toThrow(/logitTables cannot be used here: it needs the MLP tables/);
    expect(() => run({ logitTables: true, tokenTables: false })).toThrow(/logitTables cannot be used here: it needs the MLP tables/);
    const twoBlocks = tinyModel({ ...cfg, n_layers: 2 });
    expect(() => twoBlocks.run(tokens, { logitTables: true })).toThrow(/logitTables cannot be used here: the model has more than one block/);
  });
});

/** Every tensor of the graph that produced `t` (t included). */
function graphOf(t: Tensor): Tensor[] {
  const seen = new Set<Tensor>();
  const stack = [t];
  while (stack.length) {
    const x = stack.pop()!;
    if (seen.has(x)) continue;
    seen.add(x);
    stack.push(...(x.node?.parents ?? []));
  }
  return [...seen];
}

/** The column counts of the embedding bags in the graph that produced `t`, sorted. */
const bagWidths = (t: Tensor): number[] =>
  graphOf(t).filter((x) => x.node?.op === 'embeddingBag').map((x) => x.shape[1]!).sort((a, b) => a - b);

/** Whether an op of this name is in the graph that produced `t`. */
const graphHas = (t: Tensor, op: string): boolean => graphOf(t).some((x) => x.node?.op === op);

describe('mlpTables', () => {
  const model = tinyModel({ d_model: 16, n_heads: 4, d_mlp: 32, n_ctx: 3 });
  const tokens = randomTokens(20, 3, 7);
  const run = (options: Parameters<HookedTransformer['run']>[1]) => model.run(tokens, { lastPositionOnly: true, ...options });

  it('auto takes the embedding bag with token tables, at the last position or all of them, and not otherwise', () => {
    expect(graphHas(run({}), 'embeddingBag')).toBe(true);
    expect(graphHas(model.run(tokens), 'embeddingBag')).toBe(true);
    expect(graphHas(run({ mlpTables: false }), 'embeddingBag')).toBe(false);
    expect(graphHas(run({ tokenTables: false }), 'embeddingBag')).toBe(false);
    expect(graphHas(model.run(randomTokens(5, 3, 7)), 'embeddingBag')).toBe(false); // batch ≤ d_vocab: no token tables
  });

  it('steps aside for hooks that would not reach the MLP, and refuses them when forced', () => {
    const pattern = { 'blocks.0.attn.hook_pattern': (x: Tensor) => x.mul(0.5) }; // changes what the MLP sees
    const hooked = run({ hooks: pattern });
    expect(graphHas(hooked, 'embeddingBag')).toBe(false);
    expect(maxAbsDiff(hooked, run({ hooks: pattern, tokenTables: false }))).toBeLessThan(1e-12);
    expect(() => run({ mlpTables: true, hooks: { 'blocks.0.hook_resid_mid': () => {} } })).toThrow(
      /mlpTables cannot be used here: hooks on blocks.0.hook_resid_mid would not reach the MLP/,
    );
    // A hook on the MLP's own pre-activation is served: the shortcut forms it.
    const { cache } = model.runWithCache(tokens, { lastPositionOnly: true, names: ['blocks.0.mlp.hook_pre'] });
    const plain = model.runWithCache(tokens, { lastPositionOnly: true, names: ['blocks.0.mlp.hook_pre'], mlpTables: false });
    expect(cache.get('blocks.0.mlp.hook_pre')!.shape).toEqual([20, 1, 32]);
    expect(maxAbsDiff(cache.get('blocks.0.mlp.hook_pre')!, plain.cache.get('blocks.0.mlp.hook_pre')!)).toBeLessThan(1e-12);
  });

  it('is refused where the MLP has a LayerNorm before it', () => {
    const ln = tinyModel({ d_model: 16, n_heads: 4, d_mlp: 32, n_ctx: 3, normalization_type: 'LN' });
    expect(() => ln.run(tokens, { lastPositionOnly: true, mlpTables: true })).toThrow(/a LayerNorm comes before the MLP/);
  });
});
