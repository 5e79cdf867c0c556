import { NDArray, Tensor, raw } from '@grok/autograd';
import { HookedTransformer, type TransformerConfigInput } from '@grok/transformer';

/** A tiny float64 model: small enough for finite differences, big enough to have every part. */
export const TINY: TransformerConfigInput = {
  n_layers: 1,
  d_model: 8,
  n_heads: 2,
  d_head: 4,
  d_mlp: 16,
  d_vocab: 7,
  d_vocab_out: 5,
  n_ctx: 3,
  act_fn: 'relu',
  dtype: 'float64',
  seed: 3,
};

export function tinyModel(overrides: Partial<TransformerConfigInput> = {}): HookedTransformer {
  return new HookedTransformer({ ...TINY, ...overrides });
}

/** Seeded random token ids [batch, pos] in [0, vocab). */
export function randomTokens(batch: number, pos: number, vocab: number, seed = 1): Tensor {
  return new Tensor(raw.randint(0, vocab, [batch, pos], { seed }));
}

export function maxAbsDiff(a: Tensor | NDArray, b: Tensor | NDArray): number {
  const x = a.data;
  const y = b.data;
  if (x.length !== y.length) throw new Error(`maxAbsDiff: sizes ${x.length} and ${y.length}`);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

/** The sample standard deviation of a tensor's elements. */
export function sampleStd(t: Tensor | NDArray): number {
  const d = t.data;
  let mean = 0;
  for (const v of d) mean += v;
  mean /= d.length;
  let s = 0;
  for (const v of d) s += (v - mean) ** 2;
  return Math.sqrt(s / (d.length - 1));
}
