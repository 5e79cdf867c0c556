/**
 * Stochastic gradient descent with momentum, dampening, Nesterov momentum and (coupled, L2-style) weight
 * decay, as torch.optim.SGD:
 *
 *   d ← g + λ·p                               weight decay enters the gradient (unlike AdamW)
 *   b ← d at the first update, else μ·b + (1 − τ)·d       momentum buffer (μ momentum, τ dampening)
 *   d ← d + μ·b if nesterov, else b           (only when μ ≠ 0)
 *   p ← p − lr·d
 *
 * Storage is immutable through the Tensor API, so the new parameter is a new NDArray assigned to
 * `p.value` (the field optimizers are allowed to write). Anything that reads `p.value` at its next use —
 * modules do — sees the update; an NDArray taken out of p before step() keeps the old values.
 */
import * as T from '@grok/tensor';
import { NDArray } from '@grok/tensor';
import type { Tensor } from '../tensor.js';
import { Optimizer } from './optimizer.js';
import type { LearningRate } from './schedules.js';
import type { StateSchema } from './param-state.js';

export interface SGDOptions {
  /** A number or a schedule of the step (required, as in PyTorch, whose default is 1e-3). */
  lr?: LearningRate;
  /** μ (default 0: no momentum buffer). */
  momentum?: number;
  /** τ, how much of the new gradient the buffer ignores (default 0). */
  dampening?: number;
  /** λ, coupled weight decay (default 0). */
  weightDecay?: number;
  /** Nesterov momentum; needs momentum > 0 and dampening 0 (default false). */
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;

  constructor(params: Iterable<Tensor>, options: SGDOptions = {}) {
    const { lr = 1e-3, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = options;
    super(params, lr, 'SGD');
    if (!(momentum >= 0 && Number.isFinite(momentum))) throw new Error(`SGD: momentum must be a finite number ≥ 0, got ${momentum}`);
    if (!Number.isFinite(dampening)) throw new Error(`SGD: dampening must be a finite number, got ${dampening}`);
    if (!(weightDecay >= 0 && Number.isFinite(weightDecay))) {
      throw new Error(`SGD: weightDecay must be a finite number ≥ 0, got ${weightDecay}`);
    }
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      throw new Error(`SGD: nesterov needs momentum > 0 and dampening 0, got momentum ${momentum} and dampening ${dampening}`);
    }
    this.momentum = momentum;
    this.dampening = dampening;
    this.weightDecay = weightDecay;
    this.nesterov = nesterov;
  }

  protected stateSchema(): StateSchema {
    return this.momentum !== 0 ? { momentum_buffer: 'tensor' } : {};
  }

  protected update(p: Tensor, grad: NDArray, index: number, lr: number): void {
    let d = this.weightDecay !== 0 ? T.add(grad, T.mul(p.value, this.weightDecay)) : grad; // g + λp
    if (this.momentum !== 0) {
      const prev = this.state.get(index)?.['momentum_buffer'] as NDArray | undefined;
      // b = d the first time, then μb + (1 − τ)d
      const b = prev ? T.add(T.mul(prev, this.momentum), T.mul(d, 1 - this.dampening)) : d;
      this.state.set(index, { momentum_buffer: b });
      d = this.nesterov ? T.add(d, T.mul(b, this.momentum)) : b; // d + μb, or b
    }
    p.value = T.sub(p.value, T.mul(d, lr)); // p − lr·d: a new tensor, swapped in
  }
}
