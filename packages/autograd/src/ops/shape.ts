/** Shape and layout ops. Their backward moves the gradient back into the input's layout. */
import * as T from '@grok/tensor';
import { NDArray } from '@grok/tensor';
import { sumToShape } from '../broadcast.js';
import type { Tensor } from '../tensor.js';
import { assertTensor, record } from './record.js';

// Reshape keeps the elements in order, so the gradient is reshaped back.
export function reshape(a: Tensor, shape: readonly number[]): Tensor {
  assertTensor(a, 'reshape');
  return record('reshape', T.reshape(a.value, shape), [a], (g) => [T.reshape(g, a.shape)]);
}
export const view = reshape;

export function flatten(a: Tensor): Tensor {
  return reshape(a, [a.size]);
}

export function unsqueeze(a: Tensor, axis: number): Tensor {
  assertTensor(a, 'unsqueeze');
  return reshape(a, T.unsqueeze(a.value, axis).shape);
}

export function squeeze(a: Tensor, axis?: number): Tensor {
  assertTensor(a, 'squeeze');
  return reshape(a, T.squeeze(a.value, axis).shape);
}

// A permutation's gradient is permuted back by the inverse permutation.
export function permute(a: Tensor, perm: readonly number[]): Tensor {
  assertTensor(a, 'permute');
  const out = T.permute(a.value, perm);
  const p = perm.map((ax) => T.normalizeAxis(ax, a.ndim, 'permute'));
  const inverse = new Array<number>(p.length);
  p.forEach((ax, i) => (inverse[ax] = i));
  return record('permute', out, [a], (g) => [T.permute(g, inverse)]);
}

export function transpose(a: Tensor, dim0 = -2, dim1 = -1): Tensor {
  assertTensor(a, 'transpose');
  const d0 = T.normalizeAxis(dim0, a.ndim, 'transpose');
  const d1 = T.normalizeAxis(dim1, a.ndim, 'transpose');
  return permute(a, a.shape.map((_, i) => (i === d0 ? d1 : i === d1 ? d0 : i)));
}

/** Zeros of `shape` with `g` placed at [starts, starts + g.shape): the adjoint of slicing. */
function padInto(g: NDArray, shape: readonly number[], starts: readonly number[]): NDArray {
  let out = g;
  for (let axis = 0; axis < shape.length; axis++) {
    const before = starts[axis]!;
    const after = shape[axis]! - before - out.shape[axis]!;
    if (before === 0 && after === 0) continue;
    const zerosWith = (n: number) =>
      T.zeros(out.shape.map((d, i) => (i === axis ? n : d)), { dtype: g.dtype, backend: g.backend });
    const parts = [...(before ? [zerosWith(before)] : []), out, ...(after ? [zerosWith(after)] : [])];
    out = T.concat(parts, axis);
  }
  return out;
}

// The gradient of a slice is the slice's gradient put back in place, zeros elsewhere.
export function slice(a: Tensor, starts: readonly number[], ends?: readonly number[]): Tensor {
  assertTensor(a, 'slice');
  const out = T.slice(a.value, starts, ends);
  // Resolved starts (negative and missing bounds made explicit), as the op layer computed them.
  const resolved = a.shape.map((n, i) => {
    const s = starts[i] ?? 0;
    return Math.min(Math.max(s < 0 ? s + n : s, 0), n);
  });
  return record('slice', out, [a], (g) => [padInto(g, a.shape, resolved)]);
}

export function narrow(a: Tensor, axis: number, start: number, length: number): Tensor {
  assertTensor(a, 'narrow');
  const ax = T.normalizeAxis(axis, a.ndim, 'narrow');
  T.narrow(a.value, ax, start, length); // validates the range
  const starts = a.shape.map((_, i) => (i === ax ? start : 0));
  const ends = a.shape.map((d, i) => (i === ax ? start + length : d));
  return slice(a, starts, ends);
}

// Concatenation's gradient is cut back into the pieces.
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  tensors.forEach((t, i) => assertTensor(t, 'concat', `tensor ${i}`));
  const out = T.concat(tensors.map((t) => t.value), axis);
  const ax = T.normalizeAxis(axis, out.ndim, 'concat');
  return record('concat', out, [...tensors], (g) => {
    let offset = 0;
    return tensors.map((t) => {
      const piece = T.narrow(g, ax, offset, t.shape[ax]!);
      offset += t.shape[ax]!;
      return piece;
    });
  });
}

export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new Error('stack: needs at least one tensor');
  tensors.forEach((t, i) => assertTensor(t, 'stack', `tensor ${i}`));
  const ax = T.normalizeAxis(axis, tensors[0]!.ndim + 1, 'stack');
  const first = tensors[0]!;
  for (const t of tensors) {
    if (!T.shapesEqual(t.shape, first.shape)) {
      throw new Error(`stack: all shapes must be equal, got ${tensors.map((x) => T.formatShape(x.shape)).join(', ')}`);
    }
  }
  return concat(tensors.map((t) => unsqueeze(t, ax)), ax);
}

// Broadcasting copies the input, so its gradient sums over the copies.
export function broadcastTo(a: Tensor, shape: readonly number[]): Tensor {
  assertTensor(a, 'broadcastTo');
  return record('broadcastTo', T.broadcastTo(a.value, shape), [a], (g) => [sumToShape(g, a.shape)]);
}

// A cast's gradient is cast back; integer results carry no gradient.
export function cast(a: Tensor, dtype: T.DType): Tensor {
  assertTensor(a, 'cast');
  const out = T.cast(a.value, dtype);
  if (out === a.value) return a;
  if (dtype === 'int32' || a.dtype === 'int32') return record('cast', out, [], () => []);
  return record('cast', out, [a], (g) => [T.cast(g, a.dtype)]);
}
