import { describe, expect, it } from 'vitest';
import { Dft, dft, naiveDft, realFourierColumns, realFourierViaDft } from '../src/analysis/dft.js';
import {
  basisLabels,
  cosRow,
  fourier1d,
  fourier2d,
  fourierBasis,
  frequencyNorms,
  inverseFourier2d,
  matrix,
  rowNorms,
  sinRow,
  sumDirections,
} from '../src/analysis/fourier.js';
import { gini } from '../src/analysis/gini.js';

/** Deterministic pseudo-random numbers in [−1, 1). */
function noise(n: number, seed = 1): Float64Array {
  let s = seed >>> 0;
  return Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('real Fourier basis', () => {
  for (const n of [113, 23, 12, 2]) {
    it(`is orthonormal for n = ${n} (B·Bᵀ = I)`, () => {
      const B = fourierBasis(n);
      let worst = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let dot = 0;
          for (let x = 0; x < n; x++) dot += B.data[i * n + x]! * B.data[j * n + x]!;
          worst = Math.max(worst, Math.abs(dot - (i === j ? 1 : 0)));
        }
      }
      expect(worst).toBeLessThan(1e-12);
    });
  }

  it('orders rows const, cos 1, sin 1, cos 2, … with the documented values', () => {
    const n = 7;
    const B = fourierBasis(n);
    expect(basisLabels(n)).toEqual(['const', 'cos 1', 'sin 1', 'cos 2', 'sin 2', 'cos 3', 'sin 3']);
    expect(B.data[0]).toBeCloseTo(1 / Math.sqrt(n), 14);
    const x = 3;
    expect(B.data[cosRow(2) * n + x]).toBeCloseTo(Math.sqrt(2 / n) * Math.cos((2 * Math.PI * 2 * x) / n), 14);
    expect(B.data[sinRow(2) * n + x]).toBeCloseTo(Math.sqrt(2 / n) * Math.sin((2 * Math.PI * 2 * x) / n), 14);
  });

  it('recovers a planted signal: 1.5 + 3 cos(5·ωx) − 2 sin(7·ωx) over p = 113', () => {
    const p = 113;
    const w = (2 * Math.PI) / p;
    const f = Float64Array.from({ length: p }, (_, x) => 1.5 + 3 * Math.cos(5 * w * x) - 2 * Math.sin(7 * w * x));
    const c = fourier1d(matrix(p, 1, f)).data;
    const expected = new Float64Array(p);
    expected[0] = 1.5 * Math.sqrt(p);
    expected[cosRow(5)] = 3 * Math.sqrt(p / 2);
    expected[sinRow(7)] = -2 * Math.sqrt(p / 2);
    expect(maxAbsDiff(c, expected)).toBeLessThan(1e-11);
    const norms = frequencyNorms(rowNorms(matrix(p, 1, c)));
    expect(norms.length).toBe(57);
    expect(norms[5]).toBeCloseTo(3 * Math.sqrt(p / 2), 10);
    expect(norms[7]).toBeCloseTo(2 * Math.sqrt(p / 2), 10);
  });

  it('2D transform: B·M·Bᵀ per channel, undone by the inverse, and a planted cos(ω_k(a+b)) lands in its 4 terms', () => {
    const p = 13;
    const ch = 3;
    const x = noise(p * p * ch, 7);
    const F = fourier2d(x, p, ch);
    // channel 1 by explicit matrices
    const B = fourierBasis(p);
    const M = matrix(p, p, Float64Array.from({ length: p * p }, (_, r) => x[r * ch + 1]!));
    const BM = fourier1d(M);
    for (const [i, j] of [[0, 0], [3, 5], [12, 1]] as const) {
      let s = 0;
      for (let b = 0; b < p; b++) s += BM.data[i * p + b]! * B.data[j * p + b]!;
      expect(F[(i * p + j) * ch + 1]).toBeCloseTo(s, 12);
    }
    expect(maxAbsDiff(inverseFourier2d(F, p, ch), x)).toBeLessThan(1e-12);
    // cos(ω_k(a+b)) = cos a cos b − sin a sin b: only (cos k, cos k) and (sin k, sin k) are non-zero
    const k = 4;
    const w = (2 * Math.PI * k) / p;
    const y = Float64Array.from({ length: p * p }, (_, r) => Math.cos(w * (Math.floor(r / p) + (r % p))));
    const G = fourier2d(y, p, 1);
    expect(G[cosRow(k) * p + cosRow(k)]).toBeCloseTo(p / 2, 10);
    expect(G[sinRow(k) * p + sinRow(k)]).toBeCloseTo(-p / 2, 10);
    let rest = 0;
    G.forEach((v, idx) => {
      if (idx !== cosRow(k) * p + cosRow(k) && idx !== sinRow(k) * p + sinRow(k)) rest += v * v;
    });
    expect(rest).toBeLessThan(1e-20);
  });

  it('sum directions cos/sin(ω_k(a+b)) are orthonormal over the p² pairs', () => {
    const p = 11;
    const dirs = [1, 2, 5].flatMap((k) => {
      const d = sumDirections(k, p);
      return [d.cos, d.sin].map((v) => Float64Array.from({ length: p * p }, (_, r) => v[(Math.floor(r / p) + (r % p)) % p]!));
    });
    for (let i = 0; i < dirs.length; i++) {
      for (let j = 0; j < dirs.length; j++) {
        const dot = dirs[i]!.reduce((s, v, r) => s + v * dirs[j]![r]!, 0);
        expect(dot).toBeCloseTo(i === j ? 1 : 0, 12);
      }
      expect(dirs[i]!.reduce((s, v) => s + v, 0)).toBeCloseTo(0, 12); // orthogonal to the constant
    }
  });
});

describe('DFT on fft.js', () => {
  for (const n of [113, 97, 12, 64, 2, 1]) {
    it(`matches the naive O(n²) DFT for n = ${n} (${n > 1 && (n & (n - 1)) === 0 ? 'radix-4 FFT' : 'Bluestein'}), complex input`, () => {
      const re = noise(n, n);
      const im = noise(n, n + 100);
      const fast = new Dft(n).forward(re, im);
      const slow = naiveDft(re, im);
      const scale = Math.max(1, n);
      expect(maxAbsDiff(fast.re, slow.re) / scale).toBeLessThan(1e-13);
      expect(maxAbsDiff(fast.im, slow.im) / scale).toBeLessThan(1e-13);
    });
  }

  for (const n of [113, 23, 16, 12]) {
    it(`agrees with the real basis for n = ${n}: cos/sin rows are √(2/n)·(Re X, −Im X)`, () => {
      const f = noise(n, 3 * n);
      const viaFft = realFourierViaDft(f);
      const viaBasis = fourier1d(matrix(n, 1, f)).data;
      expect(maxAbsDiff(viaFft, viaBasis)).toBeLessThan(1e-12);
    });
  }

  for (const [n, m] of [[113, 2048], [113, 7], [23, 1], [16, 5], [12, 4], [2, 3], [1, 2]] as const) {
    it(`B·M for every column at once (two real columns per complex transform) = the basis product, n = ${n}, ${m} columns, to 1e-9`, () => {
      const M = matrix(n, m, noise(n * m, n + m));
      const viaFft = realFourierColumns(M);
      const viaBasis = fourier1d(M).data;
      expect([viaFft.rows, viaFft.cols]).toEqual([n, m]);
      const scale = viaBasis.reduce((s, v) => Math.max(s, Math.abs(v)), 0);
      expect(maxAbsDiff(viaFft.data, viaBasis) / scale).toBeLessThan(1e-9);
    });
  }

  it('a plan reused for many transforms (its scratch shared) gives each the answer of a fresh plan', () => {
    const plan = new Dft(113);
    const signals = [1, 2, 3].map((seed) => noise(113, seed));
    const first = signals.map((f) => plan.forward(f));
    const again = signals.map((f) => new Dft(113).forward(f));
    first.forEach((X, i) => expect([...X.re, ...X.im]).toEqual([...again[i]!.re, ...again[i]!.im]));
  });

  it('finds a planted frequency with the complex DFT (p = 113: e^{2πi·9x/p} → a spike at k = 9)', () => {
    const p = 113;
    const re = Float64Array.from({ length: p }, (_, x) => Math.cos((2 * Math.PI * 9 * x) / p));
    const im = Float64Array.from({ length: p }, (_, x) => Math.sin((2 * Math.PI * 9 * x) / p));
    const X = dft(re, im);
    const mags = Array.from(X.re, (r, k) => Math.hypot(r, X.im[k]!));
    expect(mags.indexOf(Math.max(...mags))).toBe(9);
    expect(mags[9]).toBeCloseTo(p, 9);
    expect(mags.filter((_, k) => k !== 9).every((m) => m < 1e-9)).toBe(true);
  });

  it('rejects a bad length', () => {
    expect(() => new Dft(0)).toThrow(/positive integer/);
    expect(() => new Dft(3).forward([1, 2])).toThrow(/length/);
  });
});

describe('gini', () => {
  it('is 0 for equal values and (N−1)/N when one value holds everything', () => {
    expect(gini([2, 2, 2, 2])).toBeCloseTo(0, 14);
    expect(gini([0, 0, 0, 5])).toBeCloseTo(3 / 4, 14);
    expect(gini(new Float64Array(113).fill(0).map((_, i) => (i === 7 ? 1 : 0)))).toBeCloseTo(112 / 113, 14);
  });

  it('matches the formula on a known vector, in any order', () => {
    // c = [1, 2, 3, 4]: 2·(1·1 + 2·2 + 3·3 + 4·4)/(4·10) − 5/4 = 60/40 − 1.25 = 0.25
    expect(gini([3, 1, 4, 2])).toBeCloseTo(0.25, 14);
    expect(gini([0, 0, 0, 0])).toBe(0);
    expect(() => gini([])).toThrow(/no values/);
    expect(() => gini([1, -1])).toThrow(/non-negative/);
  });
});
