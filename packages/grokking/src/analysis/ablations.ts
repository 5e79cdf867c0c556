/**
 * Ablations, every one through the model's hook points (no special code paths): a hook replaces an
 * activation of the run over all p² pairs, and the loss is read on the train and test pairs.
 *
 * Logit ablations act on blocks.0.hook_resid_post, the residual stream at `=`. The logits are
 * resid · W_U + b_U, linear in resid, and a projection P over the p² inputs (per channel) whose directions
 * are orthogonal to the constant gives P·logits = (P·resid)·W_U (since P·1 = 0 kills the bias). So replacing
 * resid by resid − P·resid removes exactly P·logits, and mean(resid) + P·resid leaves exactly
 * mean(logits) + P·logits: the same numbers as the excluded and restricted logits, through a hook.
 */
import type { Tensor } from '@grok/autograd';
import type { HookedTransformer, Hooks } from '@grok/transformer';
import type { Split } from '../data.js';
import { rawFloat, runAllPairs } from './activations.js';
import { fitAttention } from './attention.js';
import { cosRow, fourier1d, sinRow, type Matrix } from './fourier.js';
import { crossEntropyOnRows } from './losses.js';
import { keepSumFrequencies, removeSumFrequencies } from './logits.js';
import { type NeuronCluster, quadraticFit } from './neurons.js';
import type { AblationResult, LossSummary } from './types.js';
import { neuronLogitMap } from './weights.js';

const RESID_POST = 'blocks.0.hook_resid_post';
const POST = 'blocks.0.mlp.hook_post';
const PATTERN = 'blocks.0.attn.hook_pattern';

/** Loss and accuracy over the split of the model run with `hooks`. */
export function lossesWith(model: HookedTransformer, split: Split, hooks?: Hooks): LossSummary {
  const { logits, p } = runAllPairs(model, { hooks });
  const train = crossEntropyOnRows(logits, p, split.train);
  const test = crossEntropyOnRows(logits, p, split.test);
  return {
    trainLoss: train.loss,
    testLoss: test.loss,
    loss: crossEntropyOnRows(logits, p).loss,
    trainAccuracy: train.accuracy,
    testAccuracy: test.accuracy,
  };
}

/** A hook that maps an activation [p*p, …, m] (read as [p*p, m]) through `f`. */
function mapping(f: (x: Float64Array, m: number) => Float64Array) {
  return (t: Tensor) => {
    const shape = [...t.shape];
    const m = shape.at(-1)!;
    return rawFloat(f(Float64Array.from(t.data), m), shape);
  };
}

/** Orthonormal basis (Gram–Schmidt) of the rows 2k−1, 2k (k key) of B·W_L: directions in neuron space. [r, d_mlp] */
export function keyNeuronLogitDirections(WL: Matrix, frequencies: readonly number[]): Float64Array[] {
  const F = fourier1d(WL); // [p, d_mlp]
  const d = WL.cols;
  const out: Float64Array[] = [];
  for (const k of frequencies) {
    for (const row of [cosRow(k), sinRow(k)]) {
      const v = Float64Array.from(F.data.subarray(row * d, (row + 1) * d));
      const before = Math.hypot(...v);
      for (const u of out) {
        let dot = 0;
        for (let n = 0; n < d; n++) dot += u[n]! * v[n]!;
        for (let n = 0; n < d; n++) v[n]! -= dot * u[n]!;
      }
      const norm = Math.hypot(...v);
      if (!(norm > 1e-9 * (before + 1e-300))) continue; // dependent on earlier directions
      for (let n = 0; n < d; n++) v[n]! /= norm;
      out.push(v);
    }
  }
  return out;
}

/** x [rows, d] → its projection onto span(U) (keep) or off it (remove), row by row. */
function projectRows(x: Float64Array, d: number, U: Float64Array[], keep: boolean): Float64Array {
  const out = keep ? new Float64Array(x.length) : Float64Array.from(x);
  for (let r = 0; r < x.length / d; r++) {
    const o = r * d;
    for (const u of U) {
      let dot = 0;
      for (let n = 0; n < d; n++) dot += u[n]! * x[o + n]!;
      const sign = keep ? dot : -dot;
      for (let n = 0; n < d; n++) out[o + n]! += sign * u[n]!;
    }
  }
  return out;
}

export interface AblationInputs {
  model: HookedTransformer;
  split: Split;
  p: number;
  keyFrequencies: readonly number[];
  clusters: readonly NeuronCluster[];
  /** The model's own losses (computed once, shared by every row). */
  before: LossSummary;
}

/** The ablation table of a checkpoint. */
export function runAblations(inputs: AblationInputs): AblationResult[] {
  const { model, split, p, keyFrequencies: keys, clusters, before } = inputs;
  const rows: AblationResult[] = [];
  const add = (name: string, description: string, hooks: Hooks) => {
    const after = lossesWith(model, split, hooks);
    rows.push({
      name,
      description,
      hooks: Array.isArray(hooks) ? hooks.map((h) => String(h.name)) : Object.keys(hooks),
      trainLossBefore: before.trainLoss,
      trainLossAfter: after.trainLoss,
      testLossBefore: before.testLoss,
      testLossAfter: after.testLoss,
      trainAccuracyAfter: after.trainAccuracy,
      testAccuracyAfter: after.testAccuracy,
    });
  };

  add(
    'remove-key-frequencies-from-logits',
    'resid_post ← resid_post − P·resid_post, P = projection (over the p² inputs) onto cos/sin(ω_k(a+b)) of the key frequencies: the logits lose exactly those components',
    { [RESID_POST]: mapping((x, m) => removeSumFrequencies(x, p, m, keys)) },
  );
  add(
    'keep-only-key-frequencies-in-logits',
    'resid_post ← mean(resid_post) + P·resid_post: the logits keep only their mean and the key frequencies\' cos/sin(ω_k(a+b)) components',
    { [RESID_POST]: mapping((x, m) => keepSumFrequencies(x, p, m, keys)) },
  );
  if (!model.cfg.attn_only) {
    add(
      'replace-clustered-neurons-by-quadratic-fit',
      'each clustered neuron (in cluster k) ← its least-squares fit in span{1, cos ω_k a, sin ω_k a, cos ω_k b, sin ω_k b, and their 4 products}',
      {
        [POST]: mapping((x, d) => {
          const out = Float64Array.from(x);
          for (const cluster of clusters) {
            for (const n of cluster.neurons) {
              const fit = quadraticFit(x, p, d, n, cluster.frequency);
              for (let r = 0; r < p * p; r++) out[r * d + n] = fit[r]!;
            }
          }
          return out;
        }),
      },
    );
  }
  add(
    'replace-attention-by-fitted-form',
    'the attention pattern from = (every head, every key position) ← its projection onto the 2D Fourier terms {const, cos k, sin k : k key}² over (a, b)',
    { [PATTERN]: mapping((x) => fitAttention(x, p, model.cfg.n_heads, keys)) }, // [p*p, H, 1, 3] is [p*p, H, 3] in memory
  );
  const WL = neuronLogitMap(model, p);
  if (WL) {
    const U = keyNeuronLogitDirections(WL, keys);
    add(
      'project-neurons-onto-key-WL-directions',
      'the MLP neurons at = ← their projection onto the span of the W_L Fourier rows cos k, sin k of the key frequencies (directions in neuron space that write those frequencies into the logits)',
      { [POST]: mapping((x, d) => projectRows(x, d, U, true)) },
    );
    add(
      'project-neurons-off-key-WL-directions',
      'the MLP neurons at = ← minus their projection onto that span',
      { [POST]: mapping((x, d) => projectRows(x, d, U, false)) },
    );
  }
  return rows;
}
