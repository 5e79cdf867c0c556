/**
 * The fast cpu backend's elementwise kernels: unary maps and broadcast binary ops, each op's formula compiled
 * into its own loop (the plain versions, one function call per element, are ../reference/elementwise.ts).
 */
import type { BinaryOp, UnaryOp } from '../../backend.js';
import type { TypedArray } from '../../dtype.js';
import { type Shape, broadcastStrides, sizeOf } from '../../shape.js';
import { gelu, geluTanh, sigmoid } from '../reference/math.js';
import { forEachRow } from '../reference/rows.js';

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
const M = { gelu, geluTanh, sigmoid };

function compile<F>(params: string, body: string): F {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('M', `return function (${params}) { ${body} };`)(M) as F;
}

type UnaryLoop = (a: TypedArray, out: TypedArray, n: number) => void;
/** out[k + j] = f(a[pa + j·ia], b[pb + j·ib]) for j < inner: one row of a broadcast binary op. */
type BinaryRow = (a: TypedArray, pa: number, ia: number, b: TypedArray, pb: number, ib: number, out: TypedArray, k: number, inner: number) => void;
type BinarySame = (a: TypedArray, b: TypedArray, out: TypedArray, n: number) => void;

/**
 * Compiled loops are cached per op AND per array types: a loop that has seen Float32Array and Float64Array
 * reads through a polymorphic inline cache and runs 2–4× slower than one that only ever sees one type
 * (the training step mixes float32 activations with the float64 loss, so this happens in practice).
 * Each `new Function` has its own type feedback, so one copy per type combination stays monomorphic.
 */
const loops = new Map<string, unknown>();
function cached<F>(key: string, make: () => F): F {
  let f = loops.get(key) as F | undefined;
  if (!f) loops.set(key, (f = make()));
  return f;
}
const typeKey = (...arrays: TypedArray[]) => arrays.map((x) => x.constructor.name).join(',');

function unaryLoop(op: UnaryOp, a: TypedArray, out: TypedArray): UnaryLoop {
  return cached(`u:${op}:${typeKey(a, out)}`, () =>
    compile<UnaryLoop>('a, out, n', `for (let i = 0; i < n; i++) { const x = a[i]; out[i] = ${UNARY_EXPR[op]}; }`),
  );
}

function binaryRow(op: BinaryOp, a: TypedArray, b: TypedArray, out: TypedArray): BinaryRow {
  return cached(`r:${op}:${typeKey(a, b, out)}`, () =>
    compile<BinaryRow>(
      'a, pa, ia, b, pb, ib, out, k, inner',
      `for (let j = 0; j < inner; j++, pa += ia, pb += ib) { const x = a[pa], y = b[pb]; out[k + j] = ${BINARY_EXPR[op]}; }`,
    ),
  );
}

function binarySameShape(op: BinaryOp, a: TypedArray, b: TypedArray, out: TypedArray): BinarySame {
  return cached(`s:${op}:${typeKey(a, b, out)}`, () =>
    compile<BinarySame>('a, b, out, n', `for (let i = 0; i < n; i++) { const x = a[i], y = b[i]; out[i] = ${BINARY_EXPR[op]}; }`),
  );
}

export function unaryInto(op: UnaryOp, a: TypedArray, out: TypedArray): void {
  if (op === 'relu' && a instanceof Float32Array && out instanceof Float32Array) return reluFloat32(a, out);
  unaryLoop(op, a, out)(a, out, a.length);
}

const bits = (x: Float32Array) => new Int32Array(x.buffer, x.byteOffset, x.length);

/**
 * relu for float32 without a branch. `x > 0 ? x : 0` compiles to a conditional jump, and on pre-activations
 * that are positive half the time at random the CPU mispredicts it every other element: ≈ 15 ns/element
 * instead of ≈ 1. On the float's bits, `xi >> 31` is all ones exactly when the sign bit is set, so
 * `xi & ~(xi >> 31)` keeps positive floats and turns every negative one (−0 and −∞ included) into +0.
 * The one difference from the reference: a NaN with a clear sign bit stays NaN (as in torch.relu).
 */
function reluFloat32(a: Float32Array, out: Float32Array): void {
  const x = bits(a);
  const y = bits(out);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    y[i] = xi & ~(xi >> 31);
  }
}

/**
 * out = op(a, b) over outShape with NumPy broadcasting. Equal sizes run one flat loop; otherwise each row
 * (last axis) runs a tight strided loop, and an odometer over the other axes advances the offsets, with
 * stride 0 on broadcast axes. Axes are merged first where both inputs walk them as one (see mergeAxes), so
 * a scalar operand is one flat loop and [3830, 4, 1, 3] · [] is not 15,320 rows of 3.
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
    binarySameShape(op, a, b, out)(a, b, out, n);
    return;
  }
  const row = binaryRow(op, a, b, out);
  const merged = mergeAxes(outShape, [broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape)]);
  const [sa, sb] = merged.strides as [number[], number[]];
  const ia = sa[sa.length - 1] ?? 0;
  const ib = sb[sb.length - 1] ?? 0;
  forEachRow(merged.shape, [sa, sb], (k, inner, [pa, pb]) => row(a, pa!, ia, b, pb!, ib, out, k, inner));
}

/**
 * The same iteration over fewer axes: size-1 axes are dropped, and axis d joins axis d + 1 when every
 * operand steps over d exactly as over a whole run of d + 1 (stride[d] = stride[d + 1] · shape[d + 1]) —
 * true for contiguous axes and for two broadcast (stride 0) axes alike.
 */
export function mergeAxes(shape: Shape, strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const keep = shape.map((d, i) => i).filter((i) => shape[i] !== 1);
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (const i of keep) {
    const last = outShape.length - 1;
    const joins = last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[i]! * shape[i]!);
    if (joins) {
      outShape[last]! *= shape[i]!;
      strides.forEach((s, k) => (outStrides[k]![last] = s[i]!));
    } else {
      outShape.push(shape[i]!);
      strides.forEach((s, k) => outStrides[k]!.push(s[i]!));
    }
  }
  return { shape: outShape, strides: outStrides };
}
