/**
 * One forward pass of a model over all p² pairs [a, b, =] (row a·p + b), read through hooks at the last
 * position (`=`): the logits of the p number classes, the MLP neurons after the activation, and the
 * attention pattern from `=`. The logits and the pattern come back as float64; the neurons as computed.
 */
import { compileStep, noGrad, raw, type NDArray, type Tensor } from '@grok/autograd';
import { type HookedTransformer, type Hooks, normalizeHooks } from '@grok/transformer';
import { makeBatch } from '../data.js';

/** Activations as the model computed them (float32 for our models), or float64. */
export type FloatArray = Float32Array | Float64Array;

export interface AllPairs {
  p: number;
  /** [p*p, p]: logits of the classes 0 … p−1 at `=` (a model with d_vocab_out > p has its extra classes dropped). */
  logits: Float64Array;
  /**
   * [p*p, d_mlp]: blocks.0.mlp.hook_post at `=` (null for an attention-only model or if not asked for), in
   * the model's own dtype, not copied: 6.5M values at p = 113, read once by the neuron analysis.
   */
  neurons: FloatArray | null;
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
  const names = hookNames(model, options);
  return noGrad(() => {
    const { logits, cache } = model.runWithCache(allPairsTokens(p), { names, hooks: normalizeHooks(options.hooks), lastPositionOnly: true });
    return collect(model, p, { logits, post: cache.get(POST), pattern: cache.get(PATTERN) });
  });
}

/**
 * runAllPairs for many checkpoints loaded one after another into the same model (no hooks): the forward is
 * captured once (compileStep) and replayed on each call, the same kernels on the same memory, so the same
 * numbers bit for bit, without the allocations and the autograd graph of an eager pass (≈ half its time).
 * The weights must change in place between calls, as loadCheckpointInto does; the first call runs the
 * forward twice (the capture), so for one checkpoint runAllPairs is cheaper. Each result's `neurons` is
 * overwritten by the next call.
 */
export function allPairsReplay(model: HookedTransformer, options: { neurons?: boolean; pattern?: boolean } = {}): () => AllPairs {
  const p = modulusOf(model);
  const names = hookNames(model, options);
  const forward = compileStep(() =>
    noGrad(() => {
      const { logits, cache } = model.runWithCache(allPairsTokens(p), { names, lastPositionOnly: true });
      return { logits, post: cache.get(POST), pattern: cache.get(PATTERN) };
    }),
  );
  // The replayed tensors live in the tape's memory (shared wasm memory: its views survive growth). collect()
  // copies the logits and the pattern out; the neurons stay a view, valid until the next call.
  return () => collect(model, p, forward());
}

const POST = 'blocks.0.mlp.hook_post';
const PATTERN = 'blocks.0.attn.hook_pattern';

function hookNames(model: HookedTransformer, options: { neurons?: boolean; pattern?: boolean }): string[] {
  const names: string[] = [];
  if (options.neurons && !model.cfg.attn_only) names.push(POST);
  if (options.pattern) names.push(PATTERN);
  return names;
}

/** The forward's tensors → AllPairs: the logits and the pattern copied into float64, the neurons as they are. */
function collect(model: HookedTransformer, p: number, t: { logits: Tensor; post?: Tensor | undefined; pattern?: Tensor | undefined }): AllPairs {
  const n = p * p;
  const vocabOut = model.cfg.d_vocab_out;
  const out = new Float64Array(n * p); // [p*p, p]
  const src = t.logits.data; // [p*p, d_vocab_out]
  for (let r = 0; r < n; r++) for (let c = 0; c < p; c++) out[r * p + c] = src[r * vocabOut + c]!;
  return {
    p,
    logits: out,
    neurons: t.post ? (t.post.data as FloatArray) : null, // [p*p, 1, d_mlp] read as [p*p, d_mlp]
    dMlp: model.cfg.attn_only ? 0 : model.cfg.d_mlp,
    pattern: t.pattern ? Float64Array.from(t.pattern.data) : null, // [p*p, H, 1, 3] (query at `=` only)
    nHeads: model.cfg.n_heads,
  };
}

/** A raw float32 tensor of `shape` holding `data` (hooks return these as replacements). */
export function rawFloat(data: Float64Array, shape: number[]): NDArray {
  return raw.tensor(Float32Array.from(data), { shape });
}
