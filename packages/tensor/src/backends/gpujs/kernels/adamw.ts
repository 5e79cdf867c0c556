/**
 * The fused AdamW update (torch.optim.AdamW) as one kernel pass.
 *
 * A GPU.js kernel writes one output and cannot write into its inputs. So the kernel's output is the new
 * state packed as [S, n] (S = 3: param, m, v; S = 4 with amsgrad: and vMax): thread (s, i) computes element
 * i's whole update and returns its s-th value. The backend then points each tensor at its row of the packed
 * buffer (NDArray.replaceStorage). The elementwise work is repeated S times, which is cheap next to the
 * memory traffic of separate kernels.
 *
 * The hyper-parameters are Float arguments, not literals: the learning rate changes every step with the
 * schedule, and a literal would compile a new kernel each time. (GPU.js types every number argument as
 * Float, integers included, unless `strictIntegers` is on, so the argument kinds never change.)
 *   p ← p·(1 − lr·λ) − (lr / bc1) · m' / (√v̂ / √bc2 + ε),  m' = β1 m + (1−β1) g,  v' = β2 v + (1−β2) g²,
 *   v̂ = v' (or max(vMax, v') with amsgrad),  bc1 = 1 − β1ᵗ,  bc2 = 1 − β2ᵗ.
 */
import type { AdamWStep } from '../../../backend.js';
import type { KernelSpec } from '../kernel-cache.js';
import { kernelSource } from './source.js';

export interface AdamWOffsets {
  p: number;
  g: number;
  m: number;
  v: number;
  vMax: number | null;
}

/** The scalar arguments, in the kernel's order. */
export function adamwScalars(h: AdamWStep): number[] {
  const bc1 = 1 - Math.pow(h.beta1, h.step);
  const bc2Sqrt = Math.sqrt(1 - Math.pow(h.beta2, h.step));
  return [1 - h.lr * h.weightDecay, h.lr / bc1, bc2Sqrt, h.beta1, h.beta2, h.eps];
}

const SCALARS = ['decay', 'stepSize', 'bc2Sqrt', 'beta1', 'beta2', 'eps'];

export function adamwSpec(n: number, at: AdamWOffsets): KernelSpec {
  const amsgrad = at.vMax !== null;
  const args = ['p', 'g', 'm', 'v', ...(amsgrad ? ['vMax'] : []), ...SCALARS];
  const body = `const s = Math.floor(this.thread.x / ${n});
  const i = this.thread.x - s * ${n};
  const gi = g[${at.g} + i];
  const m1 = beta1 * m[${at.m} + i] + (1.0 - beta1) * gi;
  const v1 = beta2 * v[${at.v} + i] + (1.0 - beta2) * gi * gi;
  ${amsgrad ? `const vHat = Math.max(vMax[${at.vMax} + i], v1);` : 'const vHat = v1;'}
  if (s === 1) { return m1; }
  if (s === 2) { return v1; }
  if (s === 3) { return vHat; }
  const denom = Math.sqrt(vHat) / bc2Sqrt + eps;
  return p[${at.p} + i] * decay - stepSize * (m1 / denom);`;
  return { source: kernelSource(args, body), output: [(amsgrad ? 4 : 3) * n], loop: 0 };
}
