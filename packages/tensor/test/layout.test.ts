import { describe, expect, it } from 'vitest';
import * as T from '@grok/tensor';
import { arange, tensor } from '@grok/tensor';
import { randomValues, ravel, size, unravel } from './helpers.js';

/** Naive permute: out[idx] = a[idx permuted back]. */
function naivePermute(data: number[], shape: number[], perm: number[]) {
  const outShape = perm.map((p) => shape[p]!);
  const out: number[] = [];
  for (let k = 0; k < size(outShape); k++) {
    const o = unravel(k, outShape);
    const src = new Array<number>(shape.length);
    perm.forEach((p, i) => (src[p] = o[i]!));
    out.push(data[ravel(src, shape)]!);
  }
  return { shape: outShape, data: out };
}

describe('reshape', () => {
  it('keeps row-major order, infers -1 and shares storage', () => {
    const a = arange(12);
    const b = T.reshape(a, [3, -1]);
    expect(b.shape).toEqual([3, 4]);
    expect(b.toArray()).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]);
    expect(b.data).toBe(a.data); // the same buffer, no copy
    expect(a.reshape(2, 3, 2).shape).toEqual([2, 3, 2]);
    expect(a.reshape([-1, 6]).shape).toEqual([2, 6]);
    expect(a.view(12).shape).toEqual([12]);
    expect(T.reshape(tensor(5), [1, 1]).shape).toEqual([1, 1]);
    expect(T.reshape(tensor([5]), []).shape).toEqual([]);
    expect(T.flatten(T.zeros([2, 3, 4])).shape).toEqual([24]);
    expect(T.reshape(T.zeros([0, 3]), [3, 0]).shape).toEqual([3, 0]);
  });

  it('rejects wrong sizes and several -1', () => {
    const a = arange(12);
    expect(() => T.reshape(a, [5, 3])).toThrow('reshape: cannot reshape [12] (12 elements) to [5, 3]');
    expect(() => T.reshape(a, [5, -1])).toThrow(/reshape: cannot reshape \[12\] \(12 elements\) to \[5, -1\]/);
    expect(() => T.reshape(a, [-1, -1])).toThrow(/reshape: only one dimension can be -1/);
    expect(() => T.reshape(a, [-2, -6])).toThrow(/reshape/);
  });
});

describe('transpose and permute', () => {
  it('transpose of a matrix', () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(T.transpose(a).toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(a.transpose(0, 1).toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(T.transpose(T.transpose(a)).toArray()).toEqual(a.toArray());
  });

  it('permute in 3-D and 4-D matches naive index math', () => {
    const cases: [number[], number[]][] = [
      [[2, 3, 4], [2, 0, 1]],
      [[2, 3, 4], [1, 0, 2]],
      [[2, 3, 4], [0, 2, 1]],
      [[2, 3, 4], [2, 1, 0]],
      [[2, 3, 4, 5], [0, 2, 1, 3]], // the attention head split
      [[2, 3, 4, 5], [3, 1, 0, 2]],
      [[2, 3, 4, 5], [-1, 0, -2, 1]],
      [[1, 3, 1, 2], [2, 3, 0, 1]],
    ];
    for (const [shape, perm] of cases) {
      const data = randomValues(size(shape), 4);
      const want = naivePermute(data, shape, perm.map((p) => (p < 0 ? p + shape.length : p)));
      const got = T.permute(tensor(data, { shape, dtype: 'float64' }), perm);
      expect(got.shape).toEqual(want.shape);
      expect(Array.from(got.data)).toEqual(want.data);
    }
    const t = tensor(randomValues(24, 1), { shape: [2, 3, 4] });
    expect(t.permute(1, 2, 0).shape).toEqual([3, 4, 2]);
    expect(T.transpose(t, 0, 2).shape).toEqual([4, 3, 2]);
    expect(Array.from(T.transpose(t, 0, 2).data)).toEqual(naivePermute(Array.from(t.data), [2, 3, 4], [2, 1, 0]).data);
  });

  it('rejects non-permutations', () => {
    const t = T.zeros([2, 3, 4]);
    expect(() => T.permute(t, [0, 1])).toThrow(/permute: \[0, 1\] is not a permutation of the axes of \[2, 3, 4\]/);
    expect(() => T.permute(t, [0, 1, 1])).toThrow(/permute/);
    expect(() => T.permute(t, [0, 1, 3])).toThrow(/permute: axis 3 is out of range/);
    expect(() => T.transpose(t, 0, 5)).toThrow(/transpose: axis 5/);
  });
});

describe('slice and narrow', () => {
  const a = tensor(Array.from({ length: 20 }, (_, i) => i), { shape: [4, 5] });

  it('slices boxes, with missing and negative bounds', () => {
    expect(T.slice(a, [1, 2], [3, 4]).toArray()).toEqual([[7, 8], [12, 13]]);
    expect(T.slice(a, [2]).toArray()).toEqual([[10, 11, 12, 13, 14], [15, 16, 17, 18, 19]]);
    expect(T.slice(a, [-1, -2]).toArray()).toEqual([[18, 19]]);
    expect(T.slice(a, [0, 0], [-2, -4]).toArray()).toEqual([[0], [5]]);
    expect(T.slice(a, [0, 1], [100, 2]).toArray()).toEqual([[1], [6], [11], [16]]); // clamped like Python
    expect(T.slice(a, [3, 0], [1, 5]).shape).toEqual([0, 5]); // empty, not an error
    expect(T.slice(a, [-100], [2]).shape).toEqual([2, 5]);
    expect(() => T.slice(a, [0, 0, 0])).toThrow(/slice: more bounds than the 2 axes of \[4, 5\]/);
    expect(() => T.slice(a, [0.5])).toThrow(/slice: bounds must be integers/);
  });

  it('slices 3-D against naive indexing', () => {
    const shape = [3, 4, 5];
    const data = randomValues(60, 9);
    const t = tensor(data, { shape, dtype: 'float64' });
    const got = T.slice(t, [1, -3, 1], [3, 4, -1]);
    expect(got.shape).toEqual([2, 3, 3]);
    const want: number[] = [];
    for (let i = 1; i < 3; i++) for (let j = 1; j < 4; j++) for (let k = 1; k < 4; k++) want.push(data[ravel([i, j, k], shape)]!);
    expect(Array.from(got.data)).toEqual(want);
  });

  it('narrow', () => {
    expect(T.narrow(a, 1, 1, 2).toArray()).toEqual([[1, 2], [6, 7], [11, 12], [16, 17]]);
    expect(T.narrow(a, -2, 3, 1).toArray()).toEqual([[15, 16, 17, 18, 19]]);
    expect(() => T.narrow(a, 0, 3, 2)).toThrow(/narrow: \[3, 5\) is out of range for axis 0 of \[4, 5\]/);
    expect(() => T.narrow(a, 0, -1, 1)).toThrow(/narrow/);
  });
});

describe('concat and stack', () => {
  const x = tensor([[1, 2], [3, 4]]);
  const y = tensor([[5, 6]]);

  it('concat along each axis', () => {
    expect(T.concat([x, y]).toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(T.concat([x, tensor([[7], [8]])], 1).toArray()).toEqual([[1, 2, 7], [3, 4, 8]]);
    expect(T.concat([x, tensor([[7], [8]])], -1).toArray()).toEqual([[1, 2, 7], [3, 4, 8]]);
    expect(T.concat([x]).toArray()).toEqual(x.toArray());
    expect(T.concat([x, T.zeros([0, 2]), y]).shape).toEqual([3, 2]);
    // 3-D, middle axis, against naive placement.
    const p = tensor(randomValues(12, 1), { shape: [2, 2, 3] });
    const q = tensor(randomValues(6, 2), { shape: [2, 1, 3] });
    const c = T.concat([p, q], 1);
    expect(c.shape).toEqual([2, 3, 3]);
    for (let i = 0; i < 2; i++) {
      for (let k = 0; k < 3; k++) {
        expect(c.data[ravel([i, 0, k], [2, 3, 3])]).toBe(p.data[ravel([i, 0, k], [2, 2, 3])]);
        expect(c.data[ravel([i, 1, k], [2, 3, 3])]).toBe(p.data[ravel([i, 1, k], [2, 2, 3])]);
        expect(c.data[ravel([i, 2, k], [2, 3, 3])]).toBe(q.data[ravel([i, 0, k], [2, 1, 3])]);
      }
    }
  });

  it('concat errors', () => {
    expect(() => T.concat([])).toThrow(/concat: needs at least one tensor/);
    expect(() => T.concat([x, y], 1)).toThrow(/concat: shapes \[2, 2\], \[1, 2\] differ outside axis 1/);
    expect(() => T.concat([x, y.cast('float64')])).toThrow(/concat: dtype mismatch/);
    expect(() => T.concat([tensor(1), tensor(2)])).toThrow(/concat/); // scalars have no axis to join
  });

  it('stack', () => {
    const a = tensor([1, 2, 3]);
    const b = tensor([4, 5, 6]);
    expect(T.stack([a, b]).toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(T.stack([a, b], 1).toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(T.stack([a, b], -1).toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(T.stack([tensor(1), tensor(2)]).toArray()).toEqual([1, 2]);
    expect(() => T.stack([a, tensor([1, 2])])).toThrow(/stack: all shapes must be equal, got \[3\], \[2\]/);
  });
});

describe('squeeze / unsqueeze', () => {
  it('adds and removes size-1 axes', () => {
    const t = T.zeros([2, 1, 3, 1]);
    expect(T.squeeze(t).shape).toEqual([2, 3]);
    expect(T.squeeze(t, 1).shape).toEqual([2, 3, 1]);
    expect(T.squeeze(t, -1).shape).toEqual([2, 1, 3]);
    expect(() => T.squeeze(t, 0)).toThrow(/squeeze: axis 0 of \[2, 1, 3, 1\] has size 2, not 1/);
    expect(T.unsqueeze(T.zeros([2, 3]), 0).shape).toEqual([1, 2, 3]);
    expect(T.unsqueeze(T.zeros([2, 3]), 2).shape).toEqual([2, 3, 1]);
    expect(T.unsqueeze(T.zeros([2, 3]), -1).shape).toEqual([2, 3, 1]);
    expect(T.unsqueeze(tensor(3), 0).shape).toEqual([1]);
    expect(() => T.unsqueeze(T.zeros([2, 3]), 3)).toThrow(/unsqueeze: axis 3/);
  });
});

describe('cast', () => {
  it('float → int truncates toward zero; shape is kept', () => {
    const t = tensor([[1.9, -1.9], [-0.1, 3]]);
    const i = T.cast(t, 'int32');
    expect(i.shape).toEqual([2, 2]);
    expect(i.toArray()).toEqual([[1, -1], [0, 3]]);
    expect(T.cast(i, 'float64').toArray()).toEqual([[1, -1], [0, 3]]);
  });
});
