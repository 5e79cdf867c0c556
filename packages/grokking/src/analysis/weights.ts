/**
 * Measures on the weights alone: the Fourier norms of the embedding W_E and of the neuron-logit map
 * W_L, and their Gini coefficients. (The sum of squared weights is evaluate.ts's sumOfSquares.)
 */
import type { HookedTransformer } from '@grok/transformer';
import { frequencyNorms, matrix, rowNorms, type Matrix } from './fourier.js';
import { realFourierColumns } from './dft.js';
import { gini } from './gini.js';

export interface FourierNorms {
  /** [p]: ‖(B·W)[i, :]‖ for each basis row i (const, cos 1, sin 1, …). */
  componentNorms: Float64Array;
  /** [⌊p/2⌋ + 1]: entry 0 the constant, entry k = √(‖cos k‖² + ‖sin k‖²). */
  frequencyNorms: Float64Array;
  /** Gini of componentNorms (N = p). */
  gini: number;
}

function normsOf(M: Matrix): FourierNorms {
  const componentNorms = rowNorms(realFourierColumns(M)); // B·M (fourier1d's numbers, through fft.js): [p, channels] → norms [p]
  return { componentNorms, frequencyNorms: frequencyNorms(componentNorms), gini: gini(componentNorms) };
}

/** W_E[:p] [p, d_model] (the number tokens; the `=` row is left out) in float64. */
export function embeddingMatrix(model: HookedTransformer, p: number): Matrix {
  const W = model.embed.W_E.data; // [d_vocab, d_model]
  const d = model.cfg.d_model;
  return matrix(p, d, Float64Array.from(W.subarray(0, p * d)));
}

/**
 * W_L = W_U[:, :p]ᵀ · W_outᵀ   [p, d_mlp]:  W_L[c, n] = Σ_d W_out[n, d] · W_U[d, c]
 * (how much neuron n adds to the logit of class c). Null for an attention-only model.
 */
export function neuronLogitMap(model: HookedTransformer, p: number): Matrix | null {
  const mlp = model.blocks.items[0]!.mlp;
  if (!mlp) return null;
  const { d_model, d_mlp, d_vocab_out } = model.cfg;
  const Wout = mlp.W_out.data; // [d_mlp, d_model]
  const WU = model.unembed.W_U.data; // [d_model, d_vocab_out]
  const out = matrix(p, d_mlp);
  for (let c = 0; c < p; c++) {
    for (let n = 0; n < d_mlp; n++) {
      let s = 0;
      for (let d = 0; d < d_model; d++) s += Wout[n * d_model + d]! * WU[d * d_vocab_out + c]!;
      out.data[c * d_mlp + n] = s;
    }
  }
  return out;
}

/** Fourier norms of W_E over the token axis. */
export function embeddingFourierNorms(model: HookedTransformer, p: number): FourierNorms {
  return normsOf(embeddingMatrix(model, p));
}

/** Fourier norms of W_L over the output class c (null for an attention-only model). */
export function neuronLogitFourierNorms(model: HookedTransformer, p: number): FourierNorms | null {
  const WL = neuronLogitMap(model, p);
  return WL && normsOf(WL);
}
