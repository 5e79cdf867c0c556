/**
 * Elementwise kernels, plainly: unary maps, and binary ops and `where` with NumPy broadcasting. Each op is a
 * function of one element, called once per element. The fast cpu backend compiles the same formulas into a
 * loop per op (../cpu/elementwise.ts) and is tested against these.
 */
import type { BinaryOp, UnaryOp } from '../../backend.js';
import type { TypedArray } from '../../dtype.js';
import { type Shape, broadcastStrides } from '../../shape.js';
import { gelu, geluTanh, sigmoid } from './math.js';
import { forEachRow } from './rows.js';

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
};

export const BINARY: Record<BinaryOp, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  pow: Math.pow,
  maximum: (x, y) => (x > y || x !== x ? x : y), // NaN (x !== x) propagates, as in torch.maximum
  minimum: (x, y) => (x < y || x !== x ? x : y),
  eq: (x, y) => (x === y ? 1 : 0),
  ne: (x, y) => (x !== y ? 1 : 0),
  lt: (x, y) => (x < y ? 1 : 0),
  le: (x, y) => (x <= y ? 1 : 0),
  gt: (x, y) => (x > y ? 1 : 0),
  ge: (x, y) => (x >= y ? 1 : 0),
};

/** out[i] = op(a[i]). */
export function unaryInto(op: UnaryOp, a: TypedArray, out: TypedArray): void {
  const f = UNARY[op];
  for (let i = 0; i < a.length; i++) out[i] = f(a[i]!);
}

/** out = op(a, b) over outShape; a broadcast axis has stride 0, so its one element is read again and again. */
export function binaryInto(
  op: BinaryOp,
  a: TypedArray, aShape: Shape,
  b: TypedArray, bShape: Shape,
  out: TypedArray, outShape: Shape,
): void {
  const f = BINARY[op];
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  const ia = sa.at(-1) ?? 0;
  const ib = sb.at(-1) ?? 0;
  forEachRow(outShape, [sa, sb], (k, inner, [pa, pb]) => {
    for (let j = 0; j < inner; j++) out[k + j] = f(a[pa! + j * ia]!, b[pb! + j * ib]!);
  });
}

/** out = cond ≠ 0 ? a : b over outShape, all three broadcast. */
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
