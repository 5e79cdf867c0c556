/**
 * Distilling a trained model into its circuit (Nanda et al. 2023: the model computes the logits from a few
 * key frequencies k, through neurons that each read one frequency, via cos(ω_k(a+b−c))).
 *
 * A variant keeps only some of the model, and we measure its loss and count its parameters:
 *  - prune neurons: neurons outside the kept set are mean-ablated — replaced by their mean activation over
 *    the training pairs, which folds into the class bias — so they cost nothing (W_in, b_in and W_L of a pruned
 *    neuron are gone; the bias was counted already);
 *  - embedding → key frequencies: W_E[:p] is projected over the token axis onto the constant and the
 *    cos/sin of the kept frequencies, so it is (1 + 2·#freq) Fourier coefficient rows instead of p rows;
 *  - W_L → key frequencies: the neuron → logit map W_L = W_out·W_U [d_mlp → p classes] is projected over the
 *    class axis the same way: each kept neuron writes 1 + 2·#freq numbers instead of d_model;
 *  - no direct path: the logits come from the neurons alone (the residual stream before the MLP, which
 *    reaches the logits through W_U, is dropped).
 * The logits are assembled from activations read through hooks (the model itself is run unchanged apart from
 * the embedding edit):  logits = [resid_mid · W_U + b_U]_direct + b_out · W_U + post_kept · W_L'_kept + mean(post_pruned) · W_L'_pruned.
 * With nothing dropped this is exactly the model's own logits (a test checks it).
 */
import { type NDArray, copyInPlace, raw } from '@grok/autograd';
import { type HookedTransformer, loadModelFromCheckpoint } from '@grok/transformer';
import { runAllPairs } from '../analysis/activations.js';
import { fourierBasis } from '../analysis/fourier.js';
import { neuronLogitMap } from '../analysis/weights.js';
import { crossEntropyOnRows } from '../analysis/losses.js';
import type { Split } from '../data.js';

export interface Variant {
  name: string;
  /** Frequencies the variant keeps (for the embedding and W_L projections). */
  frequencies: number[];
  /** Neurons kept (null: all). */
  neurons: number[] | null;
  projectEmbedding: boolean;
  restrictWL: boolean;
  dropDirect: boolean;
}

export interface VariantResult {
  name: string;
  frequencies: number[];
  neuronsKept: number;
  parameters: number;
  trainLoss: number;
  testLoss: number;
  trainAccuracy: number;
  testAccuracy: number;
}

/** Rows of the Fourier basis B [p, p] spanning the constant and cos/sin of `frequencies`. */
function basisRows(p: number, frequencies: readonly number[]): Float64Array[] {
  const B = fourierBasis(p);
  const rows = [0, ...frequencies.flatMap((k) => [2 * k - 1, 2 * k])];
  return rows.map((i) => B.data.subarray(i * p, (i + 1) * p));
}

/** M [p, cols] (index 0 over Z_p) → its projection onto span(rows): Σ_r r (rᵀ M). */
export function projectAxis0(M: Float64Array, p: number, cols: number, rows: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(p * cols);
  const coef = new Float64Array(cols);
  for (const r of rows) {
    coef.fill(0);
    for (let x = 0; x < p; x++) for (let j = 0; j < cols; j++) coef[j]! += r[x]! * M[x * cols + j]!;
    for (let x = 0; x < p; x++) for (let j = 0; j < cols; j++) out[x * cols + j]! += r[x]! * coef[j]!;
  }
  return out;
}

const f64 = (t: NDArray) => Float64Array.from(t.data);
const setValue = (model: HookedTransformer, name: string, data: Float64Array) => {
  const param = new Map(model.namedParameters()).get(name);
  if (!param) throw new Error(`distill: the model has no parameter ${name}`);
  copyInPlace(param.value, raw.tensor(data, { shape: [...param.shape], dtype: param.dtype }));
};

/** Loss, accuracy and parameter count of a variant of the checkpoint's model. */
export function evaluateVariant(checkpoint: string, split: Split, v: Variant): VariantResult {
  const { model } = loadModelFromCheckpoint(checkpoint); // a fresh copy: the edits stay in it
  const cfg = model.cfg;
  if (model.ln_final || cfg.n_layers !== 1 || cfg.attn_only) throw new Error('distill: needs a one-layer model with an MLP and no LayerNorm (the paper\'s)');
  const { d_model: d, d_mlp: m, d_vocab_out: vOut } = cfg;
  const p = cfg.d_vocab - 1;
  const mlp = model.blocks.items[0]!.mlp!;
  const rows = basisRows(p, v.frequencies);
  const kept = v.neurons ?? Array.from({ length: m }, (_, i) => i);
  const keep = new Uint8Array(m);
  for (const n of kept) keep[n] = 1;

  // Weight edit: the embedding projection (pruned neurons are handled in the logits below).
  if (v.projectEmbedding) {
    const WE = f64(model.embed.W_E.value); // [d_vocab, d]: rows 0…p−1 numbers, row p '='
    WE.set(projectAxis0(WE.subarray(0, p * d), p, d, rows), 0);
    setValue(model, 'embed.W_E', WE);
  }
  // Activations at '=' over all p² pairs.
  let residMid: Float64Array | null = null;
  const run = runAllPairs(model, {
    neurons: true,
    hooks: { 'blocks.0.hook_resid_mid': (t) => ((residMid = Float64Array.from(t.data)), t) },
  });
  const post = run.neurons!; // [p², m]
  const n = p * p;
  const WU = f64(model.unembed.W_U.value); // [d, vOut]
  const bU = model.unembed.b_U ? f64(model.unembed.b_U.value) : new Float64Array(vOut);
  const bout = f64(mlp.b_out.value);
  // W_L [p classes, m], optionally projected over the class axis.
  let WL = neuronLogitMap(model, p)!.data;
  if (v.restrictWL) WL = projectAxis0(WL, p, m, rows);
  // Class bias: b_U + b_out·W_U (always kept: p numbers).
  const bias = new Float64Array(p);
  for (let c = 0; c < p; c++) {
    let s = bU[c]!;
    for (let i = 0; i < d; i++) s += bout[i]! * WU[i * vOut + c]!;
    bias[c] = s;
  }
  // Pruned neurons are mean-ablated: each is replaced by its mean activation over the training pairs, a
  // constant that folds into the class bias (no new parameters; zeroing them would also shift every logit
  // by their mean contribution, which is not part of the computation they do).
  for (let k = 0; k < m; k++) {
    if (keep[k]) continue;
    let mean = 0;
    for (const r of split.train) mean += post[r * m + k]!;
    mean /= split.train.length;
    for (let c = 0; c < p; c++) bias[c]! += mean * WL[c * m + k]!;
  }
  const resid = residMid as Float64Array | null;
  if (!resid) throw new Error('distill: blocks.0.hook_resid_mid was not called');
  const residAtEq = resid.length === n * d ? resid : lastPosition(resid, n, d);
  const logits = new Float64Array(n * p);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < p; c++) {
      let s = bias[c]!;
      if (!v.dropDirect) for (let i = 0; i < d; i++) s += residAtEq[r * d + i]! * WU[i * vOut + c]!;
      for (const k of kept) s += post[r * m + k]! * WL[c * m + k]!;
      logits[r * p + c] = s;
    }
  }
  const train = crossEntropyOnRows(logits, p, split.train);
  const test = crossEntropyOnRows(logits, p, split.test);
  return {
    name: v.name,
    frequencies: [...v.frequencies],
    neuronsKept: kept.length,
    parameters: countParameters(model, v, kept.length),
    trainLoss: train.loss,
    testLoss: test.loss,
    trainAccuracy: train.accuracy,
    testAccuracy: test.accuracy,
  };
}

/**
 * How much each neuron writes into the logits: its RMS activation over all p² inputs times the norm of its
 * column of W_L = W_out·W_U (over the p classes, the mean over classes removed: a constant shift of every
 * logit changes no prediction). Neurons in descending order of that product come first.
 */
export function neuronsByImportance(checkpoint: string): { order: number[]; importance: Float64Array } {
  const { model } = loadModelFromCheckpoint(checkpoint);
  const m = model.cfg.d_mlp;
  const p = model.cfg.d_vocab - 1;
  const post = runAllPairs(model, { neurons: true }).neurons!; // [p², m]
  const WL = neuronLogitMap(model, p)!.data; // [p, m]
  const importance = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    let ms = 0;
    for (let r = 0; r < p * p; r++) ms += post[r * m + k]! ** 2;
    let mean = 0;
    for (let c = 0; c < p; c++) mean += WL[c * m + k]! / p;
    let norm = 0;
    for (let c = 0; c < p; c++) norm += (WL[c * m + k]! - mean) ** 2;
    importance[k] = Math.sqrt(ms / (p * p)) * Math.sqrt(norm);
  }
  const order = Array.from({ length: m }, (_, k) => k).sort((a, b) => importance[b]! - importance[a]! || a - b);
  return { order, importance };
}

/**
 * The fewest neurons (the most important first) with which `form` still gets 100 % test accuracy, by
 * bisection over the count (accuracy is assumed to grow with it; the neighbour below is measured too, so
 * the result says how sharp the edge is). Null when even all neurons fall short.
 */
export function fewestNeurons(
  checkpoint: string,
  split: Split,
  form: Omit<Variant, 'neurons' | 'name'> & { name: string },
  order: readonly number[],
): { best: VariantResult; below: VariantResult | null; evaluations: number } | null {
  let evaluations = 0;
  const at = (k: number) => {
    evaluations++;
    return evaluateVariant(checkpoint, split, { ...form, name: `${form.name}, top ${k} neurons`, neurons: order.slice(0, k) });
  };
  const all = at(order.length);
  if (all.testAccuracy < 1) return null;
  let lo = 0; // lo fails (0 neurons: treated as failing without a run), hi passes
  let hi = order.length;
  let best = all;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    const r = at(mid);
    if (r.testAccuracy === 1) {
      hi = mid;
      best = r;
    } else lo = mid;
  }
  const below = hi > 1 ? at(hi - 1) : null;
  return { best, below, evaluations };
}

/** resid_mid may cover every position ([n, 3, d]): take the last (the '=' token). */
function lastPosition(x: Float64Array, n: number, d: number): Float64Array {
  const pos = x.length / (n * d);
  const out = new Float64Array(n * d);
  for (let r = 0; r < n; r++) out.set(x.subarray((r * pos + pos - 1) * d, (r * pos + pos) * d), r * d);
  return out;
}

/**
 * Numbers a variant needs: the attention and positional embedding whole; the embedding as p rows or as
 * (1 + 2·#freq) Fourier rows (+ the '=' row); W_in and b_in of the kept neurons; the neuron → logit map
 * as W_out rows + W_U, or as (1 + 2·#freq) numbers per kept neuron; the class bias; W_U for the direct path.
 */
export function countParameters(model: HookedTransformer, v: Variant, neurons: number): number {
  const { d_model: d, d_vocab: vocab, d_vocab_out: vOut } = model.cfg;
  const p = vocab - 1;
  const size = (prefix: string) => [...model.namedParameters()].filter(([name]) => name.startsWith(prefix)).reduce((t, [, x]) => t + x.size, 0);
  const basis = 1 + 2 * v.frequencies.length;
  const embed = v.projectEmbedding ? (basis + 1) * d : vocab * d;
  const attention = size('blocks.0.attn.') + size('pos_embed.');
  const mlpIn = neurons * (d + 1);
  const unembed = vOut * d + (model.unembed.b_U?.size ?? 0); // W_U and b_U (if the model has one)
  const toLogits = v.restrictWL ? neurons * basis + p + (v.dropDirect ? 0 : unembed) : neurons * d + d + unembed;
  return embed + attention + mlpIn + toLogits;
}

/** The closed-form "Fourier multiplication" model: logits(a, b, c) = Σ_k α_k cos(ω_k(a + b − c)). */
export function fourierMultiplicationLoss(p: number, alphas: readonly { frequency: number; alpha: number }[], split: Split) {
  const logits = new Float64Array(p * p * p);
  for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) for (let c = 0; c < p; c++) {
    let s = 0;
    for (const { frequency: k, alpha } of alphas) s += alpha * Math.cos((2 * Math.PI * ((k * (a + b - c + p)) % p)) / p);
    logits[(a * p + b) * p + c] = s;
  }
  const train = crossEntropyOnRows(logits, p, split.train);
  const test = crossEntropyOnRows(logits, p, split.test);
  return { trainLoss: train.loss, testLoss: test.loss, trainAccuracy: train.accuracy, testAccuracy: test.accuracy, parameters: 2 * alphas.length };
}
