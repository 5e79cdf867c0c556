/** Reference gather / scatter-add and index-select / index-add. Indices were range-checked by the op layer. */
import type { TypedArray } from '../../dtype.js';
import { type Shape, sizeOf, stridesOf } from '../../shape.js';

/**
 * Visits every element of `indexShape`; `at(k, offset)` receives its flat position k and the offset in the
 * indexed tensor (of `shape`) with the coordinate on `axis` replaced by index[k].
 */
function forEachIndexed(
  indexShape: Shape, shape: Shape, axis: number, index: TypedArray, at: (k: number, offset: number) => void,
): void {
  const strides = stridesOf(shape);
  const n = sizeOf(indexShape);
  const counter = new Array<number>(indexShape.length).fill(0);
  for (let k = 0; k < n; k++) {
    let offset = 0;
    for (let d = 0; d < counter.length; d++) offset += (d === axis ? index[k]! : counter[d]!) * strides[d]!;
    at(k, offset);
    for (let d = counter.length - 1; d >= 0; d--) {
      if (++counter[d]! < indexShape[d]!) break;
      counter[d] = 0;
    }
  }
}

export function gatherInto(a: TypedArray, shape: Shape, axis: number, index: TypedArray, indexShape: Shape, out: TypedArray): void {
  forEachIndexed(indexShape, shape, axis, index, (k, offset) => {
    out[k] = a[offset]!;
  });
}

export function scatterAddInto(shape: Shape, axis: number, index: TypedArray, indexShape: Shape, src: TypedArray, out: TypedArray): void {
  forEachIndexed(indexShape, shape, axis, index, (k, offset) => {
    out[offset]! += src[k]!;
  });
}

/** The tensor as [outer, n, inner]: copy the inner blocks of the selected rows. */
export function indexSelectInto(a: TypedArray, shape: Shape, axis: number, indices: TypedArray, out: TypedArray): void {
  const outer = sizeOf(shape.slice(0, axis));
  const n = shape[axis]!;
  const inner = sizeOf(shape.slice(axis + 1));
  const m = indices.length;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const from = (o * n + indices[j]!) * inner;
      const to = (o * m + j) * inner;
      // Short rows (a head's 32 values): a plain loop; `set` on a fresh subarray costs an allocation per row.
      if (inner < 128) for (let i = 0; i < inner; i++) out[to + i] = a[from + i]!;
      else out.set(a.subarray(from, from + inner), to);
    }
  }
}

export function indexAddInto(shape: Shape, axis: number, indices: TypedArray, src: TypedArray, out: TypedArray): void {
  const outer = sizeOf(shape.slice(0, axis));
  const n = shape[axis]!;
  const inner = sizeOf(shape.slice(axis + 1));
  const m = indices.length;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const to = (o * n + indices[j]!) * inner;
      const from = (o * m + j) * inner;
      for (let i = 0; i < inner; i++) out[to + i]! += src[from + i]!;
    }
  }
}
