/** The fused AdamW update (torch.optim.AdamW, single-tensor path), in place, computed in float64 per element. */
import type { AdamWStep } from '../../backend.js';
import type { TypedArray } from '../../dtype.js';

export function adamwInto(p: TypedArray, g: TypedArray, m: TypedArray, v: TypedArray, vMax: TypedArray | null, h: AdamWStep): void {
  const { lr, beta1, beta2, eps, weightDecay, step, amsgrad } = h;
  const decay = 1 - lr * weightDecay;
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
  const stepSize = lr / bc1;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i]!;
    const mi = beta1 * m[i]! + (1 - beta1) * gi;
    const vi = beta2 * v[i]! + (1 - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    let vHat = vi;
    if (amsgrad && vMax) {
      vHat = Math.max(vMax[i]!, vi);
      vMax[i] = vHat;
    }
    // torch: denom = sqrt(v) / sqrt(bc2) + eps; p -= (lr / bc1) * m / denom
    const denom = Math.sqrt(vHat) / bc2Sqrt + eps;
    p[i] = p[i]! * decay - stepSize * (mi / denom);
  }
}
