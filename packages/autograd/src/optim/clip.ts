/**
 * Gradient clipping by total norm, as torch.nn.utils.clip_grad_norm_:
 *
 *   total = ‖(‖g₁‖, ‖g₂‖, …)‖   (the p-norm of the per-tensor p-norms = the p-norm of all entries)
 *   if maxNorm / (total + 1e-6) < 1:  every g ← g · maxNorm / (total + 1e-6)
 *
 * The norms are accumulated in float64 whatever the gradients' dtype.
 */
import * as T from '@grok/tensor';
import { Tensor } from '../tensor.js';

export interface ClipOptions {
  /** Throw if the total norm is NaN or infinite instead of scaling by it (default false, as PyTorch). */
  errorIfNonfinite?: boolean;
}

/** Scales the gradients of `params` in place (their .grad is replaced) and returns the total norm before. */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, normType = 2, options: ClipOptions = {}): number {
  if (!(maxNorm >= 0)) throw new Error(`clipGradNorm: maxNorm must be ≥ 0, got ${maxNorm}`);
  if (!(normType > 0)) throw new Error(`clipGradNorm: normType must be > 0 (or Infinity), got ${normType}`);
  const withGrad = [...params].filter((p) => p.grad !== null);
  if (withGrad.length === 0) return 0;
  const total = pNorm(withGrad.map((p) => pNorm(p.grad!.data, normType)), normType);
  if (options.errorIfNonfinite && !Number.isFinite(total)) {
    throw new Error(`clipGradNorm: the total norm of order ${normType} is ${total}, so the gradients cannot be clipped`);
  }
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    for (const p of withGrad) p.grad = new Tensor(T.mul(p.grad!.value, coef));
  }
  return total;
}

/** (Σ|xᵢ|ᵖ)^(1/p), or max |xᵢ| for p = ∞, in float64. */
function pNorm(xs: ArrayLike<number>, p: number): number {
  let acc = 0;
  if (p === Infinity) {
    for (let i = 0; i < xs.length; i++) acc = Math.max(acc, Math.abs(xs[i]!));
    return acc;
  }
  if (p === 2) {
    for (let i = 0; i < xs.length; i++) acc += xs[i]! * xs[i]!;
    return Math.sqrt(acc);
  }
  for (let i = 0; i < xs.length; i++) acc += Math.abs(xs[i]!) ** p;
  return acc ** (1 / p);
}
