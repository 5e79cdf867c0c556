/** gradcheck for gather/scatterAdd and indexSelect/indexAdd, with repeated indices (which must accumulate). */
import { describe, expect, it } from 'vitest';
import * as ag from '@grok/autograd';
import { tensor } from '@grok/autograd';
import { expectGradcheck, randParam } from './helpers.js';

const int32 = (values: Parameters<typeof tensor>[0]) => tensor(values, { dtype: 'int32' });

describe('gather and scatterAdd', () => {
  it('gather along the last axis with repeated indices', () => {
    const index = int32([[0, 0, 2], [3, 1, 3]]);
    expectGradcheck((a) => ag.gather(a, -1, index), [randParam([2, 4], 1)]);
    expectGradcheck((a) => a.gather(1, index), [randParam([2, 4], 2)]);
  });

  it('gather along axis 0 (3-D), and an index smaller than the input', () => {
    const index = int32([[[1, 0], [1, 1]], [[0, 0], [2, 1]]]); // [2,2,2] into [3,2,2]
    expectGradcheck((a) => ag.gather(a, 0, index), [randParam([3, 2, 2], 3)]);
    expectGradcheck((a) => ag.gather(a, 1, int32([[1], [0]])), [randParam([3, 3], 4)]); // rows 0..1 only
  });

  it('gather: repeated indices accumulate (by hand)', () => {
    const a = randParam([1, 3], 5);
    ag.gather(a, 1, int32([[2, 2, 0, 2]])).sum().backward();
    expect(Array.from(a.grad!.data)).toEqual([1, 0, 3]);
  });

  it('scatterAdd with repeated indices', () => {
    const index = int32([[0, 2, 0], [1, 1, 1]]);
    expectGradcheck((src) => ag.scatterAdd([2, 4], 1, index, src), [randParam([2, 3], 6)]);
    expectGradcheck((src) => ag.scatterAdd([3, 3], -2, index, src), [randParam([2, 3], 7)]);
  });

  it('scatterAdd: forward accumulates and backward gathers (by hand)', () => {
    const src = tensor([[1, 2, 3]], { dtype: 'float64', requiresGrad: true });
    const out = ag.scatterAdd([1, 2], 1, int32([[1, 1, 0]]), src);
    expect(out.toArray()).toEqual([[3, 3]]);
    out.backward(tensor([[10, 20]], { dtype: 'float64' }));
    expect(Array.from(src.grad!.data)).toEqual([20, 20, 10]);
  });
});

describe('indexSelect and indexAdd', () => {
  it('indexSelect along axis 0 (an embedding lookup) and along -1, repeated indices', () => {
    const tokens = int32([2, 0, 2, 2, 1]);
    expectGradcheck((w) => ag.indexSelect(w, 0, tokens), [randParam([3, 4], 8)]);
    expectGradcheck((w) => w.indexSelect(-1, int32([3, 3, 0])), [randParam([2, 4], 9)]);
    expectGradcheck((w) => ag.indexSelect(w.transpose(), 1, int32([1, 1])), [randParam([3, 4], 10)]);
  });

  it('indexSelect: repeated rows accumulate (by hand)', () => {
    const w = randParam([3, 2], 11);
    ag.indexSelect(w, 0, int32([2, 0, 2, 2])).sum().backward();
    expect(Array.from(w.grad!.data)).toEqual([1, 1, 0, 0, 3, 3]);
  });

  it('indexAdd with repeated indices', () => {
    expectGradcheck((src) => ag.indexAdd([3, 2], 0, int32([1, 1, 0, 1]), src), [randParam([4, 2], 12)]);
    expectGradcheck((src) => ag.indexAdd([2, 3], -1, int32([2, 2]), src), [randParam([2, 2], 13)]);
  });

  it('indices never require grad; the index tensor is not a parent', () => {
    const w = randParam([3, 2], 14);
    const out = ag.indexSelect(w, 0, int32([1]));
    expect(out.node!.parents).toEqual([w]);
  });
});

describe('embeddingBag', () => {
  // Batch 3, R = 4 looked-up rows each, with repeats inside a bag and across bags.
  const index = int32([[0, 2, 2, 4], [1, 1, 0, 3], [4, 4, 4, 2]]);

  it('gradcheck in the table and the weights at once', () => {
    expectGradcheck((table, weight) => ag.embeddingBag(table, index, weight), [randParam([5, 3], 20), randParam([3, 4], 21)]);
  });

  it('forward: the weighted sum of rows (by hand), and no gradient for a table that needs none', () => {
    const table = tensor([[1, 2], [3, 4], [5, 6]], { dtype: 'float64' });
    const weight = tensor([[2, -1], [0.5, 0.5]], { dtype: 'float64', requiresGrad: true });
    const out = ag.embeddingBag(table, int32([[2, 0], [1, 1]]), weight);
    expect(out.toArray()).toEqual([[2 * 5 - 1, 2 * 6 - 2], [3, 4]]);
    out.backward(tensor([[1, 10], [100, 0]], { dtype: 'float64' }));
    expect(weight.grad!.toArray()).toEqual([[5 + 60, 1 + 20], [300, 300]]);
    expect(table.grad).toBeNull();
  });

  it('names what is wrong: shapes, dtypes and out-of-range rows', () => {
    const table = randParam([5, 3], 22);
    const weight = randParam([3, 4], 23);
    expect(() => ag.embeddingBag(table, int32([[0, 5, 1, 1], [0, 0, 0, 0], [1, 1, 1, 1]]), weight)).toThrow(/index 5 is out of range for the table's 5 rows/);
    expect(() => ag.embeddingBag(table, int32([[0, 1], [1, 1], [2, 2]]), weight)).toThrow(/weight \[3, 4\] must be \[3, 2\]/);
    expect(() => ag.embeddingBag(table, tensor([[0, 1, 1, 1]], { dtype: 'float64' }), randParam([1, 4], 24))).toThrow(/indices must be int32/);
    expect(() => ag.embeddingBag(table, index, randParam([3, 4], 25).cast('float32'))).toThrow(/weight is float32 but the table is float64/);
  });
});
