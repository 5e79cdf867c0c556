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
 * ≈ 2p³·d_mlp multiply-adds); `neuronFrequencies`, which the analysis runs, computes only the entries of F
 * the blocks need, folded (≈ p³·d_mlp/2): at p = 113, d_mlp = 512 ≈ 0.35 s against ≈ 3.3 s here. A test
 * checks they agree.
 */
import { cosRow, fourier2d, fourierBasis, frequencyCount, sinRow } from './fourier.js';

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
export function neuronFrequenciesPlain(neurons: Float64Array, p: number, d: number): NeuronFrequencies {
  checkSize(neurons, p, d);
  const K = frequencyCount(p);
  const F = fourier2d(neurons, p, d); // [p, p, d]: F[i, j, n]
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
 * The fast form, which the analysis runs. F is never formed whole. Row by row of the first (over-a)
 * transform, only the columns the blocks need are computed: row 0 needs every column j, row 2k−1 or 2k only
 * j ∈ {0, 2k−1, 2k}. The over-a transform itself folds a with p − a (cos is even, sin odd), halving it:
 * ≈ p³·d_mlp/2 multiply-adds in all. The centred energy comes from Σ x² − (Σ x)²/p² instead of F.
 */
export function neuronFrequencies(neurons: Float64Array, p: number, d: number): NeuronFrequencies {
  checkSize(neurons, p, d);
  const K = frequencyCount(p);
  const B = fourierBasis(p).data;
  const pd = p * d;

  // Centred energy: Σ x² − (Σ x)²/p²  per neuron
  const sum = new Float64Array(d);
  const sumSq = new Float64Array(d);
  for (let r = 0; r < p * p; r++) {
    for (let n = 0; n < d; n++) {
      const x = neurons[r * d + n]!;
      sum[n]! += x;
      sumSq[n]! += x * x;
    }
  }
  const totalEnergy = new Float64Array(d);
  for (let n = 0; n < d; n++) totalEnergy[n] = Math.max(0, sumSq[n]! - (sum[n]! * sum[n]!) / (p * p));

  // Fold rows a and p − a (odd p):  S[a] = N[a] + N[p−a],  D[a] = N[a] − N[p−a],  a = 1 … K   (each [p, d])
  const odd = p % 2 === 1;
  const S = new Float64Array(odd ? K * pd : 0);
  const D = new Float64Array(odd ? K * pd : 0);
  if (odd) {
    for (let a = 1; a <= K; a++) {
      const x = a * pd;
      const y = (p - a) * pd;
      const o = (a - 1) * pd;
      for (let t = 0; t < pd; t++) {
        S[o + t] = neurons[x + t]! + neurons[y + t]!;
        D[o + t] = neurons[x + t]! - neurons[y + t]!;
      }
    }
  }

  /** G_i[b, n] = Σ_a B[i, a] · N[a, b, n]   [p, d] */
  const G = new Float64Array(pd);
  const overA = (i: number) => {
    G.fill(0);
    if (!odd || i === 0) {
      for (let a = 0; a < p; a++) axpy(G, B[i * p + a]!, neurons, a * pd);
      return;
    }
    // cos rows: B[i,0]·N[0] + Σ_a B[i,a]·S[a];  sin rows: Σ_a B[i,a]·D[a]  (B[i,0] = 0 for sin)
    const isCos = i % 2 === 1;
    if (isCos) axpy(G, B[i * p]!, neurons, 0);
    const src = isCos ? S : D;
    let a = 1;
    for (; a + 3 <= K; a += 4) {
      axpy4(G, B[i * p + a]!, B[i * p + a + 1]!, B[i * p + a + 2]!, B[i * p + a + 3]!, src, (a - 1) * pd, pd);
    }
    for (; a <= K; a++) axpy(G, B[i * p + a]!, src, (a - 1) * pd);
  };
  /** F[i, j, n] = Σ_b G_i[b, n] · B[j, b]  into out [d] */
  const overB = (j: number, out: Float64Array) => {
    out.fill(0);
    for (let b = 0; b < p; b++) {
      const w = B[j * p + b]!;
      const g = b * d;
      for (let n = 0; n < d; n++) out[n]! += w * G[g + n]!;
    }
  };

  // energy[k][n] accumulates the 8 non-constant block terms of frequency k
  const energy = Array.from({ length: K + 1 }, () => new Float64Array(d));
  const f = new Float64Array(d);
  const addSquares = (k: number) => {
    const e = energy[k]!;
    for (let n = 0; n < d; n++) e[n]! += f[n]! * f[n]!;
  };
  // Row 0 (constant over a): F[0, 2k−1] and F[0, 2k] go to frequency k.
  overA(0);
  for (let k = 1; k <= K; k++) {
    overB(cosRow(k), f);
    addSquares(k);
    overB(sinRow(k), f);
    addSquares(k);
  }
  // Rows 2k−1, 2k: F[i, 0], F[i, 2k−1], F[i, 2k].
  for (let k = 1; k <= K; k++) {
    for (const i of [cosRow(k), sinRow(k)]) {
      overA(i);
      for (const j of [0, cosRow(k), sinRow(k)]) {
        overB(j, f);
        addSquares(k);
      }
    }
  }

  return summarise(p, d, energy, totalEnergy, sumSq);
}

function checkSize(neurons: Float64Array, p: number, d: number): void {
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
      if (fr > bestFraction[n]!) {
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
export function quadraticFit(neurons: Float64Array, p: number, d: number, neuron: number, k: number): Float64Array {
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

/** y += w · x[offset …]  (over y.length) */
function axpy(y: Float64Array, w: number, x: Float64Array, offset: number): void {
  for (let t = 0; t < y.length; t++) y[t]! += w * x[offset + t]!;
}

/** y += w0·x[o …] + w1·x[o + stride …] + w2·… + w3·…  (four rows per pass over y: a quarter of the y traffic) */
function axpy4(y: Float64Array, w0: number, w1: number, w2: number, w3: number, x: Float64Array, o: number, stride: number): void {
  const o1 = o + stride;
  const o2 = o1 + stride;
  const o3 = o2 + stride;
  for (let t = 0; t < y.length; t++) y[t]! += w0 * x[o + t]! + w1 * x[o1 + t]! + w2 * x[o2 + t]! + w3 * x[o3 + t]!;
}
