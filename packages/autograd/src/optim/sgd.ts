/**
 * Stochastic gradient descent with momentum, dampening, Nesterov momentum and (coupled, L2-style) weight
 * decay, as torch.optim.SGD:
 *
 *   d ← g + λ·p                               weight decay enters the gradient (unlike AdamW)
 *   b ← d at the first update, else μ·b + (1 − τ)·d       momentum buffer (μ momentum, τ dampening)
 *   d ← d + μ·b if nesterov, else b           (only when μ ≠ 0)
 *   p ← p − lr·d
 *
 * The update is one fused kernel per parameter, in place on p (and the momentum buffer), like AdamW's.
 */
import * as T from '@grok/tensor';
import type { FusedKernel, NDArray } from '@grok/tensor';
import type { Tensor } from '../tensor.js';
import { Optimizer } from './optimizer.js';
import type { LearningRate } from './schedules.js';
import type { StateSchema } from './param-state.js';

// d = g + λp (torch skips the term when λ = 0, so an infinite p stays out of d), then p − lr·d.
const DECAYED = 'const d = wd === 0.0 ? g : g + wd * p;';
const SGD_PLAIN: FusedKernel = { name: 'sgd', inputs: ['p', 'g'], scalars: ['lr', 'wd'], body: DECAYED, outputs: ['p - lr * d'] };
// With a momentum buffer b: b1 = d at the first update, else μb + (1 − τ)d; the step is d + μb1 (Nesterov) or b1.
const SGD_MOMENTUM: FusedKernel = {
  name: 'sgdMomentum',
  inputs: ['p', 'g', 'b'],
  scalars: ['lr', 'wd', 'mu', 'damp', 'nesterov', 'first'],
  body: `${DECAYED}
    const b1 = first === 1.0 ? d : mu * b + (1.0 - damp) * d;
    const step = nesterov === 1.0 ? d + mu * b1 : b1;`,
  outputs: ['p - lr * step', 'b1'],
};

export interface SGDOptions {
  /** A number or a schedule of the step (default 1e-3; PyTorch's SGD also defaults to 1e-3). */
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
    if (this.momentum === 0) {
      T.fusedInPlace(SGD_PLAIN, [p.value], [p.value, grad], [lr, this.weightDecay]);
      return;
    }
    let b = this.state.get(index)?.['momentum_buffer'] as NDArray | undefined;
    const first = b === undefined;
    if (!b) this.state.set(index, { momentum_buffer: (b = T.zerosLike(p.value)) });
    const scalars = [lr, this.weightDecay, this.momentum, this.dampening, this.nesterov ? 1 : 0, first ? 1 : 0];
    T.fusedInPlace(SGD_MOMENTUM, [p.value, b], [p.value, grad, b], scalars);
  }
}
