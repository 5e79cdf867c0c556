/**
 * The fused backward kernels of relu and the GELUs: relu's branch-free float32 hostLoop against its formula
 * (the same kernel with the hostLoop taken away), and every kernel against g · f'(x) written out here.
 */
import { describe, expect, it } from 'vitest';
import { raw } from '@grok/autograd';
import { GELU_BACKWARD, GELU_TANH_BACKWARD, RELU_BACKWARD, activationBackward } from '../src/ops/activation-backward.js';
import { expectClose } from './helpers.js';

const values = (n: number, seed: number) => Array.from(raw.randn([n], { seed, dtype: 'float64' }).data);

describe('relu backward', () => {
  const edge = [0, -0, Infinity, -Infinity, 1e-45, -1e-45, NaN];
  const x = [...edge, ...values(113 * 37, 3)];
  const g = values(x.length, 4);
  g[2] = Infinity; // an infinite gradient where x > 0 passes through ...
  g[3] = -Infinity; // ... and where x ≤ 0 it gives 0 (not ∞ · 0 = NaN)
  const formula = { ...RELU_BACKWARD, hostLoop: undefined };

  for (const dtype of ['float32', 'float64'] as const) {
    it(`${dtype}: the kernel equals its formula, x ≤ 0 ? 0 : g, edge values included`, () => {
      const [xs, gs] = [x, g].map((v) => raw.tensor(v, { dtype }));
      const got = Array.from(activationBackward(RELU_BACKWARD, xs!, gs!).data);
      const want = Array.from(activationBackward(formula, xs!, gs!).data);
      expect(got).toEqual(want);
      const f = Array.from(xs!.data);
      const byHand = Array.from(gs!.data, (gi, i) => (f[i]! <= 0 ? 0 : gi));
      expect(want).toEqual(byHand);
    });
  }

  it('the float32 hostLoop is the one that runs (and declines float64)', () => {
    const out = [new Float32Array(1)];
    expect(RELU_BACKWARD.hostLoop!([Float32Array.of(2), Float32Array.of(5)], [], out)).toBe(true);
    expect(out[0]![0]).toBe(5);
    expect(RELU_BACKWARD.hostLoop!([Float64Array.of(2), Float64Array.of(5)], [], [new Float64Array(1)])).toBe(false);
  });
});

describe('gelu backward kernels', () => {
  const erf = raw.erf;
  const x = [0, 1, -1, 4, -4, 0.0625, 1e-6, -30, 30, ...values(200, 5)];
  const g = values(x.length, 6);
  it('geluBackward = g · (Φ(x) + x·φ(x))', () => {
    const want = x.map((v, i) => g[i]! * (0.5 * (1 + erf(v / Math.SQRT2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI)));
    const got = activationBackward(GELU_BACKWARD, raw.tensor(x, { dtype: 'float64' }), raw.tensor(g, { dtype: 'float64' }));
    expectClose(got.data, want, 1e-14, 1e-15);
  });
  it("geluTanhBackward = g · d/dx ½x(1 + tanh(√(2/π)(x + 0.044715x³)))", () => {
    const c = Math.sqrt(2 / Math.PI);
    const want = x.map((v, i) => {
      const t = Math.tanh(c * (v + 0.044715 * v ** 3));
      return g[i]! * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * c * (1 + 3 * 0.044715 * v * v));
    });
    const got = activationBackward(GELU_TANH_BACKWARD, raw.tensor(x, { dtype: 'float64' }), raw.tensor(g, { dtype: 'float64' }));
    expectClose(got.data, want, 1e-14, 1e-15);
  });
});
