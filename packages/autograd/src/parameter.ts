/** A Parameter is a leaf tensor that requires grad: the weights an optimizer updates. */
import type { NDArray } from '@grok/tensor';
import { Tensor } from './tensor.js';

export class Parameter extends Tensor {
  constructor(value: NDArray | Tensor) {
    super(value instanceof Tensor ? value.value : value, true);
  }
}
