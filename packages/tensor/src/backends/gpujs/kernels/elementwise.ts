/**
 * Elementwise kernels: unary maps, binary ops and where, with NumPy broadcasting.
 *
 * Each op is a JavaScript expression in x (and y) that GPU.js translates; the kernel around it finds the
 * thread's element in each (broadcast) input. int32 tensors hold exact integers as floats, so the only
 * int-specific rule is to truncate where a float op could leave a fraction (div, pow), as the cpu's
 * Int32Array stores do.
 */
import type { BinaryOp, UnaryOp } from '../../../backend.js';
import type { DType } from '../../../dtype.js';
import { type Shape, broadcastStrides, sizeOf } from '../../../shape.js';
import type { KernelSpec } from '../kernel-cache.js';
import { helpersFor } from './math.js';
import { addressing, kernelSource } from './source.js';

export const UNARY_EXPR: Record<UnaryOp, string> = {
  neg: '-x',
  exp: 'Math.exp(x)',
  log: 'Math.log(x)',
  sqrt: 'Math.sqrt(x)',
  abs: 'Math.abs(x)',
  sign: '(x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : x))',
  square: 'x * x',
  reciprocal: '1.0 / x',
  relu: '(x > 0.0 ? x : 0.0)',
  gelu: 'gelu32(x)',
  gelu_tanh: 'geluTanh32(x)',
  tanh: 'tanh32(x)',
  sigmoid: 'sigmoid32(x)',
  sin: 'Math.sin(x)',
  cos: 'Math.cos(x)',
};

export const BINARY_EXPR: Record<BinaryOp, string> = {
  add: 'x + y',
  sub: 'x - y',
  mul: 'x * y',
  div: 'x / y',
  pow: 'Math.pow(x, y)',
  maximum: 'Math.max(x, y)',
  minimum: 'Math.min(x, y)',
  eq: '(x === y ? 1.0 : 0.0)',
  ne: '(x !== y ? 1.0 : 0.0)',
  lt: '(x < y ? 1.0 : 0.0)',
  le: '(x <= y ? 1.0 : 0.0)',
  gt: '(x > y ? 1.0 : 0.0)',
  ge: '(x >= y ? 1.0 : 0.0)',
};

/** int32 results of ops that can leave a fraction are truncated toward zero. */
function forDType(op: BinaryOp, expr: string, dtype: DType): string {
  return dtype === 'int32' && (op === 'div' || op === 'pow') ? `Math.trunc(${expr})` : expr;
}

/** out[i] = f(a[i]) over `size` elements; `a` starts at `offset` in its buffer. */
export function unarySpec(op: UnaryOp, size: number, offset: number): KernelSpec {
  const expr = UNARY_EXPR[op];
  return {
    source: kernelSource(['a'], `const x = a[${offset} + this.thread.x];\n  return ${expr};`),
    output: [size],
    loop: 0,
    functions: helpersFor(expr),
  };
}

export interface Operand {
  shape: Shape;
  offset: number;
}

/** out[i] = f(a[ia], b[ib]) over outShape, ia and ib following broadcasting. */
export function binarySpec(op: BinaryOp, dtype: DType, a: Operand, b: Operand, outShape: Shape): KernelSpec {
  const address = addressing(outShape, 'this.thread.x', [
    { name: 'ia', strides: broadcastStrides(a.shape, outShape), base: a.offset },
    { name: 'ib', strides: broadcastStrides(b.shape, outShape), base: b.offset },
  ]);
  const body = `${address}\n  const x = a[ia];\n  const y = b[ib];\n  return ${forDType(op, BINARY_EXPR[op], dtype)};`;
  return { source: kernelSource(['a', 'b'], body), output: [sizeOf(outShape)], loop: 0 };
}

/** out[i] = cond[ic] != 0 ? a[ia] : b[ib], all three broadcast to outShape. */
export function whereSpec(cond: Operand, a: Operand, b: Operand, outShape: Shape): KernelSpec {
  const address = addressing(outShape, 'this.thread.x', [
    { name: 'ic', strides: broadcastStrides(cond.shape, outShape), base: cond.offset },
    { name: 'ia', strides: broadcastStrides(a.shape, outShape), base: a.offset },
    { name: 'ib', strides: broadcastStrides(b.shape, outShape), base: b.offset },
  ]);
  const body = `${address}\n  if (c[ic] !== 0.0) { return a[ia]; }\n  return b[ib];`;
  return { source: kernelSource(['c', 'a', 'b'], body), output: [sizeOf(outShape)], loop: 0 };
}
