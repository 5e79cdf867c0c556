/** Reference elementwise kernels: unary maps, and binary ops / where with NumPy broadcasting. */
import type { BinaryOp, UnaryOp } from '../../backend.js';
import type { TypedArray } from '../../dtype.js';
import { type Shape, broadcastStrides, sizeOf } from '../../shape.js';
import { gelu, geluGrad, geluTanh, geluTanhGrad, sigmoid } from './math.js';

/**
 * Each op is written once, as a JavaScript expression of x (and y). From it we compile one loop per op
 * with the expression inlined: calling a closure per element (one shared loop for all ops) is about 5×
 * slower, because V8 cannot inline a call site that sees many different functions.
 */
const UNARY_EXPR: Record<UnaryOp, string> = {
  neg: '-x',
  exp: 'Math.exp(x)',
  log: 'Math.log(x)',
  sqrt: 'Math.sqrt(x)',
  abs: 'Math.abs(x)',
  sign: 'x > 0 ? 1 : x < 0 ? -1 : x', // keeps NaN and ±0 as they are, like torch.sign
  square: 'x * x',
  reciprocal: '1 / x',
  relu: 'x > 0 ? x : 0',
  gelu: 'M.gelu(x)',
  gelu_tanh: 'M.geluTanh(x)',
  tanh: 'Math.tanh(x)',
  sigmoid: 'M.sigmoid(x)',
  sin: 'Math.sin(x)',
  cos: 'Math.cos(x)',
  relu_grad: 'x > 0 ? 1 : 0',
  gelu_grad: 'M.geluGrad(x)',
  gelu_tanh_grad: 'M.geluTanhGrad(x)',
};

const BINARY_EXPR: Record<BinaryOp, string> = {
  add: 'x + y',
  sub: 'x - y',
  mul: 'x * y',
  div: 'x / y',
  pow: 'Math.pow(x, y)',
  maximum: 'x > y || x !== x ? x : y', // NaN (x !== x) propagates, as in torch.maximum
  minimum: 'x < y || x !== x ? x : y',
  eq: 'x === y ? 1 : 0',
  ne: 'x !== y ? 1 : 0',
  lt: 'x < y ? 1 : 0',
  le: 'x <= y ? 1 : 0',
  gt: 'x > y ? 1 : 0',
  ge: 'x >= y ? 1 : 0',
};

/** The helpers an expression may call as M.name. */
const M = { gelu, geluGrad, geluTanh, geluTanhGrad, sigmoid };

function compile<F>(params: string, body: string): F {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('M', `return function (${params}) { ${body} };`)(M) as F;
}

type UnaryLoop = (a: TypedArray, out: TypedArray, n: number) => void;
/** out[k + j] = f(a[pa + j·ia], b[pb + j·ib]) for j < inner: one row of a broadcast binary op. */
type BinaryRow = (a: TypedArray, pa: number, ia: number, b: TypedArray, pb: number, ib: number, out: TypedArray, k: number, inner: number) => void;
type BinarySame = (a: TypedArray, b: TypedArray, out: TypedArray, n: number) => void;

const unaryLoops = new Map<UnaryOp, UnaryLoop>();
const binaryRows = new Map<BinaryOp, BinaryRow>();
const binarySame = new Map<BinaryOp, BinarySame>();

function unaryLoop(op: UnaryOp): UnaryLoop {
  let f = unaryLoops.get(op);
  if (!f) {
    f = compile<UnaryLoop>('a, out, n', `for (let i = 0; i < n; i++) { const x = a[i]; out[i] = ${UNARY_EXPR[op]}; }`);
    unaryLoops.set(op, f);
  }
  return f;
}

function binaryRow(op: BinaryOp): BinaryRow {
  let f = binaryRows.get(op);
  if (!f) {
    f = compile<BinaryRow>(
      'a, pa, ia, b, pb, ib, out, k, inner',
      `for (let j = 0; j < inner; j++, pa += ia, pb += ib) { const x = a[pa], y = b[pb]; out[k + j] = ${BINARY_EXPR[op]}; }`,
    );
    binaryRows.set(op, f);
  }
  return f;
}

function binarySameShape(op: BinaryOp): BinarySame {
  let f = binarySame.get(op);
  if (!f) {
    f = compile<BinarySame>('a, b, out, n', `for (let i = 0; i < n; i++) { const x = a[i], y = b[i]; out[i] = ${BINARY_EXPR[op]}; }`);
    binarySame.set(op, f);
  }
  return f;
}

export function unaryInto(op: UnaryOp, a: TypedArray, out: TypedArray): void {
  unaryLoop(op)(a, out, a.length);
}

/**
 * out = op(a, b) over outShape with NumPy broadcasting. Equal sizes run one flat loop; otherwise each row
 * (last axis) runs a tight strided loop, and an odometer over the other axes advances the offsets, with
 * stride 0 on broadcast axes.
 */
export function binaryInto(
  op: BinaryOp,
  a: TypedArray, aShape: Shape,
  b: TypedArray, bShape: Shape,
  out: TypedArray, outShape: Shape,
): void {
  const n = sizeOf(outShape);
  if (n === 0) return;
  if (a.length === n && b.length === n) {
    binarySameShape(op)(a, b, out, n);
    return;
  }
  const row = binaryRow(op);
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  const ia = sa[sa.length - 1] ?? 0;
  const ib = sb[sb.length - 1] ?? 0;
  forEachRow(outShape, [sa, sb], (k, inner, [pa, pb]) => row(a, pa!, ia, b, pb!, ib, out, k, inner));
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
