/** Helpers shared by the autograd tests: float64 inputs that require grad, and a gradcheck that must pass. */
import { expect } from 'vitest';
import { type Tensor, gradcheck, randn, tensor } from '@grok/autograd';

/** A float64 leaf that requires grad, from nested arrays. */
export function param(values: Parameters<typeof tensor>[0], shape?: readonly number[]): Tensor {
  return tensor(values, { dtype: 'float64', requiresGrad: true, ...(shape ? { shape } : {}) });
}

/** A float64 leaf of standard-normal draws (seeded, so every run checks the same point). */
export function randParam(shape: readonly number[], seed: number): Tensor {
  return randn(shape, { dtype: 'float64', seed, requiresGrad: true });
}

/**
 * Standard-normal draws pushed at least `margin` away from zero: for ops with a kink at 0 (abs, relu)
 * central differences straddling the kink would be meaningless.
 */
export function awayFromZero(shape: readonly number[], seed: number, margin = 0.1): Tensor {
  const t = randn(shape, { dtype: 'float64', seed });
  const values = Array.from(t.data, (x) => (x >= 0 ? x + margin : x - margin));
  return tensor(values, { dtype: 'float64', shape, requiresGrad: true });
}

/** Positive draws in [lo, lo + 1) for log, sqrt, pow's base, division. */
export function positive(shape: readonly number[], seed: number, lo = 0.5): Tensor {
  const t = randn(shape, { dtype: 'float64', seed });
  const values = Array.from(t.data, (x) => lo + Math.abs(x) % 1);
  return tensor(values, { dtype: 'float64', shape, requiresGrad: true });
}

/** gradcheck with a tight tolerance (float64 central differences are accurate to ~1e-9 here). */
export function expectGradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  const report = gradcheck(fn, inputs, { atol: 1e-7, rtol: 1e-5, raise: false });
  expect(report.failures).toEqual([]);
  expect(report.ok).toBe(true);
}

/** Elementwise closeness with a relative-and-absolute tolerance, with a readable failure. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-10, atol = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  const bad: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) bad.push(`[${i}] ${a} vs ${e}`);
  }
  expect(bad).toEqual([]);
}
