/**
 * The cpu backend's specialised kernels against the reference compositions they replace: the tiny-matrix
 * matmul loop (vs the float64 reference loop), branch-free float32 relu,
 * column sums (vs a plain per-column sum) and broadcasts over merged axes (vs element-by-element indexing).
 */
import { describe, expect, it } from 'vitest';
import { type DType, type TypedArray, add, div, matmul, relu, setFastPath, sum, tensor } from '@grok/tensor';
import { mergeAxes } from '../src/backends/cpu/elementwise.js';
import { isSmallMatmul } from '../src/backends/cpu/small-matmul.js';
import { expectClose, randomValues, size, strides, unravel } from './helpers.js';

const t = (shape: number[], seed: number, dtype: DType = 'float32') =>
  tensor(randomValues(size(shape), seed), { shape, dtype });

describe('small matmul path (float32, per-entry work ≤ 4096)', () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[3830, 4, 1, 32], [3830, 4, 3, 32], false, true], // q · kᵀ
    [[3830, 4, 1, 3], [3830, 4, 3, 32], false, false], // pattern · v
    [[3830, 4, 1, 3], [3830, 4, 1, 32], true, false], // gᵀ · q
    [[3830, 4, 3, 32], [3830, 4, 1, 3], true, true],
    [[5, 3, 3, 7], [3, 7, 2], false, false], // B broadcast over the first batch axis
    [[1, 3, 7], [4, 2, 7], false, true], // A broadcast
    [[2, 1, 4], [2, 4, 1], true, true],
    [[3, 0], [0, 5], false, false], // K = 0
    [[1, 1], [1, 1], false, false],
    [[7, 13], [13, 9], false, false],
  ];
  for (const [aShape, bShape, transA, transB] of cases) {
    it(`[${aShape}]${transA ? 'ᵀ' : ''} · [${bShape}]${transB ? 'ᵀ' : ''}`, () => {
      const a = t(aShape, 1);
      const b = t(bShape, 2);
      const fast = matmul(a, b, { transA, transB });
      setFastPath(false);
      try {
        const ref = matmul(a, b, { transA, transB });
        expect(fast.shape).toEqual(ref.shape);
        expectClose(fast.data, ref.data, 1e-5);
      } finally {
        setFastPath(true);
      }
    });
  }

  it('takes only small problems', () => {
    expect(isSmallMatmul(1, 32, 3)).toBe(true);
    expect(isSmallMatmul(3830, 128, 512)).toBe(false);
  });
});

it('float32 relu on the bits: negatives (−0, −∞) become +0, positives stay', () => {
  const x = t([383, 5], 5);
  x.data.set([-0, -Infinity, Infinity, 1e-45, -1e-45]);
  const y = relu(x);
  const expected = Array.from(x.data, (v) => (v > 0 ? v : 0));
  expect(Array.from(y.data)).toEqual(expected);
  expect(Object.is(y.data[0], 0)).toBe(true);
});

describe('column sums (reduce over a non-last axis)', () => {
  for (const [shape, axis] of [[[3830, 512], 0], [[4, 113, 7], 1], [[3, 5, 2], 0], [[1, 3], 0]] as [number[], number][]) {
    it(`[${shape}] over axis ${axis}`, () => {
      const x = t(shape, 6);
      const s = sum(x, axis, true);
      const outer = size(shape.slice(0, axis));
      const n = shape[axis]!;
      const inner = size(shape.slice(axis + 1));
      const expected: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          let acc = 0;
          for (let j = 0; j < n; j++) acc += x.data[(o * n + j) * inner + i]!;
          expected.push(Math.fround(acc));
        }
      }
      expect(Array.from(s.data)).toEqual(expected);
    });
  }
});

describe('broadcasts over merged axes', () => {
  it('mergeAxes joins contiguous and broadcast runs, drops size-1 axes', () => {
    // [3830, 4, 1, 3] against a scalar: one run of 45,960.
    expect(mergeAxes([3830, 4, 1, 3], [[12, 3, 3, 1], [0, 0, 0, 0]])).toEqual({ shape: [45960], strides: [[1], [0]] });
    // [3830, 512] + [512]: rows stay, the bias repeats.
    expect(mergeAxes([3830, 512], [[512, 1], [0, 1]])).toEqual({ shape: [3830, 512], strides: [[512, 1], [0, 1]] });
  });

  const cases: [number[], number[]][] = [
    [[383, 4, 1, 3], []],
    [[383, 512], [512]],
    [[383, 113], [383, 1]],
    [[2, 3, 4, 5], [3, 1, 5]],
    [[2, 1, 4], [1, 3, 1]],
    [[1], [7]],
  ];
  for (const [aShape, bShape] of cases) {
    it(`[${aShape}] op [${bShape}]`, () => {
      for (const dtype of ['float32', 'float64'] as DType[]) {
        const a = t(aShape, 7, dtype);
        const b = t(bShape, 8, dtype);
        for (const [f, g] of [[add, (x: number, y: number) => x + y], [div, (x: number, y: number) => x / y]] as const) {
          const out = f(a, b);
          // The reference: each output element reads its inputs by index, size-1 axes at 0.
          const ea = broadcastNaive(a.data, aShape, out.shape);
          const eb = broadcastNaive(b.data, bShape, out.shape);
          const expected = Array.from(ea, (x, i) => (dtype === 'float32' ? Math.fround(g(x, eb[i]!)) : g(x, eb[i]!)));
          expect(Array.from(out.data)).toEqual(expected);
        }
      }
    });
  }
});

function broadcastNaive(data: TypedArray, shape: number[], outShape: readonly number[]): number[] {
  const st = strides(shape);
  const lead = outShape.length - shape.length;
  return Array.from({ length: size(outShape) }, (_, k) => {
    const idx = unravel(k, outShape).slice(lead);
    return data[idx.reduce((o, c, d) => o + (shape[d] === 1 ? 0 : c) * st[d]!, 0)]!;
  });
}
