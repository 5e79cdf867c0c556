/**
 * One forward pass of a model over all p² pairs [a, b, =] (row a·p + b), read through hooks at the last
 * position (`=`): the logits of the p number classes, the MLP neurons after the activation, and the
 * attention pattern from `=`. Everything comes back as float64.
 */
import { noGrad, raw, type NDArray } from '@grok/autograd';
import { type HookedTransformer, type Hooks, normalizeHooks } from '@grok/transformer';
import { makeBatch } from '../data.js';

export interface AllPairs {
  p: number;
  /** [p*p, p]: logits of the classes 0 … p−1 at `=` (a model with d_vocab_out > p has its extra classes dropped). */
  logits: Float64Array;
  /** [p*p, d_mlp]: blocks.0.mlp.hook_post at `=` (null for an attention-only model or if not asked for). */
  neurons: Float64Array | null;
  dMlp: number;
  /** [p*p, n_heads, 3]: blocks.0.attn.hook_pattern from `=` to the positions a, b, = (null if not asked for). */
  pattern: Float64Array | null;
  nHeads: number;
}

const tokenCache = new Map<number, NDArray>();

/** [p*p, 3] int32 tokens of every pair in lexicographic order. */
export function allPairsTokens(p: number): NDArray {
  let t = tokenCache.get(p);
  if (!t) tokenCache.set(p, (t = makeBatch(p).tokens));
  return t;
}

/** Labels c = (a + b) mod p of row a·p + b. */
export const labelOf = (row: number, p: number) => (Math.floor(row / p) + (row % p)) % p;

/**
 * p of a model: its `=` token is the last input token, so p = d_vocab − 1 (the paper's 114 = 113 + 1).
 */
export function modulusOf(model: HookedTransformer): number {
  const p = model.cfg.d_vocab - 1;
  if (model.cfg.d_vocab_out < p) throw new Error(`model: d_vocab_out ${model.cfg.d_vocab_out} < p = ${p}: cannot read p classes`);
  if (model.cfg.n_ctx < 3) throw new Error(`model: n_ctx ${model.cfg.n_ctx} < 3: it cannot read [a, b, =]`);
  return p;
}

/** Runs the model on all p² pairs with optional extra hooks (ablations) and collects what is asked. */
export function runAllPairs(
  model: HookedTransformer,
  options: { hooks?: Hooks; neurons?: boolean; pattern?: boolean } = {},
): AllPairs {
  const p = modulusOf(model);
  const n = p * p;
  const hasMlp = !model.cfg.attn_only;
  const names: string[] = [];
  const postName = 'blocks.0.mlp.hook_post';
  const patternName = 'blocks.0.attn.hook_pattern';
  if (options.neurons && hasMlp) names.push(postName);
  if (options.pattern) names.push(patternName);
  return noGrad(() => {
    const { logits, cache } = model.runWithCache(allPairsTokens(p), { names, hooks: normalizeHooks(options.hooks), lastPositionOnly: true });
    const vocabOut = model.cfg.d_vocab_out;
    const out = new Float64Array(n * p); // [p*p, p]
    const src = logits.data; // [p*p, d_vocab_out]
    for (let r = 0; r < n; r++) for (let c = 0; c < p; c++) out[r * p + c] = src[r * vocabOut + c]!;
    const post = cache.get(postName);
    const pat = cache.get(patternName); // [p*p, H, 1, 3] (query at `=` only)
    return {
      p,
      logits: out,
      neurons: post ? Float64Array.from(post.data) : null, // [p*p, 1, d_mlp] → [p*p, d_mlp]
      dMlp: hasMlp ? model.cfg.d_mlp : 0,
      pattern: pat ? Float64Array.from(pat.data) : null,
      nHeads: model.cfg.n_heads,
    };
  });
}

/** A raw float32 tensor of `shape` holding `data` (hooks return these as replacements). */
export function rawFloat(data: Float64Array, shape: number[]): NDArray {
  return raw.tensor(Float32Array.from(data), { shape });
}
