/** Reference elementwise kernels: unary maps, and binary ops / where with NumPy broadcasting. */
import type { BinaryOp, UnaryOp } from '../../backend.js';
import type { TypedArray } from '../../dtype.js';
import { type Shape, broadcastStrides, sizeOf } from '../../shape.js';
import { gelu, geluGrad, geluTanh, geluTanhGrad, sigmoid } from './math.js';

export const UNARY: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x), // keeps NaN and ±0 as they are, like torch.sign
  square: (x) => x * x,
  reciprocal: (x) => 1 / x,
  relu: (x) => (x > 0 ? x : 0),
  gelu,
  gelu_tanh: geluTanh,
  tanh: Math.tanh,
  sigmoid,
  sin: Math.sin,
  cos: Math.cos,
  relu_grad: (x) => (x > 0 ? 1 : 0),
  gelu_grad: geluGrad,
  gelu_tanh_grad: geluTanhGrad,
};

export const BINARY: Record<BinaryOp, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  pow: Math.pow,
  maximum: (x, y) => (x > y || Number.isNaN(x) ? x : y), // NaN propagates, as in torch.maximum
  minimum: (x, y) => (x < y || Number.isNaN(x) ? x : y),
  eq: (x, y) => (x === y ? 1 : 0),
  ne: (x, y) => (x !== y ? 1 : 0),
  lt: (x, y) => (x < y ? 1 : 0),
  le: (x, y) => (x <= y ? 1 : 0),
  gt: (x, y) => (x > y ? 1 : 0),
  ge: (x, y) => (x >= y ? 1 : 0),
};

export function unaryInto(f: (x: number) => number, a: TypedArray, out: TypedArray): void {
  for (let i = 0; i < a.length; i++) out[i] = f(a[i]!);
}

/**
 * out[i] = f(a[ia], b[ib]) over outShape. The last axis runs in a tight loop; the others advance an
 * odometer whose offsets use stride 0 on broadcast axes.
 */
export function binaryInto(
  f: (x: number, y: number) => number,
  a: TypedArray, aShape: Shape,
  b: TypedArray, bShape: Shape,
  out: TypedArray, outShape: Shape,
): void {
  const n = sizeOf(outShape);
  if (n === 0) return;
  if (a.length === n && b.length === n) {
    for (let i = 0; i < n; i++) out[i] = f(a[i]!, b[i]!);
    return;
  }
  if (b.length === 1 && a.length === n) {
    const y = b[0]!;
    for (let i = 0; i < n; i++) out[i] = f(a[i]!, y);
    return;
  }
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  forEachRow(outShape, [sa, sb], (k, inner, [pa, pb]) => {
    const ia = sa[sa.length - 1]!;
    const ib = sb[sb.length - 1]!;
    for (let j = 0; j < inner; j++) out[k + j] = f(a[pa! + j * ia]!, b[pb! + j * ib]!);
  });
}

export function whereInto(
  cond: TypedArray, cShape: Shape,
  a: TypedArray, aShape: Shape,
  b: TypedArray, bShape: Shape,
  out: TypedArray, outShape: Shape,
): void {
  const sc = broadcastStrides(cShape, outShape);
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  const last = outShape.length - 1;
  forEachRow(outShape, [sc, sa, sb], (k, inner, [pc, pa, pb]) => {
    const ic = sc[last] ?? 0;
    const ia = sa[last] ?? 0;
    const ib = sb[last] ?? 0;
    for (let j = 0; j < inner; j++) out[k + j] = cond[pc! + j * ic] !== 0 ? a[pa! + j * ia]! : b[pb! + j * ib]!;
  });
}

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
