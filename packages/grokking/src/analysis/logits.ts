/**
 * The logits as functions of (a, b, c): projections onto the key frequencies' directions of a + b
 * (restricted and excluded loss), and the fit by Σ_k α_k cos(ω_k(a + b − c)).
 *
 * Every direction here depends on (a, b) only through s = (a + b) mod p, so sums over the p² pairs
 * collapse to sums over s:  M[s, c] = Σ_{a+b ≡ s} Y[a·p + b, c]  (one O(p²·m) pass), and the rest is
 * O(K·p·m). Nothing of size p³ beyond the logits themselves is formed.
 */
import { frequencyCount, omega, sumDirections } from './fourier.js';

/** M[s, c] = Σ_{a+b ≡ s (mod p)} Y[a·p + b, c]. Y: [p*p, m] → [p, m]. */
export function sumOverDiagonals(Y: Float64Array, p: number, m: number): Float64Array {
  const M = new Float64Array(p * m);
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < p; b++) {
      const s = (a + b) % p;
      const y = (a * p + b) * m;
      for (let c = 0; c < m; c++) M[s * m + c]! += Y[y + c]!;
    }
  }
  return M;
}

export interface SumProjection {
  /** [m]: mean of each column over the p² pairs. */
  mean: Float64Array;
  /** [p, m]: P·Y as a function of s: Σ_k (⟨d_cos,k, Y⟩ d_cos,k[s] + ⟨d_sin,k, Y⟩ d_sin,k[s]). */
  projection: Float64Array;
}

/**
 * Projects every column of Y [p*p, m] onto the unit directions cos(ω_k(a+b)) and sin(ω_k(a+b)) of the given
 * frequencies (orthonormal over the p² pairs, and orthogonal to the constant):
 *   coef_k[c] = ⟨d_k, Y[:, c]⟩ = Σ_s d_k[s] · M[s, c]
 *   (P·Y)[a·p + b, c] = Σ_k coef_k[c] · d_k[(a + b) mod p]
 */
export function projectOntoSumFrequencies(Y: Float64Array, p: number, m: number, frequencies: readonly number[]): SumProjection {
  const M = sumOverDiagonals(Y, p, m); // [p, m]
  const mean = new Float64Array(m);
  for (let s = 0; s < p; s++) for (let c = 0; c < m; c++) mean[c]! += M[s * m + c]! / (p * p);
  const projection = new Float64Array(p * m);
  const coef = new Float64Array(m);
  for (const k of frequencies) {
    const dirs = sumDirections(k, p);
    for (const d of [dirs.cos, dirs.sin]) {
      coef.fill(0);
      for (let s = 0; s < p; s++) for (let c = 0; c < m; c++) coef[c]! += d[s]! * M[s * m + c]!;
      for (let s = 0; s < p; s++) for (let c = 0; c < m; c++) projection[s * m + c]! += coef[c]! * d[s]!;
    }
  }
  return { mean, projection };
}

/** Restricted: mean + P·Y (keep only the key frequencies' directions of a + b, and the mean). [p*p, m] */
export function keepSumFrequencies(Y: Float64Array, p: number, m: number, frequencies: readonly number[]): Float64Array {
  const { mean, projection } = projectOntoSumFrequencies(Y, p, m, frequencies);
  const out = new Float64Array(p * p * m);
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < p; b++) {
      const s = (a + b) % p;
      const o = (a * p + b) * m;
      for (let c = 0; c < m; c++) out[o + c] = mean[c]! + projection[s * m + c]!;
    }
  }
  return out;
}

/** Excluded: Y − P·Y (remove the key frequencies' directions of a + b). [p*p, m] */
export function removeSumFrequencies(Y: Float64Array, p: number, m: number, frequencies: readonly number[]): Float64Array {
  const { projection } = projectOntoSumFrequencies(Y, p, m, frequencies);
  const out = new Float64Array(p * p * m);
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < p; b++) {
      const s = (a + b) % p;
      const o = (a * p + b) * m;
      for (let c = 0; c < m; c++) out[o + c] = Y[o + c]! - projection[s * m + c]!;
    }
  }
  return out;
}

export interface LogitFit {
  /** One α_k per frequency given. */
  alphas: { frequency: number; alpha: number; varianceExplained: number }[];
  /** Fraction of the (per-input centred) logit variance explained by Σ_k α_k cos(ω_k(a + b − c)). */
  varianceExplained: number;
}

/**
 * Least-squares fit of the logits L [p*p, p] by Σ_k α_k cos(ω_k(a + b − c)).
 * The logits are centred per input (a, b) first: softmax ignores a constant per input, and every regressor
 * is orthogonal to such constants (Σ_c cos(ω_k(s − c)) = 0). The regressors are mutually orthogonal over
 * Z_p³ with ‖φ_k‖² = p³/2, so least squares is one projection each:
 *   α_k = ⟨L, φ_k⟩ / (p³/2),   ⟨L, φ_k⟩ = Σ_{s,c} M[s, c] · cos(ω_k(s − c))
 *   explained = Σ_k α_k² · p³/2 / ‖L − rowmean(L)‖²
 */
export function fitLogits(L: Float64Array, p: number, frequencies: readonly number[]): LogitFit {
  const M = sumOverDiagonals(L, p, p); // [p, p]
  let centred = 0;
  for (let r = 0; r < p * p; r++) {
    let mean = 0;
    for (let c = 0; c < p; c++) mean += L[r * p + c]!;
    mean /= p;
    for (let c = 0; c < p; c++) centred += (L[r * p + c]! - mean) ** 2;
  }
  const norm2 = (p * p * p) / 2;
  const alphas = frequencies
    .filter((k) => k >= 1 && k <= frequencyCount(p))
    .map((k) => {
      let dot = 0;
      for (let s = 0; s < p; s++) for (let c = 0; c < p; c++) dot += M[s * p + c]! * Math.cos(omega((k * (((s - c) % p) + p)) % p, p));
      const alpha = dot / norm2;
      return { frequency: k, alpha, varianceExplained: centred > 0 ? (alpha * alpha * norm2) / centred : 0 };
    });
  return { alphas, varianceExplained: alphas.reduce((t, a) => t + a.varianceExplained, 0) };
}
