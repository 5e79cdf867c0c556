/**
 * The fast cpu backend kernel by kernel against the reference backend (plain loops): the compiled
 * elementwise loops must give the same bits, the wasm matmul the same values within float32 rounding, and
 * every kernel the cpu inherits unchanged the same result. Also: the reference backend is registered and
 * selectable by name.
 */
import { describe, expect, it } from 'vitest';
import {
  type BinaryOp, CpuBackend, type NDArray, ReferenceBackend, type UnaryOp, availableBackends, binary, concat, crossEntropyRows,
  fused, gather, indexAdd, indexSelect, argmin, matmul, max, mean, permute, scatterAdd, setBackend, slice, softmax, sum, tensor, unary, where,
} from '@grok/tensor';
import { randomValues, size } from './helpers.js';

const cpu = new CpuBackend();
const ref = new ReferenceBackend();

/** The same seeded values on both backends. */
function pair(shape: number[], seed: number, dtype: 'float32' | 'float64' = 'float32', lo = -2, hi = 2): [NDArray, NDArray] {
  const v = randomValues(size(shape), seed).map((x) => lo + ((x + 1) * (hi - lo)) / 2);
  return [tensor(v, { shape, dtype, backend: cpu }), tensor(v, { shape, dtype, backend: ref })];
}
const ints = (values: number[]): [NDArray, NDArray] => [
  tensor(values, { dtype: 'int32', backend: cpu }),
  tensor(values, { dtype: 'int32', backend: ref }),
];

const bitsEqual = (a: NDArray, b: NDArray) => {
  expect(a.shape).toEqual(b.shape);
  expect(a.dtype).toBe(b.dtype);
  expect(Array.from(a.data)).toEqual(Array.from(b.data));
};

const UNARY: UnaryOp[] = ['neg', 'exp', 'abs', 'sign', 'square', 'reciprocal', 'relu', 'gelu', 'gelu_tanh', 'tanh', 'sigmoid', 'sin', 'cos'];
const BINARY: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'eq', 'lt', 'ge'];

describe('cpu vs reference, bit for bit', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    it(`every unary op (${dtype})`, () => {
      const [a, b] = pair([7, 9], 1, dtype);
      for (const op of UNARY) bitsEqual(unary(op, a), unary(op, b));
      const [pa, pb] = pair([5, 3], 2, dtype, 0.1, 3);
      for (const op of ['log', 'sqrt'] as const) bitsEqual(unary(op, pa), unary(op, pb));
    });
    it(`every binary op, same shape and broadcast (${dtype})`, () => {
      const [x1, x2] = pair([4, 3, 5], 3, dtype);
      for (const shape of [[4, 3, 5], [5], [4, 1, 5], [1], [3, 1]]) {
        const [y1, y2] = pair(shape, 4, dtype);
        for (const op of BINARY) bitsEqual(binary(op, x1, y1), binary(op, x2, y2));
      }
    });
  }

  it('fused formulas, where, reductions, softmax, layout, indexing, cross-entropy', () => {
    const [x1, x2] = pair([6, 8], 5);
    const [g1, g2] = pair([6, 8], 6);
    const k = { name: 'axpy', inputs: ['x', 'y'], scalars: ['a'], outputs: ['a * x + y', 'x * y'] };
    fused(k, [x1, g1], [0.25]).forEach((r, i) => bitsEqual(r, fused(k, [x2, g2], [0.25])[i]!));
    const [c1, c2] = pair([6, 1], 7);
    bitsEqual(where(c1, x1, g1), where(c2, x2, g2));
    for (const op of [sum, mean, max, argmin]) for (const axis of [0, 1]) bitsEqual(op(x1, axis), op(x2, axis));
    bitsEqual(softmax(x1), softmax(x2));
    bitsEqual(permute(x1, [1, 0]), permute(x2, [1, 0]));
    bitsEqual(slice(x1, [1, 2], [5, 7]), slice(x2, [1, 2], [5, 7]));
    bitsEqual(concat([x1, g1], 1), concat([x2, g2], 1));
    const [i1, i2] = ints([5, 0, 0, 3, 2]);
    bitsEqual(indexSelect(x1, 0, i1), indexSelect(x2, 0, i2));
    const [s1, s2] = pair([5, 8], 8);
    bitsEqual(indexAdd([6, 8], 0, i1, s1), indexAdd([6, 8], 0, i2, s2));
    const [j1, j2] = ints([1, 7, 7, 0, 2, 3]);
    bitsEqual(gather(x1, 1, j1.reshape([6, 1])), gather(x2, 1, j2.reshape([6, 1])));
    bitsEqual(scatterAdd([6, 8], 1, j1.reshape([6, 1]), c1), scatterAdd([6, 8], 1, j2.reshape([6, 1]), c2));
    const ce1 = crossEntropyRows(x1, j1, { withDerivative: true });
    const ce2 = crossEntropyRows(x2, j2, { withDerivative: true });
    bitsEqual(ce1.losses, ce2.losses);
    bitsEqual(ce1.dloss!, ce2.dloss!);
  });
});

describe('cpu vs reference, matmul within float32 rounding', () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[70, 33], [33, 41], false, false], // the wasm gemm
    [[33, 70], [33, 41], true, false],
    [[70, 33], [41, 33], false, true],
    [[3, 50, 17], [17, 9], false, false], // batch folded into rows
    [[60, 4, 1, 3], [60, 4, 3, 32], false, false], // the tiny products of attention
    [[60, 4, 1, 32], [60, 4, 3, 32], false, true],
  ];
  for (const [sa, sb, transA, transB] of cases) {
    it(`[${sa}]${transA ? 'ᵀ' : ''} · [${sb}]${transB ? 'ᵀ' : ''}`, () => {
      const [a1, a2] = pair(sa, 9);
      const [b1, b2] = pair(sb, 10);
      const fast = matmul(a1, b1, { transA, transB });
      const plain = matmul(a2, b2, { transA, transB });
      expect(fast.shape).toEqual(plain.shape);
      fast.data.forEach((v, i) => expect(Math.abs(v - plain.data[i]!)).toBeLessThanOrEqual(2e-6 * (1 + Math.abs(plain.data[i]!)) * sa.at(-1)!));
    });
  }
  it('float64 matmul on the cpu is the reference loop exactly', () => {
    const [a1, a2] = pair([20, 30], 11, 'float64');
    const [b1, b2] = pair([30, 10], 12, 'float64');
    bitsEqual(matmul(a1, b1), matmul(a2, b2));
  });
});

it("the reference backend is registered as 'reference'", () => {
  expect(availableBackends()).toContain('reference');
  const b = setBackend('reference');
  try {
    expect(b).toBeInstanceOf(ReferenceBackend);
    expect(b).not.toBeInstanceOf(CpuBackend);
    expect(tensor([1, 2, 3]).backend.name).toBe('reference');
  } finally {
    setBackend('cpu');
  }
});
