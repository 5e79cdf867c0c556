/**
 * Which frequency explains each MLP neuron, the key frequencies, and the neuron clusters.
 *
 * A neuron's activation over the p² inputs, N[a, b] (at `=`), has the 2D Fourier transform F = B·N·Bᵀ.
 * Centring N only changes F[0, 0], so its centred energy is Σ_{(i,j) ≠ (0,0)} F[i, j]² (Parseval). For a
 * frequency k, the block {const, cos k, sin k}² holds 9 terms; the 8 non-constant ones are the neuron's
 * energy "in frequency k":
 *   fraction_k(n) = Σ_{(i,j) ∈ {0, 2k−1, 2k}² \ (0,0)} F[i, j]²  /  Σ_{(i,j) ≠ (0,0)} F[i, j]²
 * The neuron's best k maximises it; the paper calls a neuron clustered (in cluster k) when that maximum
 * exceeds 0.85.
 *
 * Two forms compute it: `neuronFrequenciesPlain` is the formula as written (the whole F of every neuron,
 * ≈ 2p³·d_mlp multiply-adds); `neuronFrequencies`, which the analysis runs, gets each frequency's 8 terms
 * from 4 sums of N along lines of the p × p grid (≈ 8p²·d_mlp operations): at p = 113, d_mlp = 512 it
 * takes ≈ 27 ms of CPU against ≈ 300 ms for the earlier form that computed only the needed entries of F, and
 * seconds for the plain one. A test checks they agree.
 */
import { cosRow, fourier2d, fourierBasis, frequencyCount, matrix, sinRow } from './fourier.js';
import { realFourierColumns } from './dft.js';
import type { FloatArray } from './activations.js';

export interface NeuronFrequencies {
  p: number;
  dMlp: number;
  /** [d_mlp, K + 1] with K = ⌊(p−1)/2⌋: fraction_k of neuron n at n·(K+1) + k (entry k = 0 is unused, 0). */
  fractions: Float64Array;
  /** [d_mlp]: the k maximising fraction_k (0 for a dead neuron, whose centred energy is 0). */
  bestFrequency: Int32Array;
  /** [d_mlp]: that maximum. */
  bestFraction: Float64Array;
  /** [d_mlp]: centred energy Σ (N − mean N)², the denominator. */
  totalEnergy: Float64Array;
}

/** The readable form: F = B·N·Bᵀ for every neuron, then the sums of the header. neurons: [p*p, d], row a·p + b. */
export function neuronFrequenciesPlain(neurons: FloatArray, p: number, d: number): NeuronFrequencies {
  checkSize(neurons, p, d);
  const K = frequencyCount(p);
  const F = fourier2d(Float64Array.from(neurons), p, d); // [p, p, d]: F[i, j, n]
  const square = (i: number, j: number, n: number) => F[(i * p + j) * d + n]! ** 2;
  const sumSq = new Float64Array(d); // Σ_(i,j) F² = Σ N² (Parseval)
  const totalEnergy = new Float64Array(d); // Σ_(i,j)≠(0,0) F²: the centred energy
  const energy = Array.from({ length: K + 1 }, () => new Float64Array(d)); // energy[k][n]
  for (let n = 0; n < d; n++) {
    for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) sumSq[n]! += square(i, j, n);
    totalEnergy[n] = Math.max(0, sumSq[n]! - square(0, 0, n));
    for (let k = 1; k <= K; k++) {
      const block = [0, cosRow(k), sinRow(k)];
      for (const i of block) for (const j of block) if (i !== 0 || j !== 0) energy[k]![n]! += square(i, j, n);
    }
  }
  return summarise(p, d, energy, totalEnergy, sumSq);
}

/**
 * The fast form, which the analysis runs: no 2D transform at all. The 8 block terms of frequency k are the
 * complex 2D DFT X[k₁, k₂] = Σ_{a,b} N[a, b]·e^{−iω(k₁a + k₂b)} at the 8 points (±k, 0), (0, ±k), (±k, ±k),
 * in conjugate pairs, so (Parseval) they sum to (2/p²)·(|X[k, 0]|² + |X[0, k]|² + |X[k, k]|² + |X[k, −k]|²).
 * Each of those 4 is a 1D DFT of N summed along lines:
 *   X[k, 0]  = DFT(r)[k],   r[a] = Σ_b N[a, b]              the rows
 *   X[0, k]  = DFT(c)[k],   c[b] = Σ_a N[a, b]              the columns
 *   X[k, k]  = DFT(u)[k],   u[s] = Σ_{a+b ≡ s} N[a, b]       the diagonals of a + b
 *   X[k, −k] = DFT(v)[k],   v[t] = Σ_{a−b ≡ t} N[a, b]       the diagonals of a − b
 * and in the real basis |DFT(f)[k]|² = (p/2)·((B·f)[2k−1]² + (B·f)[2k]²), so
 *   energy_k(n) = (1/p) · Σ_{f ∈ r, c, u, v} ((B·f)[2k−1, n]² + (B·f)[2k, n]²)
 * The line sums are 4·p²·d additions and the transform one B·[p, 4d] (dft.ts: fft.js measured faster than
 * the basis product here): ≈ 8p²·d operations against the plain form's 2p³·d.
 */
export function neuronFrequencies(neurons: FloatArray, p: number, d: number): NeuronFrequencies {
  checkSize(neurons, p, d);
  const K = frequencyCount(p);
  const lines = lineSums(neurons, p, d); // [p, 4d]: r | c | u | v
  const BL = realFourierColumns(matrix(p, 4 * d, lines.sums)).data; // B·[r | c | u | v] through fft.js   [p, 4d]
  const energy = Array.from({ length: K + 1 }, () => new Float64Array(d)); // energy[k][n]
  for (let k = 1; k <= K; k++) {
    const e = energy[k]!;
    for (const row of [cosRow(k), sinRow(k)]) {
      const o = row * 4 * d;
      for (let f = 0; f < 4 * d; f++) e[f % d]! += BL[o + f]! ** 2 / p;
    }
  }
  const totalEnergy = new Float64Array(d); // Σ x² − (Σ x)²/p²: the centred energy
  for (let n = 0; n < d; n++) totalEnergy[n] = Math.max(0, lines.sumSq[n]! - lines.sum[n]! ** 2 / (p * p));
  return summarise(p, d, energy, totalEnergy, lines.sumSq);
}

/**
 * The sums of each neuron along the 4 families of lines of the p × p grid, in one pass over N [p*p, d]:
 * sums [p, 4d] holds r[a] at (a, n), c[b] at (b, d + n), u[s] at (s, 2d + n), v[t] at (t, 3d + n); with
 * Σ x and Σ x² per neuron [d].
 */
export function lineSums(neurons: FloatArray, p: number, d: number): { sums: Float64Array; sum: Float64Array; sumSq: Float64Array } {
  checkSize(neurons, p, d);
  const m = 4 * d;
  const sums = new Float64Array(p * m);
  const sumSq = new Float64Array(d);
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < p; b++) {
      const x = (a * p + b) * d;
      const r = a * m;
      const c = b * m + d;
      const u = ((a + b) % p) * m + 2 * d;
      const v = ((a - b + p) % p) * m + 3 * d;
      for (let n = 0; n < d; n++) {
        const y = neurons[x + n]!;
        sums[r + n]! += y;
        sums[c + n]! += y;
        sums[u + n]! += y;
        sums[v + n]! += y;
        sumSq[n]! += y * y;
      }
    }
  }
  const sum = new Float64Array(d); // Σ_a r[a]
  for (let a = 0; a < p; a++) for (let n = 0; n < d; n++) sum[n]! += sums[a * m + n]!;
  return { sums, sum, sumSq };
}

function checkSize(neurons: FloatArray, p: number, d: number): void {
  if (neurons.length !== p * p * d) throw new Error(`neuronFrequencies: ${neurons.length} values, expected ${p}²·${d}`);
}

/** fraction_k = energy[k] / total per neuron, and the best k; a neuron with no centred energy gets k = 0. */
function summarise(p: number, d: number, energy: Float64Array[], totalEnergy: Float64Array, sumSq: Float64Array): NeuronFrequencies {
  const K = frequencyCount(p);
  const fractions = new Float64Array(d * (K + 1));
  const bestFrequency = new Int32Array(d);
  const bestFraction = new Float64Array(d);
  for (let n = 0; n < d; n++) {
    const total = totalEnergy[n]!;
    if (!(total > 1e-12 * (sumSq[n]! + 1e-300))) continue; // dead or constant neuron: no frequency
    for (let k = 1; k <= K; k++) {
      const fr = energy[k]![n]! / total;
      fractions[n * (K + 1) + k] = fr;
      // Ties go to the lowest k: a neuron with a flat spectrum (active on one pair only: 8/(p²−1) in every k)
      // would otherwise get whichever k its rounding favours, and the two forms round differently.
      if (fr > bestFraction[n]! * (1 + 1e-9)) {
        bestFraction[n] = fr;
        bestFrequency[n] = k;
      }
    }
  }
  return { p, dMlp: d, fractions, bestFrequency, bestFraction, totalEnergy };
}

/** How key frequencies are chosen from the neurons' best frequencies (written into analysis.json). */
export interface KeyFrequencyRule {
  /** A neuron votes for its best k only if that k explains at least this fraction of its centred energy. */
  minNeuronFraction: number;
  /** A k is key if at least this many neurons vote for it. */
  minNeurons: number;
}

/** The default rule: neurons ≥ 50 % in one frequency vote; a k needs max(2, ⌈1 % of d_mlp⌉) votes. */
export function defaultKeyFrequencyRule(dMlp: number): KeyFrequencyRule {
  return { minNeuronFraction: 0.5, minNeurons: Math.max(2, Math.ceil(0.01 * dMlp)) };
}

/** Key frequencies, ascending. */
export function keyFrequencies(nf: NeuronFrequencies, rule: KeyFrequencyRule = defaultKeyFrequencyRule(nf.dMlp)): number[] {
  const votes = new Map<number, number>();
  for (let n = 0; n < nf.dMlp; n++) {
    if (nf.bestFraction[n]! >= rule.minNeuronFraction) votes.set(nf.bestFrequency[n]!, (votes.get(nf.bestFrequency[n]!) ?? 0) + 1);
  }
  return [...votes].filter(([, v]) => v >= rule.minNeurons).map(([k]) => k).sort((a, b) => a - b);
}

export interface NeuronCluster {
  frequency: number;
  /** Neuron indices in this cluster. */
  neurons: number[];
  size: number;
  /** Σ over the cluster of the energy in its frequency / Σ of the centred energy. */
  varianceExplained: number;
}

/** Neurons with bestFraction > threshold, grouped by best frequency (ascending k). */
export function neuronClusters(nf: NeuronFrequencies, threshold = 0.85): NeuronCluster[] {
  const K = frequencyCount(nf.p);
  const byK = new Map<number, number[]>();
  for (let n = 0; n < nf.dMlp; n++) {
    if (nf.bestFraction[n]! > threshold) {
      const k = nf.bestFrequency[n]!;
      byK.set(k, [...(byK.get(k) ?? []), n]);
    }
  }
  return [...byK]
    .sort(([a], [b]) => a - b)
    .map(([frequency, neurons]) => {
      let inK = 0;
      let total = 0;
      for (const n of neurons) {
        inK += nf.fractions[n * (K + 1) + frequency]! * nf.totalEnergy[n]!;
        total += nf.totalEnergy[n]!;
      }
      return { frequency, neurons, size: neurons.length, varianceExplained: total > 0 ? inK / total : 0 };
    });
}

/**
 * The best fit of one neuron in span{1, cos ka, sin ka, cos kb, sin kb, and their 4 products}: the
 * projection onto the 9 basis products {B_0, B_2k−1, B_2k}(a) ⊗ {…}(b), i.e. the neuron's 3×3 block of F
 * transformed back. neurons [p*p, d] → the fitted column [p*p].
 */
export function quadraticFit(neurons: FloatArray, p: number, d: number, neuron: number, k: number): Float64Array {
  const B = fourierBasis(p).data;
  const rows = [0, cosRow(k), sinRow(k)];
  // G[i, b] = Σ_a B[i, a] N[a, b]   [3, p]
  const G = new Float64Array(3 * p);
  rows.forEach((i, r) => {
    for (let a = 0; a < p; a++) {
      const w = B[i * p + a]!;
      for (let b = 0; b < p; b++) G[r * p + b]! += w * neurons[(a * p + b) * d + neuron]!;
    }
  });
  // F[i, j] = Σ_b G[i, b] B[j, b]   [3, 3]
  const F = new Float64Array(9);
  for (let r = 0; r < 3; r++) for (let s = 0; s < 3; s++) for (let b = 0; b < p; b++) F[r * 3 + s]! += G[r * p + b]! * B[rows[s]! * p + b]!;
  // fit[a, b] = Σ_{i,j} F[i, j] B[i, a] B[j, b]
  const fit = new Float64Array(p * p);
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < p; b++) {
      let s = 0;
      for (let r = 0; r < 3; r++) for (let q = 0; q < 3; q++) s += F[r * 3 + q]! * B[rows[r]! * p + a]! * B[rows[q]! * p + b]!;
      fit[a * p + b] = s;
    }
  }
  return fit;
}
