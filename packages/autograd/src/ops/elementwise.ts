/**
 * Elementwise ops, each with its derivative beside it. Binary ops broadcast; their backward sums the
 * gradient back to each input's shape (sumToShape).
 */
import * as T from '@grok/tensor';
import { NDArray } from '@grok/tensor';
import type { FusedKernel } from '@grok/tensor';
import { sumToShape } from '../broadcast.js';
import type { Tensor } from '../tensor.js';
import { GELU_BACKWARD, GELU_TANH_BACKWARD, RELU_BACKWARD, activationBackward } from './activation-backward.js';
import { type Operand, assertTensor, constant, lift, record } from './record.js';

function binaryOperands(op: string, a: Operand, b: Operand): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number') throw new Error(`${op}: at least one argument must be a Tensor`);
  const ta = lift(a, b, op);
  const tb = lift(b, ta, op);
  return [ta, tb];
}

// d(a + b) = da + db
export function add(a: Operand, b: Operand): Tensor {
  const [x, y] = binaryOperands('add', a, b);
  return record('add', T.add(x.value, y.value), [x, y], (g) => [sumToShape(g, x.shape), sumToShape(g, y.shape)]);
}

// d(a − b) = da − db
export function sub(a: Operand, b: Operand): Tensor {
  const [x, y] = binaryOperands('sub', a, b);
  return record('sub', T.sub(x.value, y.value), [x, y], (g) => [sumToShape(g, x.shape), sumToShape(T.neg(g), y.shape)]);
}

// d(a·b) = b·da + a·db
export function mul(a: Operand, b: Operand): Tensor {
  const [x, y] = binaryOperands('mul', a, b);
  return record('mul', T.mul(x.value, y.value), [x, y], (g) => [
    x.requiresGrad ? sumToShape(T.mul(g, y.value), x.shape) : null,
    y.requiresGrad ? sumToShape(T.mul(g, x.value), y.shape) : null,
  ]);
}

// d(a/b) = da/b − a·db/b²
export function div(a: Operand, b: Operand): Tensor {
  const [x, y] = binaryOperands('div', a, b);
  const out = T.div(x.value, y.value);
  return record('div', out, [x, y], (g) => {
    const gOverB = T.div(g, y.value);
    return [
      x.requiresGrad ? sumToShape(gOverB, x.shape) : null,
      y.requiresGrad ? sumToShape(T.neg(T.mul(gOverB, out)), y.shape) : null, // −g·(a/b)/b
    ];
  });
}

// d(aᵇ) = b·aᵇ⁻¹·da + aᵇ·ln(a)·db   (as in PyTorch, the da term is 0 where b = 0 — a⁰ is constant, even
// at a = 0 where 0·0⁻¹ would be NaN — and the db term is 0 where a = 0)
export function pow(a: Operand, b: Operand): Tensor {
  const [x, y] = binaryOperands('pow', a, b);
  const out = T.pow(x.value, y.value);
  return record('pow', out, [x, y], (g) => [
    x.requiresGrad
      ? sumToShape(T.mul(g, T.where(T.eq(y.value, 0), 0, T.mul(y.value, T.pow(x.value, T.sub(y.value, 1))))), x.shape)
      : null,
    y.requiresGrad
      ? sumToShape(T.mul(g, T.where(T.eq(x.value, 0), 0, T.mul(out, T.log(x.value)))), y.shape)
      : null,
  ]);
}

/** The gradient of max/min goes to the larger/smaller input; on ties it is split evenly (as in PyTorch). */
function extremum(op: 'maximum' | 'minimum', a: Operand, b: Operand): Tensor {
  const [x, y] = binaryOperands(op, a, b);
  const out = op === 'maximum' ? T.maximum(x.value, y.value) : T.minimum(x.value, y.value);
  return record(op, out, [x, y], (g) => {
    const wins = op === 'maximum' ? T.gt(x.value, y.value) : T.lt(x.value, y.value);
    const share = T.add(wins, T.mul(T.eq(x.value, y.value), 0.5)); // 1 where x wins, ½ on ties, 0 else
    return [sumToShape(T.mul(g, share), x.shape), sumToShape(T.mul(g, T.sub(1, share)), y.shape)];
  });
}
export const maximum = (a: Operand, b: Operand) => extremum('maximum', a, b);
export const minimum = (a: Operand, b: Operand) => extremum('minimum', a, b);

/** An activation y = f(x) whose backward g · f'(x) is the fused `kernel` of (x, g). */
function activation(op: T.UnaryOp, a: Tensor, kernel: FusedKernel): Tensor {
  assertTensor(a, op);
  return record(op, T.unary(op, a.value), [a], (g) => [activationBackward(kernel, a.value, g)]);
}

/** A unary op y = f(x) whose backward is g · f'(x), with f' given from x and y. */
function unary(op: T.UnaryOp, a: Tensor, derivative: (x: NDArray, y: NDArray) => NDArray): Tensor {
  assertTensor(a, op);
  const y = T.unary(op, a.value);
  return record(op, y, [a], (g) => [T.mul(g, derivative(a.value, y))]);
}

export const neg = (a: Tensor) => record('neg', T.neg(assertOk(a, 'neg').value), [a], (g) => [T.neg(g)]); // d(−x) = −dx
export const exp = (a: Tensor) => unary('exp', a, (_x, y) => y); // (eˣ)' = eˣ
export const log = (a: Tensor) => unary('log', a, (x) => T.reciprocal(x)); // (ln x)' = 1/x
export const sqrt = (a: Tensor) => unary('sqrt', a, (_x, y) => T.div(0.5, y)); // (√x)' = 1/(2√x)
export const square = (a: Tensor) => unary('square', a, (x) => T.mul(x, 2)); // (x²)' = 2x
export const reciprocal = (a: Tensor) => unary('reciprocal', a, (_x, y) => T.neg(T.square(y))); // (1/x)' = −1/x²
export const abs = (a: Tensor) => unary('abs', a, (x) => T.sign(x)); // |x|' = sign(x) (0 at 0)
export const sign = (a: Tensor) => unary('sign', a, (x) => T.zerosLike(x)); // flat almost everywhere
// relu' = 1 where x > 0; gelu' = Φ(x) + x·φ(x); geluTanh' in activation-backward.ts. Each backward g · f'(x)
// is one fused kernel, not an f'(x) array and a product.
export const relu = (a: Tensor) => activation('relu', a, RELU_BACKWARD);
export const gelu = (a: Tensor) => activation('gelu', a, GELU_BACKWARD);
export const geluTanh = (a: Tensor) => activation('gelu_tanh', a, GELU_TANH_BACKWARD);
export const tanh = (a: Tensor) => unary('tanh', a, (_x, y) => T.sub(1, T.square(y))); // 1 − tanh²
export const sigmoid = (a: Tensor) => unary('sigmoid', a, (_x, y) => T.mul(y, T.sub(1, y))); // σ(1 − σ)
export const sin = (a: Tensor) => unary('sin', a, (x) => T.cos(x)); // sin' = cos
export const cos = (a: Tensor) => unary('cos', a, (x) => T.neg(T.sin(x))); // cos' = −sin

function assertOk(a: Tensor, op: string): Tensor {
  assertTensor(a, op);
  return a;
}

// Comparisons give 0/1 tensors that carry no gradient.
function compare(op: T.BinaryOp, a: Operand, b: Operand): Tensor {
  const [x, y] = binaryOperands(op, a, b);
  return constant(T.binary(op, x.value, y.value));
}
export const eq = (a: Operand, b: Operand) => compare('eq', a, b);
export const ne = (a: Operand, b: Operand) => compare('ne', a, b);
export const lt = (a: Operand, b: Operand) => compare('lt', a, b);
export const le = (a: Operand, b: Operand) => compare('le', a, b);
export const gt = (a: Operand, b: Operand) => compare('gt', a, b);
export const ge = (a: Operand, b: Operand) => compare('ge', a, b);

// where(c, a, b): the gradient goes to a where c holds and to b elsewhere.
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  assertTensor(cond, 'where', 'cond');
  const [x, y] = binaryOperands('where', a, b);
  const out = T.where(cond.value, x.value, y.value);
  return record('where', out, [x, y], (g) => [
    x.requiresGrad ? sumToShape(T.where(cond.value, g, 0), x.shape) : null,
    y.requiresGrad ? sumToShape(T.where(cond.value, 0, g), y.shape) : null,
  ]);
}
