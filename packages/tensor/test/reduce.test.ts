import { describe, expect, it } from 'vitest';
import * as T from '@grok/tensor';
import { tensor } from '@grok/tensor';
import { expectClose, randomValues, ravel, size, unravel } from './helpers.js';

type Op = 'sum' | 'mean' | 'max' | 'min' | 'argmax' | 'argmin';

/** Naive reduction of `axes` (normalized) of data with `shape`, written from the definition. */
function naiveReduce(op: Op, data: number[], shape: number[], axes: number[], keepdim: boolean) {
  const outShapeKeep = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const groups: number[][] = Array.from({ length: size(outShapeKeep) }, () => []);
  for (let k = 0; k < data.length; k++) {
    const idx = unravel(k, shape);
    groups[ravel(idx.map((x, i) => (axes.includes(i) ? 0 : x)), outShapeKeep)]!.push(data[k]!);
  }
  const values = groups.map((g) => {
    switch (op) {
      case 'sum': return g.reduce((a, b) => a + b, 0);
      case 'mean': return g.reduce((a, b) => a + b, 0) / g.length;
      case 'max': return g.reduce((a, b) => (b > a ? b : a));
      case 'min': return g.reduce((a, b) => (b < a ? b : a));
      case 'argmax': return g.indexOf(Math.max(...g));
      case 'argmin': return g.indexOf(Math.min(...g));
    }
  });
  return { shape: keepdim ? outShapeKeep : shape.filter((_, i) => !axes.includes(i)), data: values };
}

const fns = { sum: T.sum, mean: T.mean, max: T.max, min: T.min, argmax: T.argmax, argmin: T.argmin };
const shape = [2, 3, 4];
// Quantized values so ties occur and sums are exact in float64.
const data = randomValues(24, 11).map((x) => Math.round(x * 4));
const a = tensor(data, { shape, dtype: 'float64' });

describe('reductions over one axis', () => {
  for (const op of Object.keys(fns) as Op[]) {
    it(`${op} over every axis, negative axes, keepdim`, () => {
      for (const axis of [0, 1, 2, -1, -2, -3]) {
        for (const keepdim of [false, true]) {
          const ax = axis < 0 ? axis + 3 : axis;
          const want = naiveReduce(op, data, shape, [ax], keepdim);
          const got = fns[op](a, axis, keepdim);
          expect(got.shape, `${op} axis=${axis} keepdim=${keepdim}`).toEqual(want.shape);
          expect(got.dtype).toBe(op.startsWith('arg') ? 'int32' : 'float64');
          expectClose(got.data, want.data, 1e-15);
        }
      }
    });
  }

  it('argmax/argmin pick the first index on ties', () => {
    const t = tensor([[1, 3, 3, 0], [2, 2, 2, 2], [-1, -5, 0, -5]]);
    expect(Array.from(T.argmax(t, 1).data)).toEqual([1, 0, 2]);
    expect(Array.from(T.argmin(t, 1).data)).toEqual([3, 0, 1]);
    expect(Array.from(T.argmax(t, 0).data)).toEqual([1, 0, 0, 1]);
    expect(T.argmax(t).item()).toBe(1); // flattened
    expect(T.argmin(t).item()).toBe(9);
    expect(t.argmax(1, true).shape).toEqual([3, 1]);
  });

  it('NaN propagates through sum, mean, max, min; argmax/argmin point at it', () => {
    const t = tensor([[1, NaN, 3], [NaN, 0, 0], [1, 2, 3]]);
    expect(Array.from(T.max(t, 1).data).map(Number.isNaN)).toEqual([true, true, false]);
    expect(Array.from(T.min(t, 1).data).map(Number.isNaN)).toEqual([true, true, false]);
    expect(Array.from(T.sum(t, 1).data).map(Number.isNaN)).toEqual([true, true, false]);
    expect(Array.from(T.mean(t, 1).data).map(Number.isNaN)).toEqual([true, true, false]);
    expect(Array.from(T.argmax(t, 1).data)).toEqual([1, 0, 2]);
    expect(Array.from(T.argmin(t, 1).data)).toEqual([1, 0, 0]);
    expect(T.max(t).item()).toBeNaN();
  });

  it('int32: sum stays int32, max/min work, mean is refused', () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'int32' });
    expect(T.sum(t, 0).dtype).toBe('int32');
    expect(Array.from(T.sum(t, 0).data)).toEqual([5, 7, 9]);
    expect(Array.from(T.max(t, 1).data)).toEqual([3, 6]);
    expect(T.sum(t).item()).toBe(21);
    expect(() => T.mean(t)).toThrow(/mean: needs a float32 or float64 tensor/);
  });

  it('float32 sums accumulate in float64 (no drift over many terms)', () => {
    const t = T.full([1_000_000], 0.1);
    expect(Math.abs(T.sum(t).item() - 1_000_000 * Math.fround(0.1))).toBeLessThan(0.1);
  });
});

describe('reductions over several axes and the whole tensor', () => {
  it('sum and mean over multiple axes, in any order, with keepdim', () => {
    for (const axes of [[0, 2], [2, 0], [-1, 0], [0, 1, 2], [1, -3]]) {
      const norm = [...new Set(axes.map((x) => (x < 0 ? x + 3 : x)))];
      for (const keepdim of [false, true]) {
        for (const op of ['sum', 'mean'] as const) {
          const want = naiveReduce(op, data, shape, norm, keepdim);
          const got = fns[op](a, axes, keepdim);
          expect(got.shape).toEqual(want.shape);
          expectClose(got.data, want.data, 1e-14);
        }
      }
    }
  });

  it('whole-tensor reductions give a scalar (or all-ones shape with keepdim)', () => {
    const total = data.reduce((x, y) => x + y, 0);
    expect(T.sum(a).shape).toEqual([]);
    expect(T.sum(a).item()).toBe(total);
    expect(T.mean(a).item()).toBeCloseTo(total / 24, 14);
    expect(T.max(a).item()).toBe(Math.max(...data));
    expect(T.min(a).item()).toBe(Math.min(...data));
    expect(T.argmax(a).item()).toBe(data.indexOf(Math.max(...data)));
    expect(T.sum(a, undefined, true).shape).toEqual([1, 1, 1]);
    expect(a.sum().item()).toBe(total);
    expect(a.mean([0, 1, 2]).item()).toBeCloseTo(total / 24, 14);
  });

  it('scalars and empty tensors', () => {
    const s = tensor(4);
    expect(T.sum(s).item()).toBe(4);
    expect(T.sum(s, 0).item()).toBe(4); // a scalar has one (virtual) axis, as in torch
    expect(T.sum(s, -1).item()).toBe(4);
    expect(T.argmax(s, 0).item()).toBe(0);
    expect(T.sum(T.zeros([0])).item()).toBe(0);
    expect(T.sum(T.zeros([2, 0]), 1).toArray()).toEqual([0, 0]);
    expect(T.max(T.zeros([0, 3]), 1).shape).toEqual([0]);
    expect(() => T.max(T.zeros([0]))).toThrow(/max: cannot reduce an empty tensor \[0\]/);
    expect(() => T.argmax(T.zeros([2, 0]), 1)).toThrow(/argmax: cannot reduce an empty axis of \[2, 0\]/);
  });

  it('bad axes throw naming the op', () => {
    expect(() => T.sum(a, 3)).toThrow(/sum: axis 3 is out of range for a tensor with 3 dimension/);
    expect(() => T.max(a, -4)).toThrow(/max: axis -4 is out of range/);
    expect(() => T.sum(a, 1.5)).toThrow(/sum: axis 1.5/);
    expect(() => T.sum(a, [0, -3])).toThrow(/sum: axes \[0, -3\] name the same axis of \[2, 3, 4\] twice/);
  });
});
