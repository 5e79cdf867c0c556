/**
 * The attention pattern from `=` as a function of (a, b), per head and key position: how periodic it is in
 * the key frequencies, and its fitted (periodic) form.
 *
 * For head h and key position q ∈ {a, b, =}, A[a, b] is the attention weight. With F = B·A·Bᵀ, the
 * "key-frequency terms" are F[i, j] with i, j ∈ R = {0} ∪ {2k−1, 2k : k key}, except (0, 0); periodicity is
 * their share of the centred energy:  Σ_{(i,j) ∈ R², ≠(0,0)} F[i,j]² / Σ_{(i,j) ≠ (0,0)} F[i,j]².
 * The fitted form keeps exactly the R² terms (the constant included), so each input's weights over the
 * three positions still sum to 1 (that sum is constant, which lies in the kept span).
 */
import { cosRow, fourier2d, inverseFourier2d, sinRow } from './fourier.js';

/** Rows of the basis kept for a set of frequencies: the constant and cos/sin of each. */
export function keptRows(frequencies: readonly number[]): Set<number> {
  return new Set([0, ...frequencies.flatMap((k) => [cosRow(k), sinRow(k)])]);
}

export interface AttentionPeriodicity {
  /** [n_heads]: periodicity of the attention from `=` to a (key position 0). */
  toA: number[];
  /** [n_heads]: the same for b (key position 1). */
  toB: number[];
  /** Mean of toA and toB over heads. */
  mean: number;
}

/** pattern: [p*p, H, 3] (from `=` to a, b, =). */
export function attentionPeriodicity(pattern: Float64Array, p: number, H: number, frequencies: readonly number[]): AttentionPeriodicity {
  const F = fourier2d(pattern, p, H * 3); // [p, p, H*3]
  const R = keptRows(frequencies);
  const share = (channel: number) => {
    let inKey = 0;
    let total = 0;
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) {
        if (i === 0 && j === 0) continue;
        const e = F[(i * p + j) * H * 3 + channel]! ** 2;
        total += e;
        if (R.has(i) && R.has(j)) inKey += e;
      }
    }
    // a constant pattern has no variance to explain (its non-constant terms are rounding noise only)
    const constant = F[channel]! ** 2;
    return total > 1e-20 * constant && total > 0 ? inKey / total : 0;
  };
  const toA = Array.from({ length: H }, (_, h) => share(h * 3 + 0));
  const toB = Array.from({ length: H }, (_, h) => share(h * 3 + 1));
  const all = [...toA, ...toB];
  return { toA, toB, mean: all.reduce((s, x) => s + x, 0) / all.length };
}

/** The fitted pattern: only the R² terms of every head and key position. [p*p, H, 3] → same shape. */
export function fitAttention(pattern: Float64Array, p: number, H: number, frequencies: readonly number[]): Float64Array {
  const channels = H * 3;
  const F = fourier2d(pattern, p, channels);
  const R = keptRows(frequencies);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) {
      if (R.has(i) && R.has(j)) continue;
      F.fill(0, (i * p + j) * channels, (i * p + j + 1) * channels);
    }
  }
  return inverseFourier2d(F, p, channels);
}
