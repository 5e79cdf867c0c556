/**
 * The model's attention takes the fused op (attentionShortContext) for short contexts and the op-by-op path
 * when a hook wants the scores or the pattern. Both give the same logits and gradients, bit for bit, in
 * float32 and float64, with and without the shortcuts; hook_z sees z either way. And a compiled float32
 * step (the fused kernels in wasm) replays the eager steps bit for bit, with the causal mask.
 */
import { describe, expect, it } from 'vitest';
import { AdamW, Tensor, compileStep, crossEntropy, raw } from '@grok/autograd';
import type { HookedTransformer, Hooks } from '@grok/transformer';
import { randomTokens, tinyModel } from './helpers.js';

/** A hook that only looks: it makes the model take the op-by-op path for block 0's attention. */
const watchPattern = (seen: string[]): Hooks => [{ name: 'blocks.0.attn.hook_pattern', fn: (_x, name) => void seen.push(name) }];

function lossAndGrads(model: HookedTransformer, tokens: Tensor, targets: Tensor, options: Parameters<HookedTransformer['run']>[1]) {
  model.zeroGrad();
  const logits = model.run(tokens, options);
  const last = options?.lastPositionOnly ? logits : logits.narrow(1, tokens.shape[1]! - 1, 1).reshape(tokens.shape[0]!, -1);
  const loss = crossEntropy(last, targets);
  loss.backward();
  return { logits: Array.from(logits.data), grads: [...model.namedParameters()].map(([n, p]): [string, number[]] => [n, Array.from(p.grad!.data)]) };
}

describe.each(['float32', 'float64'] as const)('%s', (dtype) => {
  const model = tinyModel({ dtype, d_model: 16, n_heads: 4, d_head: 8, d_mlp: 32, n_ctx: 3, seed: 9 });
  const tokens = randomTokens(11, 3, 7, 4);
  const targets = new Tensor(raw.randint(0, 5, [11], { seed: 5 }));

  it.each([
    [false, false],
    [true, false],
    [true, true],
    [false, true],
  ])('lastPositionOnly %s, tokenTables %s: fused and op-by-op attention agree bit for bit', (last, tables) => {
    const options = { lastPositionOnly: last, tokenTables: tables, mlpTables: false }; // the MLP tables take the op-by-op path
    const seen: string[] = [];
    const byOps = lossAndGrads(model, tokens, targets, { ...options, hooks: watchPattern(seen) });
    expect(seen).toEqual(['blocks.0.attn.hook_pattern']); // the op-by-op path ran
    const fused = lossAndGrads(model, tokens, targets, options);
    expect(fused).toEqual(byOps);
    expect(fused.grads.find(([n]) => n === 'blocks.0.attn.W_Q')![1]!.some((g) => g !== 0)).toBe(true);
  });

  it('hook_z sees z on the fused path, and a replaced z changes the output', () => {
    const zs: Tensor[] = [];
    const plain = model.run(tokens, { hooks: [{ name: 'blocks.0.attn.hook_z', fn: (z) => void zs.push(z) }] });
    expect(zs[0]!.shape).toEqual([11, 3, 4, 8]);
    const { cache } = model.runWithCache(tokens);
    expect(Array.from(zs[0]!.data)).toEqual(Array.from(cache.get('blocks.0.attn.hook_z')!.data));
    const zeroed = model.run(tokens, { hooks: { 'blocks.0.attn.hook_z': (z) => z.mul(0) } });
    expect(Array.from(zeroed.data)).not.toEqual(Array.from(plain.data));
  });
});

describe('a compiled step with fused causal attention', () => {
  it.each([false, true])('lastPositionOnly %s: 5 AdamW steps replayed equal 5 eager steps bit for bit', (last) => {
    const tokens = randomTokens(40, 3, 7, 6);
    const targets = new Tensor(raw.randint(0, 5, [40], { seed: 7 }));
    const learner = () => {
      const model = tinyModel({ dtype: 'float32', d_model: 16, n_heads: 4, d_head: 8, d_mlp: 32, n_ctx: 3, seed: 10 });
      return { model, optimizer: new AdamW(model.parameters(), { lr: 1e-2 }) };
    };
    const stepOf = (model: HookedTransformer) => () => {
      const logits = model.run(tokens, { lastPositionOnly: last, tokenTables: false });
      const loss = crossEntropy(last ? logits : logits.narrow(1, 2, 1).reshape(40, -1), targets);
      loss.backward();
      return loss;
    };
    const train = (l: ReturnType<typeof learner>, step: () => Tensor) =>
      Array.from({ length: 5 }, () => {
        const loss = step().item();
        l.optimizer.step();
        l.optimizer.zeroGrad();
        return loss;
      });
    const [eager, compiled] = [learner(), learner()];
    const step = compileStep(stepOf(compiled.model));
    const a = train(eager, stepOf(eager.model));
    expect(train(compiled, step)).toEqual(a);
    expect(step.mode).toBe('replay');
    expect(a[4]!).toBeLessThan(a[0]!);
    const pa = eager.model.parameters();
    compiled.model.parameters().forEach((p, i) => expect(Array.from(p.data)).toEqual(Array.from(pa[i]!.data)));
    const labels = step.profile()!.map((k) => k.label.split(' [')[0]);
    expect(labels).toContain('attention'); // the fused op is on the tape
    expect(labels).toContain('attention backward');
  });
});
