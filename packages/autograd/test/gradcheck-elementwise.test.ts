/**
 * gradcheck for every elementwise op: unary ops, binary ops under every broadcasting pattern (and with
 * plain numbers), ops on permuted inputs, and the tie rules of maximum/minimum checked by hand.
 */
import { describe, expect, it } from 'vitest';
import * as ag from '@grok/autograd';
import { type Tensor, tensor } from '@grok/autograd';
import { awayFromZero, expectGradcheck, param, positive, randParam } from './helpers.js';

describe('unary ops', () => {
  // Each op with an input domain where it is smooth.
  const cases: [string, (x: Tensor) => Tensor, (seed: number) => Tensor][] = [
    ['neg', ag.neg, (s) => randParam([2, 3], s)],
    ['exp', ag.exp, (s) => randParam([2, 3], s)],
    ['log', ag.log, (s) => positive([2, 3], s)],
    ['sqrt', ag.sqrt, (s) => positive([2, 3], s)],
    ['square', ag.square, (s) => randParam([2, 3], s)],
    ['reciprocal', ag.reciprocal, (s) => positive([2, 3], s)],
    ['abs', ag.abs, (s) => awayFromZero([2, 3], s)],
    ['relu', ag.relu, (s) => awayFromZero([2, 3], s)],
    ['gelu', ag.gelu, (s) => randParam([2, 3], s)],
    ['geluTanh', ag.geluTanh, (s) => randParam([2, 3], s)],
    ['tanh', ag.tanh, (s) => randParam([2, 3], s)],
    ['sigmoid', ag.sigmoid, (s) => randParam([2, 3], s)],
    ['sin', ag.sin, (s) => randParam([2, 3], s)],
    ['cos', ag.cos, (s) => randParam([2, 3], s)],
  ];
  it.each(cases)('%s', (_name, op, input) => {
    expectGradcheck(op, [input(1)]);
    // Also on a permuted input: the op must see (and differentiate) the permuted layout.
    expectGradcheck((x) => op(x.permute(1, 0)), [input(2)]);
  });

  it('gelu and geluTanh over a wide range, including large |x|', () => {
    const x = param([-6, -3.5, -1.2, -0.3, 0.05, 0.7, 2.2, 5.5]);
    expectGradcheck(ag.gelu, [x]);
    expectGradcheck(ag.geluTanh, [x]);
  });

  it('sign has zero gradient away from 0', () => {
    const x = awayFromZero([5], 3);
    ag.sign(x).sum().backward();
    expect(Array.from(x.grad!.data)).toEqual([0, 0, 0, 0, 0]);
  });

  it('abs and relu: the gradient is sign(x) and the step, away from the kink', () => {
    const x = param([-2, -0.5, 0.5, 3]);
    ag.abs(x).sum().backward();
    expect(Array.from(x.grad!.data)).toEqual([-1, -1, 1, 1]);
    const y = param([-2, -0.5, 0.5, 3]);
    ag.relu(y).sum().backward();
    expect(Array.from(y.grad!.data)).toEqual([0, 0, 1, 1]);
  });

  it('the Tensor methods match the functions', () => {
    expectGradcheck((x) => x.exp().mul(x.tanh()).add(x.sigmoid()).sub(x.sin().mul(x.cos())), [randParam([3], 4)]);
    expectGradcheck((x) => x.abs().sqrt().add(x.square()).add(x.gelu()).sub(x.relu()).neg(), [awayFromZero([4], 5)]);
  });
});

describe('binary ops with broadcasting', () => {
  const ops: [string, (a: Tensor, b: Tensor) => Tensor][] = [
    ['add', ag.add],
    ['sub', ag.sub],
    ['mul', ag.mul],
    ['div', ag.div],
    ['pow', ag.pow],
    ['maximum', ag.maximum],
    ['minimum', ag.minimum],
  ];
  // [shape of a, shape of b]: same shape, trailing broadcast, both-sides broadcast, scalars, rank-3.
  const shapes: [number[], number[]][] = [
    [[2, 3], [2, 3]],
    [[2, 3], [3]],
    [[3], [2, 3]],
    [[2, 1], [1, 3]],
    [[2, 3], []],
    [[], [2, 3]],
    [[4, 1, 3], [2, 1]],
  ];
  // pow and div need a positive base/denominator; the others take any value. Distinct seeds for a
  // and b keep maximum/minimum away from ties (where they are not differentiable).
  const inputs = (name: string, sa: number[], sb: number[]): [Tensor, Tensor] => {
    if (name === 'pow') return [positive(sa, 11), randParam(sb, 12)];
    if (name === 'div') return [randParam(sa, 13), positive(sb, 14)];
    return [randParam(sa, 15), randParam(sb, 16)];
  };
  for (const [name, op] of ops) {
    it.each(shapes)(`${name}: %j with %j`, (sa, sb) => {
      expectGradcheck(op, inputs(name, sa, sb));
    });
  }

  it('with a plain number on either side', () => {
    const x = positive([2, 3], 21);
    for (const f of [
      (a: Tensor) => ag.add(a, 2.5),
      (a: Tensor) => ag.add(2.5, a),
      (a: Tensor) => ag.sub(1, a),
      (a: Tensor) => ag.mul(a, -3),
      (a: Tensor) => ag.div(2, a),
      (a: Tensor) => ag.div(a, 4),
      (a: Tensor) => ag.pow(a, 3),
      (a: Tensor) => ag.pow(a, 0.5),
      (a: Tensor) => ag.pow(2, a), // gradient with respect to the exponent
      (a: Tensor) => ag.maximum(a, 0.9),
      (a: Tensor) => ag.minimum(0.9, a),
    ]) {
      expectGradcheck(f, [x]);
    }
  });

  it('only one side requires grad', () => {
    const a = randParam([2, 3], 31);
    const b = ag.randn([3], { dtype: 'float64', seed: 32 }); // a constant
    expectGradcheck((x) => ag.mul(x, b), [a]);
    expectGradcheck((x) => ag.div(b, ag.exp(x)), [a]);
    expectGradcheck((x) => ag.pow(ag.exp(b), x), [a]);
  });

  it('pow: gradient with respect to both base and exponent, compared with the formula', () => {
    const a = param([2, 3]);
    const b = param([1.5, -0.5]);
    ag.pow(a, b).sum().backward();
    // d(aᵇ)/da = b·aᵇ⁻¹, d(aᵇ)/db = aᵇ·ln a
    expect(a.grad!.data[0]).toBeCloseTo(1.5 * Math.sqrt(2), 12);
    expect(a.grad!.data[1]).toBeCloseTo(-0.5 * 3 ** -1.5, 12);
    expect(b.grad!.data[0]).toBeCloseTo(2 ** 1.5 * Math.log(2), 12);
    expect(b.grad!.data[1]).toBeCloseTo(3 ** -0.5 * Math.log(3), 12);
  });

  it('pow at the edges, as PyTorch: d(x⁰)/dx = 0 even at x = 0; d(0ᵇ)/db = 0', () => {
    const x = param([0, 2, -3]);
    ag.pow(x, 0).sum().backward();
    expect(Array.from(x.grad!.data)).toEqual([0, 0, 0]);
    const base = param([0, 0, 2]);
    const exponent = param([0, 2, 1]);
    ag.pow(base, exponent).sum().backward();
    expect(Array.from(base.grad!.data)).toEqual([0, 0, 1]); // 0·0⁻¹ is taken as 0; 2·0¹ = 0; 1·2⁰
    expect(Array.from(exponent.grad!.data)).toEqual([0, 0, 2 * Math.log(2)]);
  });

  it('a number that an int32 tensor cannot hold is an error, not a silent truncation', () => {
    const i = tensor([1, 2], { dtype: 'int32' });
    expect(() => ag.mul(i, 0.5)).toThrow(/mul: the number 0.5 cannot be used with an int32 tensor \[2\]/);
    expect(() => ag.add(1.5, i)).toThrow(/add: the number 1.5/);
    expect(Array.from(ag.mul(i, 3).data)).toEqual([3, 6]);
  });

  it('the same tensor on both sides (x·x, x/x, x−x)', () => {
    const x = positive([4], 41);
    expectGradcheck((a) => ag.mul(a, a), [x]);
    expectGradcheck((a) => ag.add(ag.div(a, a), a), [x]);
    expectGradcheck((a) => ag.add(ag.sub(a, a), ag.pow(a, a)), [x]);
  });

  it('on permuted ("non-contiguous-looking") inputs, with broadcasting', () => {
    const a = randParam([2, 3, 4], 51);
    const b = randParam([3, 4], 52);
    // [2,3,4] → [4,2,3] against [3,4] → [4,3] → [4,1,3]
    expectGradcheck((x, y) => ag.mul(x.permute(2, 0, 1), y.transpose().unsqueeze(1)), [a, b]);
    // [2,3,4] → [4,3,2] against [3,4] → [4,3] → [4,3,1]
    expectGradcheck((x, y) => ag.sub(x.transpose(0, 2), y.transpose().unsqueeze(-1)), [a, b]);
  });
});

describe('maximum/minimum ties', () => {
  it('split the gradient evenly on ties, by hand', () => {
    const a = param([1, 2, 3]);
    const b = param([1, 5, 0]);
    ag.maximum(a, b).backward(tensor([10, 20, 30], { dtype: 'float64' }));
    expect(Array.from(a.grad!.data)).toEqual([5, 0, 30]);
    expect(Array.from(b.grad!.data)).toEqual([5, 20, 0]);

    const c = param([1, 2, 3]);
    const d = param([1, 5, 0]);
    ag.minimum(c, d).backward(tensor([10, 20, 30], { dtype: 'float64' }));
    expect(Array.from(c.grad!.data)).toEqual([5, 20, 0]);
    expect(Array.from(d.grad!.data)).toEqual([5, 0, 30]);
  });

  it('a broadcast operand sums its (split) shares', () => {
    const a = param([[1, 2], [3, 2]]);
    const t = param([2]);
    ag.maximum(a, t).sum().backward();
    expect(Array.from(a.grad!.data)).toEqual([0, 0.5, 1, 0.5]);
    expect(Array.from(t.grad!.data)).toEqual([2]); // 1 (beats 1) + ½ + 0 + ½
  });
});

describe('where', () => {
  it('routes the gradient by the condition, with broadcasting', () => {
    const cond = tensor([[1, 0, 1], [0, 0, 1]], { dtype: 'float64' });
    expectGradcheck((a, b) => ag.where(cond, a, b), [randParam([2, 3], 61), randParam([3], 62)]);
    expectGradcheck((a, b) => ag.where(cond, a, b), [randParam([2, 1], 63), randParam([], 64)]);
    expectGradcheck((a) => ag.where(cond, a, 0.5), [randParam([2, 3], 65)]);
    expectGradcheck((b) => ag.where(cond, -1, b), [randParam([1, 3], 66)]);
  });

  it('a comparison as the condition (ReLU written with where)', () => {
    const x = awayFromZero([3, 2], 67);
    expectGradcheck((a) => ag.where(ag.gt(a, 0), a, ag.mul(a, 0.1)), [x]);
    x.zeroGrad();
    const y = ag.where(ag.gt(x, 0), x, 0);
    y.sum().backward();
    expect(Array.from(x.grad!.data)).toEqual(Array.from(x.data, (v) => (v > 0 ? 1 : 0)));
  });

  it('comparisons carry no gradient', () => {
    const x = randParam([3], 68);
    for (const c of [ag.eq(x, 0), ag.ne(x, 0), ag.lt(x, 0), ag.le(x, 0), ag.gt(x, 0), ag.ge(x, 0), x.gt(x)]) {
      expect(c.requiresGrad).toBe(false);
      expect(c.node).toBeNull();
    }
  });
});
