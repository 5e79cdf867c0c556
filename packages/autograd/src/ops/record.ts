/** Shared plumbing of the ops: wrapping numbers as constants and attaching graph nodes to results. */
import * as T from '@grok/tensor';
import { NDArray } from '@grok/tensor';
import { type BackwardFn, isGradEnabled } from '../graph.js';
import { Tensor } from '../tensor.js';

export type Operand = Tensor | number;

/**
 * Wraps an op's result. When grad mode is on and some parent requires grad, the result requires grad too
 * and remembers `backward`, which maps d(loss)/d(result) to d(loss)/d(parent) for each parent.
 */
export function record(op: string, value: NDArray, parents: Tensor[], backward: BackwardFn): Tensor {
  const requiresGrad = isGradEnabled() && parents.some((p) => p.requiresGrad);
  const out = new Tensor(value, requiresGrad);
  if (requiresGrad) out.node = { op, parents, backward };
  return out;
}

/** A result that never carries gradient (comparisons, argmax, integer outputs). */
export function constant(value: NDArray): Tensor {
  return new Tensor(value, false);
}

/** Numbers become scalar constants of the other operand's dtype and backend. */
export function lift(x: Operand, like: Operand, op: string): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x !== 'number') throw new Error(`${op}: expected a Tensor or a number, got ${typeof x}`);
  const ref = like instanceof Tensor ? like.value : undefined;
  // As in @grok/tensor: no type promotion, so a number int32 cannot hold (0.5) is an error, not a truncation.
  if (ref?.dtype === 'int32' && (x | 0) !== x) {
    throw new Error(`${op}: the number ${x} cannot be used with an int32 tensor ${T.formatShape(ref.shape)} (cast it to a float dtype first)`);
  }
  return new Tensor(T.full([], x, { dtype: ref?.dtype ?? 'float32', backend: ref?.backend }));
}

export function assertTensor(x: unknown, op: string, what = 'argument'): asserts x is Tensor {
  if (!(x instanceof Tensor)) {
    const kind = x instanceof NDArray ? 'an @grok/tensor NDArray (wrap it with new Tensor(...))' : typeof x;
    throw new Error(`${op}: ${what} must be an autograd Tensor, got ${kind}`);
  }
}
