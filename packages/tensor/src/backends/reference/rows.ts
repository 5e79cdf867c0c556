/** Iterating the rows (last axis) of a broadcast result: the odometer that elementwise and layout kernels share. */
import { type Shape, sizeOf } from '../../shape.js';

/**
 * Calls `row(outOffset, innerLength, inputOffsets)` once per row (last axis) of outShape, with each input's
 * offset computed from its (possibly broadcast) strides.
 */
export function forEachRow(
  outShape: Shape,
  strides: readonly (readonly number[])[],
  row: (outOffset: number, inner: number, offsets: number[]) => void,
): void {
  const nd = outShape.length;
  if (nd === 0) {
    row(0, 1, strides.map(() => 0));
    return;
  }
  const inner = outShape[nd - 1]!;
  const rows = sizeOf(outShape) / Math.max(inner, 1);
  if (inner === 0 || rows === 0) return;
  const counter = new Array<number>(nd - 1).fill(0);
  const offsets = strides.map(() => 0);
  for (let r = 0; r < rows; r++) {
    row(r * inner, inner, offsets);
    for (let d = nd - 2; d >= 0; d--) {
      counter[d]!++;
      for (let s = 0; s < strides.length; s++) offsets[s]! += strides[s]![d]!;
      if (counter[d]! < outShape[d]!) break;
      for (let s = 0; s < strides.length; s++) offsets[s]! -= strides[s]![d]! * outShape[d]!;
      counter[d] = 0;
    }
  }
}
