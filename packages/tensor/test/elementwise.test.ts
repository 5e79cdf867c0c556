import { describe, expect, it } from 'vitest';
import * as T from '@grok/tensor';
import { type NDArray, erf, tensor, unary, where } from '@grok/tensor';
import { expectClose, randomValues, ravel, size, unravel } from './helpers.js';

/** Naive broadcasting, written out: out[idx] = f(a[idx mod a.shape], b[idx mod b.shape]). */
function naiveBinary(
  f: (x: number, y: number) => number,
  a: number[], aShape: number[], b: number[], bShape: number[],
): { shape: number[]; data: number[] } {
  const nd = Math.max(aShape.length, bShape.length);
  const pa = [...new Array(nd - aShape.length).fill(1), ...aShape];
  const pb = [...new Array(nd - bShape.length).fill(1), ...bShape];
  const shape = pa.map((d, i) => (d === 1 ? pb[i]! : d));
  const data: number[] = [];
  for (let k = 0; k < size(shape); k++) {
    const idx = unravel(k, shape);
    const ia = ravel(idx.map((x, i) => (pa[i] === 1 ? 0 : x)), pa);
    const ib = ravel(idx.map((x, i) => (pb[i] === 1 ? 0 : x)), pb);
    data.push(f(a[ia]!, b[ib]!));
  }
  return { shape, data };
}

const BINARY: [string, (a: NDArray | number, b: NDArray | number) => NDArray, (x: number, y: number) => number][] = [
  ['add', T.add, (x, y) => x + y],
  ['sub', T.sub, (x, y) => x - y],
  ['mul', T.mul, (x, y) => x * y],
  ['div', T.div, (x, y) => x / y],
  ['pow', T.pow, (x, y) => Math.pow(x, y)],
  ['maximum', T.maximum, (x, y) => (x >= y ? x : y)],
  ['minimum', T.minimum, (x, y) => (x <= y ? x : y)],
  ['eq', T.eq, (x, y) => Number(x === y)],
  ['ne', T.ne, (x, y) => Number(x !== y)],
  ['lt', T.lt, (x, y) => Number(x < y)],
  ['le', T.le, (x, y) => Number(x <= y)],
  ['gt', T.gt, (x, y) => Number(x > y)],
  ['ge', T.ge, (x, y) => Number(x >= y)],
];

const SHAPES: [number[], number[]][] = [
  [[2, 3], [2, 3]],
  [[2, 3], [3]],
  [[3], [2, 3]],
  [[2, 1], [1, 3]],
  [[4, 1, 3], [2, 1]],
  [[2, 3], []],
  [[], [2, 3]],
  [[], []],
  [[0, 3], [3]],
  [[2, 0], [2, 1]],
  [[1, 1, 5], [5, 1]],
];

describe('binary ops with broadcasting (float64, against a naive loop)', () => {
  for (const [name, op, f] of BINARY) {
    it(name, () => {
      for (const [sa, sb] of SHAPES) {
        // Positive values for pow; a few exact ties so comparisons see equal elements.
        const a = randomValues(size(sa), 1).map((x) => Math.round((x + 1.5) * 4) / 4);
        const b = randomValues(size(sb), 2).map((x) => Math.round((x + 1.5) * 4) / 4);
        const expected = naiveBinary(f, a, sa, b, sb);
        const out = op(tensor(a, { shape: sa, dtype: 'float64' }), tensor(b, { shape: sb, dtype: 'float64' }));
        expect(out.shape, `${name} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`).toEqual(expected.shape);
        expect(out.dtype).toBe('float64');
        expectClose(out.data, expected.data, 1e-15);
      }
    });
  }

  it('a number operand becomes a scalar of the tensor dtype', () => {
    const t = tensor([1, 2, 3], { dtype: 'float64' });
    expect(Array.from(T.sub(10, t).data)).toEqual([9, 8, 7]);
    expect(Array.from(T.div(t, 2).data)).toEqual([0.5, 1, 1.5]);
    expect(Array.from(t.mul(3).add(1).data)).toEqual([4, 7, 10]);
    expect(Array.from(T.gt(t, 2).data)).toEqual([0, 0, 1]);
    expect(T.add(t, 1).dtype).toBe('float64');
    expect(() => T.add(1 as never, 2 as never)).toThrow(/add: at least one argument must be an NDArray/);
  });

  it('comparisons give 1/0 in the input dtype', () => {
    const a = tensor([1, 2, 3], { dtype: 'int32' });
    const b = tensor([3, 2, 1], { dtype: 'int32' });
    const lt = T.lt(a, b);
    expect(lt.dtype).toBe('int32');
    expect(Array.from(lt.data)).toEqual([1, 0, 0]);
    expect(Array.from(T.eq(a, b).data)).toEqual([0, 1, 0]);
    expect(Array.from(T.ge(a, b).data)).toEqual([0, 1, 1]);
  });

  it('NaN: comparisons are false (ne true), maximum/minimum propagate it', () => {
    const a = tensor([NaN, 1, NaN]);
    const b = tensor([1, NaN, NaN]);
    expect(Array.from(T.eq(a, b).data)).toEqual([0, 0, 0]);
    expect(Array.from(T.ne(a, b).data)).toEqual([1, 1, 1]);
    expect(Array.from(T.lt(a, b).data)).toEqual([0, 0, 0]);
    expect(Array.from(T.maximum(a, b).data).every(Number.isNaN)).toBe(true);
    expect(Array.from(T.minimum(a, b).data).every(Number.isNaN)).toBe(true);
  });
});

describe('int32 and float32 arithmetic', () => {
  it('int32 results stay int32: division truncates toward zero, overflow wraps', () => {
    const a = tensor([7, -7, 7, -7, 1], { dtype: 'int32' });
    const b = tensor([2, 2, -2, -2, 3], { dtype: 'int32' });
    const q = T.div(a, b);
    expect(q.dtype).toBe('int32');
    expect(Array.from(q.data)).toEqual([3, -3, -3, 3, 0]);
    expect(Array.from(T.mul(a, b).data)).toEqual([14, -14, -14, 14, 3]);
    const big = tensor([2147483647], { dtype: 'int32' });
    expect(T.add(big, 1).data[0]).toBe(-2147483648); // like C / torch int32
    expect(Array.from(T.pow(tensor([2, 3], { dtype: 'int32' }), 3).data)).toEqual([8, 27]);
    expect(Array.from(T.neg(a).data)).toEqual([-7, 7, -7, 7, -1]);
    expect(Array.from(T.abs(a).data)).toEqual([7, 7, 7, 7, 1]);
    expect(Array.from(T.sign(a).data)).toEqual([1, -1, 1, -1, 1]);
    expect(Array.from(T.square(b).data)).toEqual([4, 4, 4, 4, 9]);
    expect(Array.from(T.relu(a).data)).toEqual([7, 0, 7, 0, 1]);
  });

  it('int32 with a non-integer number is an error, not a silent truncation', () => {
    const a = tensor([1, 2, 3], { dtype: 'int32' });
    expect(() => T.mul(a, 0.5)).toThrow(/mul: .*0\.5.*int32/);
    expect(() => T.lt(a, 2.5)).toThrow(/lt/);
    expect(Array.from(T.mul(a, 2).data)).toEqual([2, 4, 6]);
  });

  it('float32 results are rounded once to float32', () => {
    const a = tensor([0.1, 1, 16777216]);
    const b = tensor([0.2, 3, 1]);
    const f = Math.fround;
    expect(Array.from(T.add(a, b).data)).toEqual([f(f(0.1) + f(0.2)), 4, 16777216]); // 2^24 + 1 rounds to 2^24
    expect(T.div(a, b).data[1]).toBe(f(1 / 3));
    expect(T.sqrt(tensor([2])).data[0]).toBe(f(Math.SQRT2));
    expect(T.exp(tensor([1])).data[0]).toBe(f(Math.E));
  });
});

describe('unary ops', () => {
  const xs = [-3, -1.5, -0.5, 0, 0.25, 1, 2.5];
  const cases: [string, (t: NDArray) => NDArray, (x: number) => number, number[]?][] = [
    ['neg', T.neg, (x) => -x],
    ['exp', T.exp, Math.exp],
    ['log', T.log, Math.log, [0.1, 1, 2, 100]],
    ['sqrt', T.sqrt, Math.sqrt, [0, 0.25, 2, 9]],
    ['abs', T.abs, Math.abs],
    ['sign', T.sign, Math.sign],
    ['square', T.square, (x) => x * x],
    ['reciprocal', T.reciprocal, (x) => 1 / x, [-2, 0.5, 4]],
    ['relu', T.relu, (x) => Math.max(x, 0)],
    ['tanh', T.tanh, (x) => (Math.exp(2 * x) - 1) / (Math.exp(2 * x) + 1)],
    ['sigmoid', T.sigmoid, (x) => 1 / (1 + Math.exp(-x))],
    ['sin', T.sin, Math.sin],
    ['cos', T.cos, Math.cos],
    ['gelu_tanh', T.geluTanh, (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)))],
  ];
  for (const [name, op, f, inputs] of cases) {
    it(name, () => {
      const x = inputs ?? xs;
      const out = op(tensor(x, { dtype: 'float64', shape: [x.length] }));
      expect(out.dtype).toBe('float64');
      expect(out.shape).toEqual([x.length]);
      expectClose(out.data, x.map(f), 1e-14);
      // float32 in, float32 out, values rounded from the exact result.
      const out32 = op(tensor(x));
      expect(out32.dtype).toBe('float32');
      expectClose(out32.data, x.map((v) => f(Math.fround(v))), 1e-6);
    });
  }

  it('edge values: log(0), sqrt(-1), 1/0, sign(±0, NaN), sigmoid of huge inputs', () => {
    expect(T.log(tensor([0])).data[0]).toBe(-Infinity);
    expect(T.sqrt(tensor([-1])).data[0]).toBeNaN();
    expect(T.reciprocal(tensor([0])).data[0]).toBe(Infinity);
    expect(Object.is(T.sign(tensor([-0])).data[0], -0)).toBe(true);
    expect(T.sign(tensor([NaN])).data[0]).toBeNaN();
    expect(Array.from(T.sigmoid(tensor([-1000, 1000], { dtype: 'float64' })).data)).toEqual([0, 1]);
    expect(Array.from(T.relu(tensor([-Infinity, Infinity])).data)).toEqual([0, Infinity]);
  });

  it('shape is kept, including scalars and empty tensors', () => {
    expect(T.exp(tensor(0)).shape).toEqual([]);
    expect(T.exp(tensor(0)).item()).toBe(1);
    expect(T.exp(T.zeros([2, 0, 3])).shape).toEqual([2, 0, 3]);
  });

  it('float-only ops reject int32', () => {
    const i = tensor([1], { dtype: 'int32' });
    for (const op of [T.exp, T.log, T.sqrt, T.gelu, T.geluTanh, T.tanh, T.sigmoid, T.sin, T.cos, T.reciprocal]) {
      expect(() => op(i)).toThrow(/needs a float32 or float64 tensor, got int32\[1\]/);
    }
  });
});

describe('erf and GELU', () => {
  it('erf matches known values to ~1e-15', () => {
    const known: [number, number][] = [
      [0, 0],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [3.5, 0.9999992569016276],
    ];
    for (const [x, y] of known) {
      expect(Math.abs(erf(x) - y)).toBeLessThan(2e-16 * Math.max(1, y) + 1e-16);
      expect(erf(-x)).toBe(-erf(x));
    }
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erf(NaN)).toBeNaN();
  });

  it('erf is accurate across both branches (series / continued fraction) and monotone', () => {
    // Independent check: erf(x) = 1 - erfc(x) with erfc from its asymptotic expansion is too loose near 3,
    // so integrate 2/√π e^(−t²) by Simpson's rule in float64.
    const simpson = (x: number) => {
      const n = 20000;
      const h = x / n;
      let s = 1 + Math.exp(-x * x);
      for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
      return ((2 / Math.sqrt(Math.PI)) * s * h) / 3;
    };
    for (const x of [0.1, 0.9, 1.7, 2.5, 2.999, 3, 3.001, 4, 5.5]) {
      expect(Math.abs(erf(x) - simpson(x)), `x=${x}`).toBeLessThan(1e-13);
    }
    let prev = -1;
    for (let x = -6; x <= 6; x += 0.01) {
      const y = erf(x);
      expect(y).toBeGreaterThanOrEqual(prev);
      prev = y;
    }
  });

  // Against PyTorch's own values (and derivatives): @grok/autograd's torch-reference test, which holds the
  // one copy of torch_vectors.json and the script that makes it.
  it('gelu(x) = x·Φ(x) with Φ from erf', () => {
    const x = [-2, -0.5, 0.5, 3];
    expectClose(T.gelu(tensor(x, { dtype: 'float64' })).data, x.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2))), 1e-15);
  });
});

describe('where', () => {
  it('selects with broadcasting over cond, a and b', () => {
    const cond = tensor([[1], [0]]); // [2, 1]
    const a = tensor([1, 2, 3]); // [3]
    const b = tensor(-1); // []
    const out = where(cond, a, b);
    expect(out.shape).toEqual([2, 3]);
    expect(out.toArray()).toEqual([[1, 2, 3], [-1, -1, -1]]);
  });

  it('uses a and b dtype, numbers are lifted, cond may be int32', () => {
    const cond = tensor([1, 0, 2], { dtype: 'int32' });
    const out = where(cond, tensor([1.5, 2.5, 3.5], { dtype: 'float64' }), 0);
    expect(out.dtype).toBe('float64');
    expect(Array.from(out.data)).toEqual([1.5, 0, 3.5]);
    // Two numbers with an int32 mask: a float result, not a truncated int one.
    const both = where(cond, 0.5, -1);
    expect(both.dtype).toBe('float32');
    expect(Array.from(both.data)).toEqual([0.5, -1, 0.5]);
  });

  it('matches a naive loop on [4,1,3] × [2,1] × [3]', () => {
    const c = randomValues(12, 3).map((x) => (x > 0 ? 1 : 0));
    const a = randomValues(2, 4);
    const b = randomValues(3, 5);
    const out = where(tensor(c, { shape: [4, 1, 3] }), tensor(a, { shape: [2, 1] }), tensor(b, { shape: [3] }));
    expect(out.shape).toEqual([4, 2, 3]);
    const f32 = (v: number) => Math.fround(v);
    for (let k = 0; k < 24; k++) {
      const [i, j, l] = unravel(k, [4, 2, 3]) as [number, number, number];
      const want = c[i * 3 + l] ? f32(a[j]!) : f32(b[l]!);
      expect(out.data[k]).toBe(want);
    }
  });

  it('rejects mismatched dtypes and shapes', () => {
    expect(() => where(tensor([1]), tensor([1]), tensor([1], { dtype: 'float64' }))).toThrow(/where: dtype mismatch/);
    expect(() => where(tensor([1, 0]), tensor([1, 2, 3]), 0)).toThrow(/where: shapes \[2\] and \[3\] and \[\] cannot be broadcast/);
  });
});

describe('broadcastTo', () => {
  it('repeats along broadcast axes and keeps -0 and NaN bit-exact', () => {
    const a = tensor([[-0], [NaN]]);
    const out = T.broadcastTo(a, [2, 2]);
    expect(out.shape).toEqual([2, 2]);
    expect(Object.is(out.data[0], -0)).toBe(true);
    expect(Object.is(out.data[1], -0)).toBe(true);
    expect(out.data[2]).toBeNaN();
    expect(() => T.broadcastTo(tensor([1, 2]), [3])).toThrow(/broadcastTo/);
    expect(() => T.broadcastTo(tensor([[1, 2]]), [2])).toThrow(/broadcastTo: cannot broadcast \[1, 2\] to \[2\]/);
  });
});
