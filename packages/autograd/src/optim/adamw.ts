/**
 * AdamW (Loshchilov & Hutter), exactly as torch.optim.AdamW's single-tensor path. Per parameter, at its
 * t-th update (t counts from 1), with the scheduled lr:
 *
 *   p ← p · (1 − lr·λ)                        decoupled weight decay, scaled by the scheduled lr
 *   m ← β1·m + (1 − β1)·g                     first moment
 *   v ← β2·v + (1 − β2)·g²                    second moment
 *   v̂ ← max(v̂, v) with amsgrad, else v
 *   denom = sqrt(v̂) / sqrt(1 − β2ᵗ) + ε       ε outside the square root, after bias correction
 *   p ← p − (lr / (1 − β1ᵗ)) · m / denom
 *
 * This formula is written once, as the fused kernel ADAMW below (per element, in float64 on the cpu), which
 * every backend runs in one pass and in place on p, m and v: like every optimizer here, AdamW writes the
 * parameter's storage (see optimizer.ts). On the cpu backend's fast path, float32 parameters take a wasm
 * kernel of this very formula, split across the threads (@grok/tensor's wasm-adamw.ts), with the same bits.
 */
import * as T from '@grok/tensor';
import type { FusedKernel, NDArray } from '@grok/tensor';
import type { Tensor } from '../tensor.js';
import { Optimizer } from './optimizer.js';
import type { LearningRate } from './schedules.js';
import type { ParamState, StateSchema } from './param-state.js';

/** The update of one element. Scalars: the step's bias corrections and decay, computed once per step. */
function adamwKernel(amsgrad: boolean): FusedKernel {
  return {
    name: amsgrad ? 'adamwAmsgrad' : 'adamw',
    inputs: ['p', 'g', 'm', 'v', ...(amsgrad ? ['vMax'] : [])],
    scalars: ['decay', 'stepSize', 'bc2Sqrt', 'beta1', 'beta2', 'eps'],
    body: `const m1 = beta1 * m + (1.0 - beta1) * g;
      const v1 = beta2 * v + (1.0 - beta2) * g * g;
      const vHat = ${amsgrad ? 'Math.max(vMax, v1)' : 'v1'};
      const denom = Math.sqrt(vHat) / bc2Sqrt + eps;`,
    // p·(1 − lr·λ) − (lr / bc1)·m / denom, then the new moments
    outputs: ['p * decay - stepSize * (m1 / denom)', 'm1', 'v1', ...(amsgrad ? ['vHat'] : [])],
  };
}
/** The kernels (exported for the cpu backend's test that its wasm AdamW recognizes this formula). */
export const ADAMW = adamwKernel(false);
export const ADAMW_AMSGRAD = adamwKernel(true);

export interface AdamWOptions {
  /** A number or a schedule of the step (default 1e-3). */
  lr?: LearningRate;
  /** (β1, β2), the moments' decay rates (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the denominator after the square root (default 1e-8). */
  eps?: number;
  /** λ, the decoupled weight decay (default 1e-2). */
  weightDecay?: number;
  /** Divide by the running maximum of v instead of v (default false). */
  amsgrad?: boolean;
}

/** One parameter's state, named as in PyTorch's optimizer.state. */
interface AdamWState extends ParamState {
  /** Updates this parameter has had (it may lag the optimizer's count if its grad was sometimes null). */
  step: number;
  exp_avg: NDArray;
  exp_avg_sq: NDArray;
}

export class AdamW extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly amsgrad: boolean;

  constructor(params: Iterable<Tensor>, options: AdamWOptions = {}) {
    const { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 1e-2, amsgrad = false } = options;
    super(params, lr, 'AdamW');
    const [beta1, beta2] = betas;
    if (!(beta1 >= 0 && beta1 < 1)) throw new Error(`AdamW: beta1 must be in [0, 1), got ${beta1}`);
    if (!(beta2 >= 0 && beta2 < 1)) throw new Error(`AdamW: beta2 must be in [0, 1), got ${beta2}`);
    if (!(eps >= 0 && Number.isFinite(eps))) throw new Error(`AdamW: eps must be a finite number ≥ 0, got ${eps}`);
    if (!(weightDecay >= 0 && Number.isFinite(weightDecay))) {
      throw new Error(`AdamW: weightDecay must be a finite number ≥ 0, got ${weightDecay}`);
    }
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
    this.amsgrad = amsgrad;
    for (const p of this.params) {
      if (p.dtype === 'int32') throw new Error('AdamW: parameters must be float32 or float64, got an int32 one');
    }
  }

  protected stateSchema(): StateSchema {
    return this.amsgrad
      ? { step: 'scalar', exp_avg: 'tensor', exp_avg_sq: 'tensor', max_exp_avg_sq: 'tensor' }
      : { step: 'scalar', exp_avg: 'tensor', exp_avg_sq: 'tensor' };
  }

  protected update(p: Tensor, grad: NDArray, index: number, lr: number): void {
    let s = this.state.get(index) as AdamWState | undefined;
    if (!s) {
      // Moments start at zero, in the parameter's dtype and on its backend.
      s = { step: 0, exp_avg: T.zerosLike(p.value), exp_avg_sq: T.zerosLike(p.value) };
      if (this.amsgrad) s['max_exp_avg_sq'] = T.zerosLike(p.value);
      this.state.set(index, s);
    }
    s.step += 1;
    const bc1 = 1 - Math.pow(this.beta1, s.step);
    const bc2Sqrt = Math.sqrt(1 - Math.pow(this.beta2, s.step));
    const scalars = [1 - lr * this.weightDecay, lr / bc1, bc2Sqrt, this.beta1, this.beta2, this.eps];
    const { exp_avg: m, exp_avg_sq: v } = s;
    // In place: the new p, m, v (and v̂) overwrite the old.
    if (this.amsgrad) {
      const vMax = s['max_exp_avg_sq'] as NDArray;
      T.fusedInPlace(ADAMW_AMSGRAD, [p.value, m, v, vMax], [p.value, grad, m, v, vMax], scalars);
    } else {
      T.fusedInPlace(ADAMW, [p.value, m, v], [p.value, grad, m, v], scalars);
    }
  }
}
