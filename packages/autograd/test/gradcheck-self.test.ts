/**
 * gradcheck must be able to fail: an op with a deliberately wrong backward rule is caught, so a passing
 * gradcheck elsewhere means something.
 */
import { describe, expect, it } from 'vitest';
import { type Tensor as TensorType, Tensor, gradcheck, raw, tensor } from '@grok/autograd';
import { record } from '../src/ops/record.js';
import { param, randParam } from './helpers.js';

/** y = x³ with the wrong derivative 2x² (should be 3x²), via the ops' own `record`. */
function wrongCube(x: TensorType): TensorType {
  const y = raw.mul(raw.mul(x.value, x.value), x.value);
  return record('wrongCube', y, [x], (g) => [raw.mul(g, raw.mul(raw.mul(x.value, x.value), 2))]);
}

/** y = a·b whose backward forgets b's gradient, built by hand with `new Tensor` and a node. */
function forgetfulMul(a: TensorType, b: TensorType): TensorType {
  const out = new Tensor(raw.mul(a.value, b.value), true);
  out.node = { op: 'forgetfulMul', parents: [a, b], backward: (g) => [raw.mul(g, b.value), null] };
  return out;
}

/** y = xᵀ (a [2,3] → [3,2] transpose) whose backward reshapes instead of transposing: right shape, wrong places. */
function badTranspose(x: TensorType): TensorType {
  return record('badTranspose', raw.transpose(x.value), [x], (g) => [raw.reshape(g, x.shape)]);
}

describe('gradcheck catches wrong backward rules', () => {
  it('a wrong derivative: throws by default, naming the element and both values', () => {
    expect(() => gradcheck(wrongCube, [param([0.5, -1.5, 2])])).toThrow(/gradcheck failed.*\n.*input 0 element \d: analytic .* vs numeric/);
  });

  it('returns a failing report with raise: false', () => {
    const report = gradcheck(wrongCube, [param([0.5, -1.5, 2])], { raise: false });
    expect(report.ok).toBe(false);
    expect(report.failures).toHaveLength(3);
    // Each element's analytic value is 2x²·v against the true 3x²·v (v: gradcheck's random projection).
    for (const f of report.failures) {
      const [, analytic, numeric] = /analytic (\S+) vs numeric (\S+)/.exec(f)!;
      expect(Number(analytic) / Number(numeric)).toBeCloseTo(2 / 3, 6);
    }
  });

  it('a missing gradient for one input', () => {
    const report = gradcheck(forgetfulMul, [randParam([2, 2], 1), randParam([2, 2], 2)], { raise: false });
    expect(report.ok).toBe(false);
    expect(report.failures.every((f) => f.startsWith('input 1'))).toBe(true);
  });

  it('a gradient that lands in the wrong positions (right shape)', () => {
    expect(gradcheck(badTranspose, [randParam([2, 3], 3)], { raise: false }).ok).toBe(false);
  });

  it('the correct rules pass (sanity check of the same functions done right)', () => {
    expect(gradcheck((x) => x.mul(x).mul(x), [param([0.5, -1.5, 2])]).ok).toBe(true);
    expect(gradcheck((x) => x.transpose(), [randParam([2, 3], 3)]).ok).toBe(true);
  });

  it('refuses float32 inputs and outputs that do not depend on the inputs', () => {
    expect(() => gradcheck((x) => x.mul(2), [tensor([1, 2], { requiresGrad: true })])).toThrow(/float64/);
    expect(() => gradcheck(() => tensor([1], { dtype: 'float64' }), [param([1])])).toThrow(/does not depend/);
  });
});
