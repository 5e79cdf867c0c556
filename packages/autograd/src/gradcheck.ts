/**
 * gradcheck: compares the gradients from backward() with central finite differences,
 *   ∂f/∂xᵢ ≈ (f(x + εeᵢ) − f(x − εeᵢ)) / 2ε,
 * in float64. A non-scalar output f is first projected on a fixed random direction v (checking vᵀJ, which
 * catches any wrong entry of the Jacobian with probability 1).
 */
import * as T from '@grok/tensor';
import { noGrad } from './graph.js';
import { Tensor } from './tensor.js';

export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance (default 1e-3). */
  rtol?: number;
  /** Throw on mismatch (default true); otherwise return the report. */
  raise?: boolean;
}

export interface GradcheckReport {
  ok: boolean;
  /** Largest |analytic − numeric| over all checked elements. */
  maxAbsError: number;
  /** Human-readable mismatches: input, element, analytic and numeric values. */
  failures: string[];
}

export function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: Tensor[],
  options: GradcheckOptions = {},
): GradcheckReport {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, raise = true } = options;
  inputs.forEach((x, i) => {
    if (!(x instanceof Tensor)) throw new Error(`gradcheck: input ${i} is not an autograd Tensor`);
    if (x.requiresGrad && x.dtype !== 'float64') {
      throw new Error(`gradcheck: input ${i} is ${x.dtype}; gradcheck needs float64 inputs for meaningful differences`);
    }
  });

  // Analytic: backward of ⟨f(x), v⟩.
  const fresh = inputs.map((x) => new Tensor(x.value, x.requiresGrad));
  const out = fn(...fresh);
  if (!(out instanceof Tensor)) throw new Error('gradcheck: fn must return an autograd Tensor');
  if (!out.requiresGrad) throw new Error('gradcheck: the output does not depend on any input that requires grad');
  const v = T.randn(out.shape, { dtype: out.dtype, seed: 1234 });
  out.backward(v);
  const project = (y: Tensor) => T.sum(T.mul(y.value, v)).item();

  const failures: string[] = [];
  let maxAbsError = 0;
  inputs.forEach((x, i) => {
    if (!x.requiresGrad) return;
    const analytic = fresh[i]!.grad?.data ?? new Float64Array(x.size);
    const base = Float64Array.from(x.data);
    for (let k = 0; k < base.length; k++) {
      const at = (delta: number) => {
        const perturbed = Float64Array.from(base);
        perturbed[k] = base[k]! + delta;
        const args = inputs.map((y, j) =>
          j === i ? new Tensor(T.tensor(perturbed, { shape: x.shape, dtype: 'float64' })) : new Tensor(y.value),
        );
        return noGrad(() => project(fn(...args)));
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      const err = Math.abs(analytic[k]! - numeric);
      maxAbsError = Math.max(maxAbsError, err);
      if (!(err <= atol + rtol * Math.abs(numeric))) {
        failures.push(`input ${i} element ${k}: analytic ${analytic[k]} vs numeric ${numeric}`);
      }
    }
  });
  const report = { ok: failures.length === 0, maxAbsError, failures };
  if (!report.ok && raise) {
    throw new Error(`gradcheck failed (${failures.length} mismatches):\n${failures.slice(0, 10).join('\n')}`);
  }
  return report;
}
