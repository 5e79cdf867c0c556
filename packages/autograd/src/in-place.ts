/**
 * How parameters change: in place. A parameter's `value` is set once, when the parameter is made; from then
 * on everything that changes its values — the optimizers' steps, constraints such as the grokking runs'
 * fixed weight norm, `Module.loadStateDict`, re-initialisation — writes into that NDArray with a fused
 * kernel (`fusedInPlace` of @grok/tensor), as PyTorch's `p.mul_()` and `p.copy_()` do. So whoever holds a
 * parameter, or its `value`, always sees its current values, whichever code last changed them.
 */
import * as T from '@grok/tensor';
import type { FusedKernel, NDArray } from '@grok/tensor';

const COPY: FusedKernel = { name: 'copyInPlace', inputs: ['x'], outputs: ['x'] };
const SCALE: FusedKernel = { name: 'scaleInPlace', inputs: ['x'], scalars: ['s'], outputs: ['x * s'] };

/** target ← source (same shape and dtype; source may live on another backend: it is moved first). */
export function copyInPlace(target: NDArray, source: NDArray): void {
  const here = source.backend === target.backend ? source : source.clone(target.backend);
  T.fusedInPlace(COPY, [target], [here]);
}

/** a ← a · s. */
export function scaleInPlace(a: NDArray, s: number): void {
  T.fusedInPlace(SCALE, [a], [a], [s]);
}
