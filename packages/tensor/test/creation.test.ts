import { describe, expect, it } from 'vitest';
import { CpuBackend, arange, cast, eye, full, ones, onesLike, tensor, zeros, zerosLike } from '@grok/tensor';

describe('tensor()', () => {
  it('builds from nested arrays, row-major, float32 by default', () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(t.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(t.size).toBe(6);
    expect(t.ndim).toBe(2);
  });

  it('builds 3-D arrays and keeps the requested dtype', () => {
    const t = tensor([[[1], [2]], [[3], [4]]], { dtype: 'float64' });
    expect(t.shape).toEqual([2, 2, 1]);
    expect(t.data).toBeInstanceOf(Float64Array);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4]);
  });

  it('takes a number as a scalar of shape []', () => {
    const t = tensor(2.5);
    expect(t.shape).toEqual([]);
    expect(t.size).toBe(1);
    expect(t.item()).toBe(2.5);
    expect(t.toArray()).toBe(2.5);
    expect(tensor(7, { dtype: 'int32' }).data).toBeInstanceOf(Int32Array);
  });

  it('takes typed arrays, keeping their dtype, and copies them', () => {
    const src = new Float64Array([1, 2, 3, 4, 5, 6]);
    const t = tensor(src, { shape: [3, 2] });
    expect(t.dtype).toBe('float64');
    expect(t.shape).toEqual([3, 2]);
    src[0] = 100;
    expect(t.data[0]).toBe(1); // a copy, not a view of the caller's array
    expect(tensor(new Int32Array([1, 2])).dtype).toBe('int32');
    expect(tensor(new Int32Array([1, 2])).shape).toEqual([2]);
  });

  it('takes a flat array plus a shape', () => {
    const t = tensor([1, 2, 3, 4, 5, 6], { shape: [2, 3] });
    expect(t.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
  });

  it('takes a nested array plus a matching shape', () => {
    const t = tensor([[1, 2], [3, 4]], { shape: [4] });
    expect(t.shape).toEqual([4]);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4]);
  });

  it('rounds to float32 and truncates to int32', () => {
    expect(tensor([0.1]).data[0]).toBe(Math.fround(0.1));
    expect(tensor([0.1], { dtype: 'float64' }).data[0]).toBe(0.1);
    expect(Array.from(tensor([1.7, -1.7, 2], { dtype: 'int32' }).data)).toEqual([1, -1, 2]);
  });

  it('handles empty arrays', () => {
    expect(tensor([]).shape).toEqual([0]);
    expect(tensor([[], []]).shape).toEqual([2, 0]);
    expect(tensor([[], []]).size).toBe(0);
  });

  it('rejects ragged arrays, non-numbers and wrong sizes', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(/tensor: ragged/);
    expect(() => tensor([[1, 2], 3] as never)).toThrow(/tensor: ragged/);
    expect(() => tensor([1, [2, 3]] as never)).toThrow(/tensor/);
    expect(() => tensor([[[1, 2]], [[3]]])).toThrow(/ragged/);
    expect(() => tensor(['a'] as never)).toThrow(/tensor: expected numbers/);
    expect(() => tensor([1, 2, 3], { shape: [2, 2] })).toThrow(/tensor: 3 values do not fill shape \[2, 2\]/);
    expect(() => tensor([1, 2], { shape: [-1, -2] })).toThrow(/tensor: invalid shape/);
    expect(() => tensor([1], { dtype: 'int64' as never })).toThrow(/unknown dtype 'int64'/);
  });
});

describe('constants and ranges', () => {
  it('zeros / ones / full', () => {
    const z = zeros([2, 3]);
    expect(z.shape).toEqual([2, 3]);
    expect(Array.from(z.data)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(ones([3], { dtype: 'int32' }).data)).toEqual([1, 1, 1]);
    expect(ones([3], { dtype: 'int32' }).dtype).toBe('int32');
    const f = full([2, 2], -2.5, { dtype: 'float64' });
    expect(Array.from(f.data)).toEqual([-2.5, -2.5, -2.5, -2.5]);
    expect(full([], 3).shape).toEqual([]);
    expect(full([], 3).item()).toBe(3);
    expect(full([0, 4], 1).size).toBe(0);
    expect(Array.from(full([2], NaN).data).every(Number.isNaN)).toBe(true);
    expect(() => zeros([2, 1.5])).toThrow(/invalid shape \[2, 1.5\]/);
  });

  it('zerosLike / onesLike keep shape and dtype', () => {
    const t = tensor([[1, 2]], { dtype: 'int32' });
    expect(zerosLike(t).dtype).toBe('int32');
    expect(zerosLike(t).shape).toEqual([1, 2]);
    expect(Array.from(onesLike(t).data)).toEqual([1, 1]);
  });

  it('arange with integers gives int32', () => {
    const a = arange(5);
    expect(a.dtype).toBe('int32');
    expect(Array.from(a.data)).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(arange(2, 7).data)).toEqual([2, 3, 4, 5, 6]);
    expect(Array.from(arange(0, 10, 3).data)).toEqual([0, 3, 6, 9]);
    expect(Array.from(arange(5, 0, -2).data)).toEqual([5, 3, 1]);
    expect(arange(3, 3).shape).toEqual([0]);
    expect(arange(5, 0).shape).toEqual([0]);
  });

  it('arange with fractions gives float32 without accumulating error', () => {
    const a = arange(0, 1, 0.1);
    expect(a.dtype).toBe('float32');
    expect(a.shape).toEqual([10]);
    for (let i = 0; i < 10; i++) expect(a.data[i]).toBe(Math.fround(i * 0.1));
    expect(Array.from(arange(0, 2.5).data)).toEqual([0, 1, 2]);
    expect(arange(0, 2.5).dtype).toBe('float32');
    expect(arange(4, undefined, 1, { dtype: 'float64' }).dtype).toBe('float64');
    expect(() => arange(0, 5, 0)).toThrow(/arange: step/);
  });

  it('eye', () => {
    expect(eye(3).toArray()).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    expect(eye(2, 3).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
    expect(eye(3, 2, { dtype: 'int32' }).toArray()).toEqual([[1, 0], [0, 1], [0, 0]]);
    expect(eye(0).shape).toEqual([0, 0]);
  });
});

describe('dtype conversions', () => {
  it('float → int32 truncates toward zero', () => {
    const t = tensor([2.9, -2.9, 0.5, -0.5, 7], { dtype: 'float64' });
    const i = cast(t, 'int32');
    expect(i.dtype).toBe('int32');
    expect(Array.from(i.data)).toEqual([2, -2, 0, 0, 7]);
    expect(Array.from(t.cast('int32').data)).toEqual([2, -2, 0, 0, 7]);
  });

  it('float64 → float32 rounds; int32 → float is exact', () => {
    const t = tensor([0.1, 1 / 3], { dtype: 'float64' });
    const f = cast(t, 'float32');
    expect(f.dtype).toBe('float32');
    expect(Array.from(f.data)).toEqual([Math.fround(0.1), Math.fround(1 / 3)]);
    const back = cast(f, 'float64');
    expect(back.data[0]).toBe(Math.fround(0.1));
    const i = tensor([-3, 16777217], { dtype: 'int32' });
    expect(Array.from(cast(i, 'float64').data)).toEqual([-3, 16777217]);
    expect(Array.from(cast(i, 'float32').data)).toEqual([-3, 16777216]);
  });

  it('cast to the same dtype is the identity; unknown dtypes throw', () => {
    const t = tensor([1, 2]);
    expect(cast(t, 'float32')).toBe(t);
    expect(() => cast(t, 'bool' as never)).toThrow(/cast: unknown dtype 'bool'/);
  });
});

describe('NDArray.clone', () => {
  it('copies onto storage of its own: writing the original does not reach the copy', () => {
    const t = tensor([[1, 2], [3, 4]], { dtype: 'float64' });
    const c = t.clone();
    expect(c.shape).toEqual([2, 2]);
    expect(c.dtype).toBe('float64');
    expect(c.backend).toBe(t.backend);
    expect(c.storage).not.toBe(t.storage);
    (t.data as Float64Array)[0] = 99; // on cpu, data is the storage itself
    expect(Array.from(c.data)).toEqual([1, 2, 3, 4]);
  });

  it('clone(backend) puts the copy on that backend', () => {
    const other = new CpuBackend();
    const t = tensor([5, 6, 7], { dtype: 'int32' });
    const c = t.clone(other);
    expect(c.backend).toBe(other);
    expect(c.dtype).toBe('int32');
    expect(Array.from(c.data)).toEqual([5, 6, 7]);
  });
});
