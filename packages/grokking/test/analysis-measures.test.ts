/** The analysis's measures on synthetic inputs whose answers are known exactly. */
import { raw } from '@grok/autograd';
import { HookedTransformer, paperConfig } from '@grok/transformer';
import { describe, expect, it } from 'vitest';
import { rawFloat, runAllPairs } from '../src/analysis/activations.js';
import { keyNeuronLogitDirections, lossesWith } from '../src/analysis/ablations.js';
import { attentionPeriodicity, fitAttention } from '../src/analysis/attention.js';
import { fourier2d, matrix } from '../src/analysis/fourier.js';
import { crossEntropyOnRows } from '../src/analysis/losses.js';
import { fitLogits, keepSumFrequencies, removeSumFrequencies } from '../src/analysis/logits.js';
import { restrictedAndExcludedLoss } from '../src/analysis/restricted-loss.js';
import { keyFrequencies, neuronClusters, neuronFrequencies, neuronFrequenciesPlain, quadraticFit } from '../src/analysis/neurons.js';
import { detectPhases } from '../src/analysis/phases.js';
import { originalRun } from '../src/report/reference-data.js';
import type { CheckpointMeasures } from '../src/analysis/types.js';
import { randomSplit } from '../src/data.js';

function noise(n: number, seed = 1): Float64Array {
  let s = seed >>> 0;
  return Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}
const w = (k: number, p: number) => (2 * Math.PI * k) / p;

describe('neuron frequencies', () => {
  const p = 11;
  const d = 5;
  // neuron 0: a function in the {1, cos 3, sin 3}² block;  neuron 1: noise;  neuron 2: constant (dead);
  // neuron 3: 90 % of its variance in k = 2, 10 % in k = 4;  neuron 4: noise + a strong k = 3 block term
  const x = new Float64Array(p * p * d);
  const nz = noise(p * p * 2, 5);
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < p; b++) {
      const r = a * p + b;
      const [ca, sa, cb, sb] = [Math.cos(w(3, p) * a), Math.sin(w(3, p) * a), Math.cos(w(3, p) * b), Math.sin(w(3, p) * b)];
      x[r * d + 0] = 2 + ca - 0.5 * sb + 3 * ca * cb + sa * sb - 0.7 * sa * cb;
      x[r * d + 1] = nz[r]!;
      x[r * d + 2] = 4;
      x[r * d + 3] = 3 * Math.cos(w(2, p) * a) + 1 * Math.sin(w(4, p) * b);
      x[r * d + 4] = 0.05 * nz[p * p + r]! + ca * cb;
    }
  }
  const nf = neuronFrequencies(x, p, d);
  const K = 5;

  it('the plain form is the formula on the full 2D transform B·N·Bᵀ', () => {
    const F = fourier2d(x, p, d);
    const plain = neuronFrequenciesPlain(x, p, d);
    for (let n = 0; n < d; n++) {
      let total = 0;
      for (let ij = 1; ij < p * p; ij++) total += F[ij * d + n]! ** 2;
      expect(plain.totalEnergy[n]).toBeCloseTo(total, 9);
      for (let k = 1; k <= K; k++) {
        const rows = [0, 2 * k - 1, 2 * k];
        let e = 0;
        for (const i of rows) for (const j of rows) if (i || j) e += F[(i * p + j) * d + n]! ** 2;
        expect(plain.fractions[n * (K + 1) + k]).toBeCloseTo(total > 1e-9 ? e / total : 0, 10); // the constant neuron: rounding noise only
      }
    }
  });

  it('the fast (line-sum) form equals the plain form: planted neurons, and noise at p = 2, 3, 17 and 23', () => {
    const cases: [Float64Array, number, number][] = [[x, p, d], ...[2, 3, 17, 23].map((q): [Float64Array, number, number] => [noise(q * q * 6, q), q, 6])];
    for (const [values, q, channels] of cases) {
      const fast = neuronFrequencies(values, q, channels);
      const plain = neuronFrequenciesPlain(values, q, channels);
      expect(Array.from(fast.bestFrequency), `p = ${q}`).toEqual(Array.from(plain.bestFrequency));
      fast.fractions.forEach((f, i) => expect(f, `p = ${q}, fraction ${i}`).toBeCloseTo(plain.fractions[i]!, 12));
      fast.totalEnergy.forEach((e, n) => expect(e, `p = ${q}, energy ${n}`).toBeCloseTo(plain.totalEnergy[n]!, 9));
    }
  });

  it('finds the planted frequencies; dead neurons get k = 0', () => {
    expect(nf.bestFrequency[0]).toBe(3);
    expect(nf.bestFraction[0]).toBeCloseTo(1, 12);
    expect(nf.bestFrequency[2]).toBe(0);
    expect(nf.bestFraction[2]).toBe(0);
    expect(nf.bestFrequency[3]).toBe(2);
    expect(nf.bestFraction[3]).toBeCloseTo(0.9, 12); // 9·p²/2 of 10·p²/2
    expect(nf.bestFrequency[4]).toBe(3);
    expect(nf.bestFraction[1]).toBeLessThan(0.5);
  });

  it('key frequencies follow the rule; clusters take fraction > 0.85 with their variance explained', () => {
    expect(keyFrequencies(nf, { minNeuronFraction: 0.5, minNeurons: 1 })).toEqual([2, 3]);
    expect(keyFrequencies(nf, { minNeuronFraction: 0.5, minNeurons: 2 })).toEqual([3]);
    const clusters = neuronClusters(nf, 0.85);
    expect(clusters.map((c) => [c.frequency, c.neurons])).toEqual([[2, [3]], [3, [0, 4]]]);
    expect(clusters[0]!.varianceExplained).toBeCloseTo(0.9, 12);
    expect(neuronClusters(nf, 0.95).map((c) => c.size)).toEqual([2]);
  });

  it('the quadratic fit reproduces a block function exactly and is a projection', () => {
    const fit0 = quadraticFit(x, p, d, 0, 3);
    for (let r = 0; r < p * p; r++) expect(fit0[r]).toBeCloseTo(x[r * d]!, 12);
    const fit1 = quadraticFit(x, p, d, 1, 3);
    const again = quadraticFit(fit1, p, 1, 0, 3);
    for (let r = 0; r < p * p; r++) expect(again[r]).toBeCloseTo(fit1[r]!, 12);
  });
});

/** A model whose logits are exactly the resid_post a hook plants: W_U = [I_p; 0], no bias. */
function identityUnembedModel(p: number) {
  const model = new HookedTransformer(paperConfig(p, { d_model: 16, n_heads: 2, d_head: 8, d_mlp: 12, seed: 3 }));
  const WU = new Float32Array(16 * p);
  for (let c = 0; c < p; c++) WU[c * p + c] = 1;
  model.loadStateDict({ 'unembed.W_U': raw.tensor(WU, { shape: [16, p] }) }, { strict: false });
  return model;
}

describe('restricted and excluded loss on planted logits', () => {
  const p = 11;
  const keys = [2, 5];
  // L[a·p + b, c] = 2·Σ_k cos(ω_k(a + b − c))  (+ a per-input constant, which softmax ignores)
  const planted = new Float64Array(p * p * p);
  for (let a = 0; a < p; a++)
    for (let b = 0; b < p; b++)
      for (let c = 0; c < p; c++) planted[(a * p + b) * p + c] = 0.3 * a + keys.reduce((s, k) => s + 2 * Math.cos(w(k, p) * (a + b - c)), 0);
  const resid = new Float64Array(p * p * 16);
  for (let r = 0; r < p * p; r++) for (let c = 0; c < p; c++) resid[r * 16 + c] = planted[r * p + c]!;
  const plant = { name: 'blocks.0.hook_resid_post', fn: () => rawFloat(resid, [p * p, 1, 16]) };
  const model = identityUnembedModel(p);
  const split = randomSplit(p, 0.5, 1);

  it('the hook plants the logits', () => {
    const { logits } = runAllPairs(model, { hooks: [plant] });
    let worst = 0;
    for (let i = 0; i < logits.length; i++) worst = Math.max(worst, Math.abs(logits[i]! - planted[i]!));
    expect(worst).toBeLessThan(1e-5);
  });

  it('restricted loss = full loss, excluded loss = ln p, the logit fit explains everything', () => {
    const { logits } = runAllPairs(model, { hooks: [plant] });
    const full = crossEntropyOnRows(logits, p).loss;
    const { restrictedLoss, excludedLoss } = restrictedAndExcludedLoss(logits, p, keys, split.train);
    expect(full).toBeGreaterThan(0.01);
    expect(restrictedLoss).toBeCloseTo(full, 5);
    expect(excludedLoss).toBeCloseTo(Math.log(p), 5);
    const fit = fitLogits(logits, p, keys);
    expect(fit.varianceExplained).toBeCloseTo(1, 6);
    expect(fit.alphas.map((a) => a.alpha)).toEqual([expect.closeTo(2, 5), expect.closeTo(2, 5)]);
    // with one of the two frequencies: half the variance, and the restricted loss is worse
    expect(fitLogits(logits, p, [5]).varianceExplained).toBeCloseTo(0.5, 6);
    expect(restrictedAndExcludedLoss(logits, p, [5], split.train).restrictedLoss).toBeGreaterThan(full + 0.01);
  });

  it('the same projections through a hook on resid_post give the same losses', () => {
    const project = (f: typeof keepSumFrequencies) => ({
      name: 'blocks.0.hook_resid_post',
      fn: (t: { data: ArrayLike<number>; shape: readonly number[] }) => rawFloat(f(Float64Array.from(t.data), p, 16, keys), [...t.shape]),
    });
    const { logits } = runAllPairs(model, { hooks: [plant] });
    const direct = restrictedAndExcludedLoss(logits, p, keys, split.train);
    expect(lossesWith(model, split, [plant, project(keepSumFrequencies)]).loss).toBeCloseTo(direct.restrictedLoss, 5);
    expect(lossesWith(model, split, [plant, project(removeSumFrequencies)]).trainLoss).toBeCloseTo(direct.excludedLoss, 5);
  });
});

describe('attention periodicity', () => {
  const p = 11;
  const H = 2;
  const pattern = new Float64Array(p * p * H * 3);
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < p; b++) {
      const r = a * p + b;
      // head 0: periodic in k = 2 (a) and k = 2 (b);  head 1: k = 4 in a, constant in b
      const h0 = [0.3 + 0.1 * Math.cos(w(2, p) * a), 0.3 + 0.1 * Math.sin(w(2, p) * b)];
      const h1 = [0.5 + 0.2 * Math.cos(w(4, p) * a), 0.2];
      [h0, h1].forEach(([toA, toB], h) => {
        pattern[(r * H + h) * 3] = toA!;
        pattern[(r * H + h) * 3 + 1] = toB!;
        pattern[(r * H + h) * 3 + 2] = 1 - toA! - toB!;
      });
    }
  }
  it('is 1 in the planted frequencies and 0 in others', () => {
    const both = attentionPeriodicity(pattern, p, H, [2, 4]);
    expect(both.toA).toEqual([expect.closeTo(1, 12), expect.closeTo(1, 12)]);
    expect(both.toB[0]).toBeCloseTo(1, 12);
    expect(both.toB[1]).toBe(0); // constant: no variance to explain
    const only2 = attentionPeriodicity(pattern, p, H, [2]);
    expect(only2.toA[1]).toBeCloseTo(0, 12);
  });

  it('the fitted form keeps the planted pattern and each input\'s weights still sum to 1', () => {
    const fitted = fitAttention(pattern, p, H, [2, 4]);
    for (let i = 0; i < pattern.length; i++) expect(fitted[i]).toBeCloseTo(pattern[i]!, 12);
    // perturb a's weight and take it from ='s, so each input's weights still sum to 1
    const rough = fitAttention(Float64Array.from(pattern, (v, i) => v + (i % 3 === 0 ? 0.01 : i % 3 === 2 ? -0.01 : 0) * Math.sin(Math.floor(i / 3))), p, H, [3]);
    for (let r = 0; r < p * p * H; r++) expect(rough[3 * r]! + rough[3 * r + 1]! + rough[3 * r + 2]!).toBeCloseTo(1, 12);
  });
});

describe('W_L directions', () => {
  it('are orthonormal and skip dependent rows', () => {
    const p = 7;
    const d = 4;
    const WL = matrix(p, d, noise(p * d, 9));
    const U = keyNeuronLogitDirections(WL, [1, 2, 3]); // 6 rows in a 4-dimensional space: at most 4
    expect(U.length).toBe(4);
    for (let i = 0; i < U.length; i++)
      for (let j = 0; j < U.length; j++) expect(U[i]!.reduce((s, v, n) => s + v * U[j]![n]!, 0)).toBeCloseTo(i === j ? 1 : 0, 10);
  });
});

describe('phases', () => {
  const row = (step: number, trainLoss: number, testLoss: number): CheckpointMeasures => ({
    step, trainLoss, testLoss, loss: 0, trainAccuracy: 0, testAccuracy: 0, restrictedLoss: 0, excludedLoss: 0,
    restrictedLossFrequencies: [], giniWE: 0, giniWL: 0, sumSquaredWeights: 0, keyFrequencies: [], neuronsClustered: 0,
    embeddingFrequencyNorms: [], neuronLogitFrequencyNorms: [],
  });
  // train: 4.7 → 0.01 by step 20;  test: still climbs to its peak of 30 at step 40, drifts to 20, falls to 1e-6
  // from step 70 to 100
  const train = [4.7, 1, 0.01, 1e-3, 1e-4, 1e-4, 1e-5, 1e-5, 1e-6, 1e-7, 1e-7, 1e-7];
  const test = [4.7, 10, 28, 29, 30, 24, 22, 20, 1, 1e-3, 1e-6, 1e-6];
  const rows = train.map((t, i) => row(10 * i, t, test[i]!));

  it('finds memorisation, circuit formation and cleanup by the documented rule', () => {
    const ph = detectPhases(rows, 113);
    // Memorisation ends at the test-loss peak (step 40), not where the train loss first passes 1 % (step 20).
    expect(ph.memorisation).toEqual([0, 40]);
    // log10 peak 1.477, floor −6: 10 % of the way is 5.6 (first reached at step 80), 90 % is 4.7e-6 (step 100)
    expect(ph.circuitFormation).toEqual([40, 80]);
    expect(ph.cleanup).toEqual([80, 100]);
    expect(ph.inputs).toMatchObject({ peakTestLoss: 30, peakTestLossStep: 40, floorTestLoss: 1e-6, floorTestLossStep: 100, grokked: true });
    expect(ph.rule).toMatch(/0\.01·initial trainLoss/);
  });

  it('leaves circuit formation and cleanup open for a run that never generalises', () => {
    const ph = detectPhases(rows.map((r) => ({ ...r, testLoss: Math.max(r.testLoss, 15) })), 113);
    expect(ph.memorisation).toEqual([0, 40]);
    expect(ph.circuitFormation).toBeNull();
    expect(ph.cleanup).toBeNull();
    expect(ph.inputs.grokked).toBe(false);
    expect(detectPhases([], 113).memorisation).toBeNull();
  });

  it("puts the end of memorisation of the original 30 % run where the paper does (1.4k steps)", () => {
    // The paper: memorisation 0–1.4k, circuit formation 1.4k–9.4k, cleanup 9.4k–14k (its run grokked later
    // than this one, which reaches test loss 0.01 at 8,258, so only the first boundary is compared directly).
    const rows = originalRun().map((r) => ({ step: r.step, trainLoss: r.train_loss, testLoss: r.test_loss }));
    const ph = detectPhases(rows, 113);
    expect(ph.memorisation![1]).toBeGreaterThanOrEqual(1300);
    expect(ph.memorisation![1]).toBeLessThanOrEqual(1500);
    // Circuit formation ends (the steep fall starts) before the run crosses 0.01, and cleanup after it.
    expect(ph.circuitFormation![1]).toBeLessThan(8258);
    expect(ph.cleanup![1]).toBeGreaterThan(8258);
    expect(ph.inputs.grokked).toBe(true);
  });
});
