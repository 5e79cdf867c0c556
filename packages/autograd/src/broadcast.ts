/**
 * The one broadcasting rule of backward passes: if an input of shape `shape` was broadcast to the output,
 * its gradient is the output gradient summed over the broadcast axes.
 */
import * as T from '@grok/tensor';
import { NDArray } from '@grok/tensor';

export function sumToShape(grad: NDArray, shape: T.Shape): NDArray {
  if (T.shapesEqual(grad.shape, shape)) return grad;
  const lead = grad.ndim - shape.length; // axes that were prepended
  const axes: number[] = [];
  for (let i = 0; i < grad.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && grad.shape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length ? T.sum(grad, axes, true) : grad;
  return T.reshape(summed, shape);
}
