/**
 * The fast forms the per-checkpoint analysis runs, against their readable references: the neuron
 * frequencies from line sums, the shared row losses, the restricted and excluded loss without p³ arrays,
 * and the replayed (captured) forward over all pairs.
 */
import { HookedTransformer, paperConfig } from '@grok/transformer';
import { describe, expect, it } from 'vitest';
import { allPairsReplay, runAllPairs } from '../src/analysis/activations.js';
import { crossEntropyOnRows, meanOverRows, rowLosses } from '../src/analysis/losses.js';
import { measureCheckpoint } from '../src/analysis/measures.js';
import { lineSums, neuronFrequencies, neuronFrequenciesPlain } from '../src/analysis/neurons.js';
import { restrictedAndExcludedLoss, restrictedAndExcludedLossPlain } from '../src/analysis/restricted-loss.js';
import { randomSplit } from '../src/data.js';

function noise(n: number, seed = 1): Float64Array {
  let s = seed >>> 0;
  return Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}
const relativeGap = (x: ArrayLike<number>, y: ArrayLike<number>) => {
  let gap = 0;
  let scale = 0;
  for (let i = 0; i < x.length; i++) {
    gap = Math.max(gap, Math.abs(x[i]! - y[i]!));
    scale = Math.max(scale, Math.abs(y[i]!));
  }
  return gap / scale;
};

describe('neuron frequencies from line sums', () => {
  it('sums a 3 × 3 grid along its rows, columns and both diagonals (worked by hand)', () => {
    // N[a, b] = a²·b + b:   a = 0: 0 1 2,   a = 1: 0 2 4,   a = 2: 0 5 10
    const N = Float64Array.from({ length: 9 }, (_, r) => Math.floor(r / 3) ** 2 * (r % 3) + (r % 3));
    const { sums, sum, sumSq } = lineSums(N, 3, 1);
    const family = (f: number) => [0, 1, 2].map((x) => sums[x * 4 + f]);
    expect(family(0)).toEqual([3, 6, 15]); // rows a
    expect(family(1)).toEqual([0, 8, 16]); // columns b
    expect(family(2)).toEqual([9, 11, 4]); // a + b ≡ 0: 0 + 4 + 5,  ≡ 1: 1 + 0 + 10,  ≡ 2: 2 + 2 + 0
    expect(family(3)).toEqual([12, 7, 5]); // a − b ≡ 0: 0 + 2 + 10,  ≡ 1: 0 + 5 + 2,  ≡ 2: 0 + 1 + 4
    expect([...sum]).toEqual([24]);
    expect([...sumSq]).toEqual([150]);
  });

  it('equals the plain 2D-transform form at p = 113 (to 1e-9), on noise and on planted block functions', () => {
    const p = 113;
    const d = 3;
    const x = noise(p * p * d, 7);
    const w = (2 * Math.PI) / p;
    for (let a = 0; a < p; a++) {
      for (let b = 0; b < p; b++) {
        const r = a * p + b;
        x[r * d + 1] = 0.1 * x[r * d + 1]! + Math.cos(w * 14 * a) * Math.cos(w * 14 * b) + 0.5 * Math.sin(w * 41 * b);
        x[r * d + 2] = Math.max(0, Math.cos(w * 35 * (a + b)) + 0.3 * Math.sin(w * 52 * a)); // a ReLU of a sum, as trained neurons
      }
    }
    const fast = neuronFrequencies(x, p, d);
    const plain = neuronFrequenciesPlain(x, p, d);
    expect([...fast.bestFrequency]).toEqual([...plain.bestFrequency]);
    expect(fast.bestFrequency[1]).toBe(14);
    expect(relativeGap(fast.fractions, plain.fractions)).toBeLessThan(1e-9);
    expect(relativeGap(fast.totalEnergy, plain.totalEnergy)).toBeLessThan(1e-9);
    // float32 activations (what the model computes) give the numbers of their float64 copy
    const x32 = Float32Array.from(x);
    expect([...neuronFrequencies(x32, p, d).fractions]).toEqual([...neuronFrequencies(Float64Array.from(x32), p, d).fractions]);
  });

  it('a neuron active on one pair only has a flat spectrum: every k holds 8/(p²−1), and both forms name k = 1', () => {
    const p = 11;
    const x = new Float64Array(p * p);
    x[3 * p + 5] = 2.5;
    for (const nf of [neuronFrequencies(x, p, 1), neuronFrequenciesPlain(x, p, 1)]) {
      for (let k = 1; k <= 5; k++) expect(nf.fractions[k]).toBeCloseTo(8 / (p * p - 1), 14);
      expect(nf.bestFrequency[0]).toBe(1);
    }
  });
});

describe('losses', () => {
  const p = 13;
  const logits = noise(p * p * p, 3).map((v, i) => 4 * v + (i % p === (Math.floor(i / p / p) + (Math.floor(i / p) % p)) % p ? 3 : 0));
  const split = randomSplit(p, 0.3, 2);

  it('train, test and all-pairs figures from one pass of row losses equal crossEntropyOnRows bit for bit', () => {
    const rows = rowLosses(logits, p);
    for (const subset of [split.train, split.test, undefined]) expect(meanOverRows(rows, subset)).toEqual(crossEntropyOnRows(logits, p, subset));
    expect(meanOverRows(rows, new Int32Array(0)).loss).toBeNaN();
  });

  it('the restricted and excluded loss without p³ arrays equal the plain form (to 1e-12)', () => {
    for (const keys of [[], [1], [2, 5], [1, 2, 3, 4, 5, 6]]) {
      const fast = restrictedAndExcludedLoss(logits, p, keys, split.train);
      const plain = restrictedAndExcludedLossPlain(logits, p, keys, split.train);
      expect(fast.restrictedLoss, `keys ${keys}`).toBeCloseTo(plain.restrictedLoss, 12);
      expect(fast.excludedLoss, `keys ${keys}`).toBeCloseTo(plain.excludedLoss, 12);
    }
    // no frequency kept: the restricted logits are each class's mean logit alone, nearly uniform: ≈ ln p
    expect(restrictedAndExcludedLoss(logits, p, [], split.train).restrictedLoss).toBeCloseTo(Math.log(p), 1);
  });
});

describe('the replayed forward over all pairs', () => {
  const p = 11;
  const config = (seed: number) => paperConfig(p, { d_model: 16, n_heads: 2, d_head: 8, d_mlp: 12, seed });
  const weightsOf = (m: HookedTransformer) => Object.fromEntries([...m.namedParameters()].map(([name, w]) => [name, w.value]));
  const states = [1, 2, 3].map((seed) => weightsOf(new HookedTransformer(config(seed))));

  it('gives runAllPairs’s numbers bit for bit after each in-place load, and the logits it returned stay', () => {
    const model = new HookedTransformer(config(1));
    const replay = allPairsReplay(model, { neurons: true, pattern: true });
    const seen: { logits: Float64Array; copy: Float64Array }[] = [];
    for (const state of [...states, states[0]!]) {
      model.loadStateDict(state);
      const eager = runAllPairs(model, { neurons: true, pattern: true });
      const replayed = replay();
      expect([...replayed.logits]).toEqual([...eager.logits]);
      expect([...replayed.neurons!]).toEqual([...eager.neurons!]);
      expect([...replayed.pattern!]).toEqual([...eager.pattern!]);
      seen.push({ logits: replayed.logits, copy: Float64Array.from(replayed.logits) });
    }
    expect(seen[0]!.logits).not.toEqual(seen[1]!.logits); // the weights did change
    for (const s of seen) expect(s.logits).toEqual(s.copy); // later calls did not overwrite earlier logits
  });

  it('measureCheckpoint with the replayed forward gives the measures of the eager one', () => {
    const model = new HookedTransformer(config(1));
    const split = randomSplit(p, 0.5, 1);
    const forward = allPairsReplay(model, { neurons: true });
    for (const state of states) {
      model.loadStateDict(state);
      const eager = measureCheckpoint(model, split, 7, { restrictTo: [2, 3] }).measures;
      expect(measureCheckpoint(model, split, 7, { restrictTo: [2, 3], forward }).measures).toEqual(eager);
    }
  });
});
