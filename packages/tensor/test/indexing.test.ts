import { describe, expect, it } from 'vitest';
import { gather, indexAdd, indexSelect, scatterAdd, tensor } from '@grok/tensor';
import { randomValues, ravel, size, testRng, unravel } from './helpers.js';

const dot = (x: ArrayLike<number>, y: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!;
  return s;
};

function randomIndex(n: number, limit: number, seed: number): number[] {
  const r = testRng(seed);
  return Array.from({ length: n }, () => Math.floor(r() * limit));
}

describe('gather / scatterAdd', () => {
  it('gather picks along an axis (hand-worked, torch.gather semantics)', () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    const i1 = tensor([[2, 0], [1, 1]], { dtype: 'int32' });
    expect(gather(a, 1, i1).toArray()).toEqual([[3, 1], [5, 5]]);
    const i0 = tensor([[1, 0, 1]], { dtype: 'int32' });
    expect(gather(a, 0, i0).toArray()).toEqual([[4, 2, 6]]);
    expect(gather(a, -1, i1).toArray()).toEqual([[3, 1], [5, 5]]);
  });

  it('gather matches naive indexing on 3-D, every axis', () => {
    const shape = [3, 4, 5];
    const data = randomValues(60, 1);
    const a = tensor(data, { shape, dtype: 'float64' });
    for (let axis = 0; axis < 3; axis++) {
      const ishape = shape.map((d, i) => (i === axis ? 6 : d - 1)); // smaller off-axis, longer on-axis
      const idx = randomIndex(size(ishape), shape[axis]!, axis + 10);
      const got = gather(a, axis, tensor(idx, { shape: ishape, dtype: 'int32' }));
      expect(got.shape).toEqual(ishape);
      for (let k = 0; k < idx.length; k++) {
        const at = unravel(k, ishape);
        at[axis] = idx[k]!;
        expect(got.data[k]).toBe(data[ravel(at, shape)]);
      }
    }
  });

  it('scatterAdd accumulates duplicate indices', () => {
    const idx = tensor([[0, 0, 2], [1, 1, 1]], { dtype: 'int32' });
    const src = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(scatterAdd([2, 3], 1, idx, src).toArray()).toEqual([[3, 0, 3], [0, 15, 0]]);
    expect(scatterAdd([3, 3], 0, tensor([[0, 2, 2], [2, 2, 0]], { dtype: 'int32' }), src).toArray()).toEqual([
      [1, 0, 6],
      [0, 0, 0],
      [4, 7, 3],
    ]);
  });

  it('adjoint identity: <gather(a, idx), s> = <a, scatterAdd(shape, idx, s)>', () => {
    const shape = [4, 3, 5];
    const a = tensor(randomValues(60, 2), { shape, dtype: 'float64' });
    for (let axis = -3; axis < 3; axis++) {
      const ax = (axis + 3) % 3;
      const ishape = shape.map((d, i) => (i === ax ? 7 : d));
      const idx = tensor(randomIndex(size(ishape), shape[ax]!, 20 + ax), { shape: ishape, dtype: 'int32' });
      const s = tensor(randomValues(size(ishape), 30 + ax), { shape: ishape, dtype: 'float64' });
      const lhs = dot(gather(a, axis, idx).data, s.data);
      const rhs = dot(a.data, scatterAdd(shape, axis, idx, s).data);
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-12);
    }
  });

  it('errors: out-of-range and negative indices, wrong dtype, wrong rank', () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(() => gather(a, 1, tensor([[3]], { dtype: 'int32' }))).toThrow(/gather: index 3 is out of range for axis 1 of size 3/);
    expect(() => gather(a, 1, tensor([[-1]], { dtype: 'int32' }))).toThrow(/gather: index -1 is out of range/);
    expect(() => gather(a, 1, tensor([[0]]))).toThrow(/gather: indices must be int32, got float32\[1, 1\]/);
    expect(() => gather(a, 1, tensor([0], { dtype: 'int32' }))).toThrow(/gather: index \[1\] does not fit \[2, 3\] along axis 1/);
    expect(() => gather(a, 1, tensor([[0], [0], [0]], { dtype: 'int32' }))).toThrow(/gather: index \[3, 1\] does not fit \[2, 3\]/);
    expect(() => scatterAdd([2, 3], 1, tensor([[5]], { dtype: 'int32' }), tensor([[1]]))).toThrow(/scatterAdd: index 5 is out of range/);
    expect(() => scatterAdd([2, 3], 1, tensor([[0]], { dtype: 'int32' }), tensor([[1, 2]]))).toThrow(/scatterAdd: index \[1, 1\] and src \[1, 2\] do not fit \[2, 3\]/);
    expect(() => gather(tensor(1), 0, tensor(0, { dtype: 'int32' }))).toThrow(/gather/);
  });
});

describe('indexSelect / indexAdd', () => {
  it('indexSelect is an embedding lookup along axis 0 and works on other axes', () => {
    const W = tensor([[1, 2], [3, 4], [5, 6]]);
    const tok = tensor([2, 0, 2], { dtype: 'int32' });
    expect(indexSelect(W, 0, tok).toArray()).toEqual([[5, 6], [1, 2], [5, 6]]);
    expect(indexSelect(W, 1, tensor([1, 1, 0], { dtype: 'int32' })).toArray()).toEqual([[2, 2, 1], [4, 4, 3], [6, 6, 5]]);
    expect(indexSelect(W, 0, tensor([], { dtype: 'int32' })).shape).toEqual([0, 2]);
  });

  it('indexAdd accumulates duplicate indices', () => {
    const src = tensor([[1, 1], [2, 2], [3, 3]]);
    expect(indexAdd([2, 2], 0, tensor([1, 1, 0], { dtype: 'int32' }), src).toArray()).toEqual([[3, 3], [3, 3]]);
  });

  it('adjoint identity on 3-D along every axis', () => {
    const shape = [3, 4, 2];
    const a = tensor(randomValues(24, 3), { shape, dtype: 'float64' });
    for (let axis = 0; axis < 3; axis++) {
      const idx = tensor(randomIndex(6, shape[axis]!, 40 + axis), { dtype: 'int32' });
      const sshape = shape.map((d, i) => (i === axis ? 6 : d));
      const s = tensor(randomValues(size(sshape), 50 + axis), { shape: sshape, dtype: 'float64' });
      const sel = indexSelect(a, axis, idx);
      expect(sel.shape).toEqual(sshape);
      const lhs = dot(sel.data, s.data);
      const rhs = dot(a.data, indexAdd(shape, axis, idx, s).data);
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-12);
    }
  });

  it('errors', () => {
    const W = tensor([[1, 2], [3, 4]]);
    expect(() => indexSelect(W, 0, tensor([2], { dtype: 'int32' }))).toThrow(/indexSelect: index 2 is out of range for axis 0 of \[2, 2\] of size 2/);
    expect(() => indexSelect(W, 0, tensor([[0]], { dtype: 'int32' }))).toThrow(/indexSelect: indices must be 1-D, got \[1, 1\]/);
    expect(() => indexSelect(W, 0, tensor([0]))).toThrow(/indexSelect: indices must be int32/);
    expect(() => indexSelect(W, 2, tensor([0], { dtype: 'int32' }))).toThrow(/indexSelect: axis 2 is out of range/);
    expect(() => indexAdd([2, 2], 0, tensor([0], { dtype: 'int32' }), tensor([[1, 2], [3, 4]]))).toThrow(
      /indexAdd: src \[2, 2\] with indices \[1\] does not fit \[2, 2\] along axis 0/,
    );
    expect(() => indexAdd([2, 2], 0, tensor([-1, 0], { dtype: 'int32' }), W)).toThrow(/indexAdd: index -1 is out of range/);
  });
});
