/**
 * Fused elementwise kernels (FusedKernel) on the cpu backend: the formula against the same arithmetic
 * written out here per element; several outputs; in place (outputs that are inputs); the helpers; a
 * hand-written hostLoop, and the formula when the hostLoop declines; argument checks.
 */
import { describe, expect, it } from 'vitest';
import { CpuBackend, type FusedKernel, type TypedArray, erf, fused, fusedInPlace, tensor, zeros } from '@grok/tensor';
import { expectClose, randomValues } from './helpers.js';

/** A momentum step with decay: p ← p·(1 − lr·λ) − lr·b', b' = μb + g. Two outputs, three scalars. */
const MOMENTUM: FusedKernel = {
  name: 'momentum',
  inputs: ['p', 'g', 'b'],
  scalars: ['lr', 'wd', 'mu'],
  body: 'const b1 = mu * b + g;',
  outputs: ['p * (1.0 - lr * wd) - lr * b1', 'b1'],
};

const byHand = (p: number[], g: number[], b: number[], lr: number, wd: number, mu: number) => {
  const b1 = b.map((bi, i) => mu * bi + g[i]!);
  return { p: p.map((pi, i) => pi * (1 - lr * wd) - lr * b1[i]!), b: b1 };
};

const n = 257;
const [p0, g0, b0] = [1, 2, 3].map((seed) => randomValues(n, seed));

describe('fused kernels on the cpu', () => {
  it('compute the formula, element by element, in float64 (one rounding per output in float32)', () => {
    for (const dtype of ['float64', 'float32'] as const) {
      const [p, b] = fused(MOMENTUM, [p0, g0, b0].map((x) => tensor(x, { dtype })), [0.1, 0.5, 0.9]);
      const want = byHand(p0, g0, b0, 0.1, 0.5, 0.9);
      expect(p!.dtype).toBe(dtype);
      expect(p!.shape).toEqual([n]);
      // float32 inputs are rounded once on the way in; the arithmetic then is float64.
      const tol = dtype === 'float64' ? 1e-15 : 1e-6;
      expectClose(p!.data, want.p, tol);
      expectClose(b!.data, want.b, tol);
    }
  });

  it('run in place: the outputs overwrite the targets, which are also inputs, over several steps', () => {
    const p = tensor(p0, { dtype: 'float64' });
    const b = zeros([n], { dtype: 'float64' });
    const [storageP, storageB] = [p.storage, b.storage];
    let want = { p: p0, b: b0.map(() => 0) };
    for (let step = 0; step < 3; step++) {
      const g = randomValues(n, 10 + step);
      fusedInPlace(MOMENTUM, [p, b], [p, tensor(g, { dtype: 'float64' }), b], [0.01, 1, 0.9]);
      want = byHand(want.p, g, want.b, 0.01, 1, 0.9);
    }
    expect(p.storage).toBe(storageP);
    expect(b.storage).toBe(storageB);
    expectClose(p.data, want.p, 1e-14);
    expectClose(b.data, want.b, 1e-14);
  });

  it('call erf, tanh and sigmoid', () => {
    const xs = [-7, -2.5, -0.3, 0, 1e-8, 0.7, 3, 40];
    const kernel: FusedKernel = { name: 'helpers', inputs: ['x'], outputs: ['erf(x)', 'tanh(x)', 'sigmoid(x)'] };
    const [e, t, s] = fused(kernel, [tensor(xs, { dtype: 'float64' })]);
    expect(Array.from(e!.data)).toEqual(xs.map(erf));
    expect(Array.from(t!.data)).toEqual(xs.map(Math.tanh));
    expectClose(s!.data, xs.map((x) => 1 / (1 + Math.exp(-x))), 1e-15);
  });

  it('run a hostLoop where it accepts the arrays, and the formula where it declines', () => {
    const seen: string[] = [];
    const doubled: FusedKernel = {
      name: 'double',
      inputs: ['x'],
      outputs: ['2.0 * x'],
      hostLoop: (inputs: readonly TypedArray[], _s: readonly number[], outputs: readonly TypedArray[]) => {
        seen.push(inputs[0]!.constructor.name);
        if (!(inputs[0] instanceof Float32Array)) return false;
        outputs[0]!.set(inputs[0].map((x) => x + x + 1)); // deliberately not the formula: we can tell it ran
        return true;
      },
    };
    expect(Array.from(fused(doubled, [tensor([1, 2])])[0]!.data)).toEqual([3, 5]);
    expect(Array.from(fused(doubled, [tensor([1, 2], { dtype: 'float64' })])[0]!.data)).toEqual([2, 4]);
    expect(seen).toEqual(['Float32Array', 'Float64Array']);
  });

  it('handle empty arrays and scalars (shape [])', () => {
    expect(fused(MOMENTUM, [zeros([0, 3]), zeros([0, 3]), zeros([0, 3])], [1, 1, 1])[0]!.shape).toEqual([0, 3]);
    const [p] = fused(MOMENTUM, [tensor(2), tensor(1), tensor(0)], [0.5, 0, 0]);
    expect(p!.item()).toBe(1.5);
  });

  it('check their arguments, naming the kernel', () => {
    const x = zeros([2]);
    expect(() => fused(MOMENTUM, [x, x], [1, 1, 1])).toThrow(/momentum: the kernel takes 3 input arrays, got 2/);
    expect(() => fused(MOMENTUM, [x, x, x], [1])).toThrow(/momentum: the kernel takes 3 scalars, got 1/);
    expect(() => fusedInPlace(MOMENTUM, [x], [x, x, x], [1, 1, 1])).toThrow(/takes 2 targets \(one per output\), got 1/);
    expect(() => fused(MOMENTUM, [x, zeros([3]), x], [1, 1, 1])).toThrow(/momentum: p \[2\] and g \[3\]: a fused kernel's arrays must share one shape/);
    expect(() => fused(MOMENTUM, [x, zeros([2], { dtype: 'float64' }), x], [1, 1, 1])).toThrow(/momentum: dtype mismatch/);
    expect(() => fused(MOMENTUM, [zeros([2], { dtype: 'int32' }), x, x], [1, 1, 1])).toThrow(/needs a float32 or float64/);
    const other = tensor([0, 0], { backend: new CpuBackend() });
    expect(() => fused(MOMENTUM, [x, other, x], [1, 1, 1])).toThrow(/different backends/);
    expect(() => fusedInPlace(MOMENTUM, [x, zeros([1])], [x, x, x], [1, 1, 1])).toThrow(/p \[2\] and target 1 \[1\]/);
  });
});
