/** Reductions. Backward spreads the output gradient back over the reduced axes. */
import * as T from '@grok/tensor';
import type { Tensor } from '../tensor.js';
import { assertTensor, constant, record } from './record.js';

type Axes = number | readonly number[] | undefined;

/** The reduced shape with keepdim = true, so the gradient broadcasts against the input. */
function keptShape(shape: readonly number[], axis: Axes): number[] {
  // A scalar has nothing to keep; the op layer lets it be reduced over its virtual axis 0 / -1, as torch does.
  if (axis === undefined || shape.length === 0) return shape.map(() => 1);
  const axes = (typeof axis === 'number' ? [axis] : axis).map((ax) => T.normalizeAxis(ax, shape.length, 'reduce'));
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

// d(Σx)/dx = 1: every input element receives the gradient of its sum.
export function sum(a: Tensor, axis?: Axes, keepdim = false): Tensor {
  assertTensor(a, 'sum');
  return record('sum', T.sum(a.value, axis, keepdim), [a], (g) => [
    T.broadcastTo(T.reshape(g, keptShape(a.shape, axis)), a.shape),
  ]);
}

// d(mean x)/dx = 1/n
export function mean(a: Tensor, axis?: Axes, keepdim = false): Tensor {
  assertTensor(a, 'mean');
  const out = T.mean(a.value, axis, keepdim);
  const n = a.size / Math.max(out.size, 1);
  return record('mean', out, [a], (g) => [
    T.broadcastTo(T.div(T.reshape(g, keptShape(a.shape, axis)), n), a.shape),
  ]);
}

/** max/min: the gradient goes to the elements equal to the extreme, split evenly among ties. */
function extreme(op: 'max' | 'min', a: Tensor, axis: number | undefined, keepdim: boolean): Tensor {
  assertTensor(a, op);
  const out = op === 'max' ? T.max(a.value, axis, keepdim) : T.min(a.value, axis, keepdim);
  return record(op, out, [a], (g) => {
    const kept = keptShape(a.shape, axis);
    const hits = T.eq(a.value, T.reshape(out, kept)); // 1 at the extreme(s)
    const count = axis === undefined ? T.sum(hits, undefined, true) : T.sum(hits, axis, true);
    return [T.mul(T.reshape(g, kept), T.div(hits, count))];
  });
}
export const max = (a: Tensor, axis?: number, keepdim = false) => extreme('max', a, axis, keepdim);
export const min = (a: Tensor, axis?: number, keepdim = false) => extreme('min', a, axis, keepdim);

// Indices carry no gradient.
export const argmax = (a: Tensor, axis?: number, keepdim = false) => constant(T.argmax(a.value, axis, keepdim));
export const argmin = (a: Tensor, axis?: number, keepdim = false) => constant(T.argmin(a.value, axis, keepdim));
