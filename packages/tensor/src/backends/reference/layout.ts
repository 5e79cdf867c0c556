/** Reference layout kernels: permute, slice and concat (all produce contiguous copies). */
import type { TypedArray } from '../../dtype.js';
import { type Shape, sizeOf, stridesOf } from '../../shape.js';
import { forEachRow } from './rows.js';

export function permuteInto(a: TypedArray, shape: Shape, perm: readonly number[], out: TypedArray): void {
  const src = stridesOf(shape);
  const outShape = perm.map((p) => shape[p]!);
  const strides = perm.map((p) => src[p]!);
  const last = strides.length - 1;
  forEachRow(outShape, [strides], (k, inner, [pa]) => {
    const step = strides[last] ?? 0;
    for (let j = 0; j < inner; j++) out[k + j] = a[pa! + j * step]!;
  });
}

export function sliceInto(a: TypedArray, shape: Shape, starts: readonly number[], ends: readonly number[], out: TypedArray): void {
  const outShape = starts.map((s, i) => ends[i]! - s);
  const strides = stridesOf(shape);
  const base = starts.reduce((acc, s, i) => acc + s * strides[i]!, 0);
  if (sizeOf(outShape) === 0) return;
  if (shape.length === 0) {
    out[0] = a[0]!;
    return;
  }
  forEachRow(outShape, [strides], (k, inner, [pa]) => {
    out.set(a.subarray(base + pa!, base + pa! + inner), k);
  });
}

export function concatInto(parts: { data: TypedArray; shape: Shape }[], axis: number, out: TypedArray): void {
  const shape0 = parts[0]!.shape;
  const outer = sizeOf(shape0.slice(0, axis));
  const inner = sizeOf(shape0.slice(axis + 1));
  let k = 0;
  for (let o = 0; o < outer; o++) {
    for (const { data, shape } of parts) {
      const chunk = shape[axis]! * inner;
      out.set(data.subarray(o * chunk, (o + 1) * chunk), k);
      k += chunk;
    }
  }
}
