import { describe, expect, it } from 'vitest';
import { logSoftmax, softmax, tensor } from '@grok/tensor';
import { expectClose, randomValues, ravel, unravel } from './helpers.js';

/** Softmax of one row in float64, from the definition (with the max subtracted). */
function naiveSoftmax(row: number[]): number[] {
  const m = Math.max(...row);
  const e = row.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

describe('softmax / logSoftmax', () => {
  it('rows sum to 1 and match the definition', () => {
    const data = randomValues(12, 1).map((x) => 3 * x);
    const t = tensor(data, { shape: [3, 4], dtype: 'float64' });
    const p = softmax(t);
    expect(p.shape).toEqual([3, 4]);
    for (let r = 0; r < 3; r++) {
      const row = data.slice(4 * r, 4 * r + 4);
      expectClose(p.data.subarray(4 * r, 4 * r + 4), naiveSoftmax(row), 1e-15);
      expectClose(logSoftmax(t).data.subarray(4 * r, 4 * r + 4), naiveSoftmax(row).map(Math.log), 1e-14);
    }
  });

  it('along non-last axes of a 3-D tensor', () => {
    const shape = [2, 3, 4];
    const data = randomValues(24, 2).map((x) => 5 * x);
    const t = tensor(data, { shape, dtype: 'float64' });
    for (const axis of [0, 1, -2, 2]) {
      const ax = (axis + 3) % 3;
      const p = softmax(t, axis);
      const lp = logSoftmax(t, axis);
      expect(p.shape).toEqual(shape);
      for (let k = 0; k < 24; k++) {
        const idx = unravel(k, shape);
        const line = Array.from({ length: shape[ax]! }, (_, j) => data[ravel(idx.map((x, i) => (i === ax ? j : x)), shape)]!);
        const want = naiveSoftmax(line)[idx[ax]!]!;
        expect(Math.abs(p.data[k]! - want)).toBeLessThan(1e-15);
        expect(Math.abs(lp.data[k]! - Math.log(want))).toBeLessThan(1e-14);
      }
    }
  });

  it('stays finite for extreme logits, in float32', () => {
    const t = tensor([[1000, 0, -1000], [1e30, 0, -1e30], [-1e30, -1e30, -1e30], [3e38, 3e38, 0]]);
    const p = softmax(t);
    expect(Array.from(p.data).every(Number.isFinite)).toBe(true);
    expect(p.toArray()).toEqual([[1, 0, 0], [1, 0, 0], [1 / 3, 1 / 3, 1 / 3].map(Math.fround), [0.5, 0.5, 0]]);
    const lp = logSoftmax(t);
    expect(Array.from(lp.data).every(Number.isFinite)).toBe(true);
    expect((lp.toArray() as number[][])[0]).toEqual([0, -1000, -2000]);
    expect((lp.toArray() as number[][])[1]).toEqual([0, -1e30, -2e30].map(Math.fround));
    expect((lp.toArray() as number[][])[2]![0]).toBeCloseTo(-Math.log(3), 6);
    expect((lp.toArray() as number[][])[3]![0]).toBeCloseTo(-Math.log(2), 6);
  });

  it('-Infinity entries get probability 0; an all -Infinity row is NaN (as in torch)', () => {
    const t = tensor([[0, -Infinity, 0], [-Infinity, -Infinity, -Infinity]]);
    const p = softmax(t).toArray() as number[][];
    expect(p[0]).toEqual([0.5, 0, 0.5]);
    expect(p[1]!.every(Number.isNaN)).toBe(true);
    const lp = logSoftmax(t).toArray() as number[][];
    expect(lp[0]![1]).toBe(-Infinity);
    expect(lp[1]!.every(Number.isNaN)).toBe(true);
  });

  it('empty and single-element rows; scalars and ints are refused', () => {
    expect(softmax(tensor([[5], [7]])).toArray()).toEqual([[1], [1]]);
    expect(softmax(tensor([], { shape: [2, 0] })).shape).toEqual([2, 0]);
    expect(() => softmax(tensor(1))).toThrow(/softmax: needs at least 1 dimension/);
    expect(() => logSoftmax(tensor([1], { dtype: 'int32' }))).toThrow(/logSoftmax: needs a float32 or float64 tensor/);
    expect(() => softmax(tensor([1, 2]), 1)).toThrow(/softmax: axis 1 is out of range/);
  });
});
