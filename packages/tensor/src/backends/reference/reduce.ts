/** Reference reductions over one axis. The tensor is viewed as [outer, n, inner]; sums accumulate in float64. */
import type { ReduceOp } from '../../backend.js';
import type { TypedArray } from '../../dtype.js';

export function reduceInto(
  op: ReduceOp, a: TypedArray, outer: number, n: number, inner: number, out: TypedArray,
): void {
  if ((op === 'sum' || op === 'mean') && inner > 1) return sumColumnsInto(op, a, outer, n, inner, out);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      out[o * inner + i] = reduceLine(op, a, base, n, inner);
    }
  }
}

function reduceLine(op: ReduceOp, a: TypedArray, base: number, n: number, stride: number): number {
  switch (op) {
    case 'sum':
    case 'mean': {
      let s = 0;
      for (let j = 0; j < n; j++) s += a[base + j * stride]!;
      return op === 'mean' ? s / n : s;
    }
    case 'max':
    case 'min': {
      let best = a[base]!;
      for (let j = 1; j < n; j++) {
        const x = a[base + j * stride]!;
        if (Number.isNaN(x)) return NaN; // NaN propagates, as in torch.max
        if (op === 'max' ? x > best : x < best) best = x;
      }
      return best;
    }
    case 'argmax':
    case 'argmin': {
      let best = a[base]!;
      let at = 0;
      if (Number.isNaN(best)) return 0;
      for (let j = 1; j < n; j++) {
        const x = a[base + j * stride]!;
        if (Number.isNaN(x)) return j; // torch treats NaN as the extreme
        if (op === 'argmax' ? x > best : x < best) {
          best = x;
          at = j;
        }
      }
      return at;
    }
  }
}

/**
 * sum/mean over the middle axis of [outer, n, inner] with inner > 1 (a bias gradient: [3830, 512] summed over
 * rows). Walking one column at a time strides through memory by `inner` and misses the cache on every
 * element; instead add whole rows into a float64 accumulator, reading the input once in order. Each column is
 * still summed in float64 over j = 0, 1, …, n − 1, so the result is bit-identical to the line-by-line loop.
 */
function sumColumnsInto(op: 'sum' | 'mean', a: TypedArray, outer: number, n: number, inner: number, out: TypedArray): void {
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    for (let j = 0; j < n; j++) {
      const base = (o * n + j) * inner;
      for (let i = 0; i < inner; i++) acc[i]! += a[base + i]!;
    }
    for (let i = 0; i < inner; i++) out[o * inner + i] = op === 'mean' ? acc[i]! / n : acc[i]!;
  }
}
