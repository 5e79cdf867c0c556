/** gradcheck for the shape and layout ops: the backward must put each gradient back where it came from. */
import { describe, expect, it } from 'vitest';
import * as ag from '@grok/autograd';
import { tensor } from '@grok/autograd';
import { expectGradcheck, randParam } from './helpers.js';

// Multiplying by a fixed tensor makes each output position's gradient distinct, so a gradient that lands
// in the wrong place cannot pass (gradcheck's random projection does this too; this is belt and braces).
const weights = (shape: readonly number[]) => ag.randn(shape, { dtype: 'float64', seed: 99 });

describe('reshape family', () => {
  it('reshape, view (with -1), flatten', () => {
    expectGradcheck((x) => ag.reshape(x, [4, 6]).mul(weights([4, 6])), [randParam([2, 3, 4], 1)]);
    expectGradcheck((x) => x.view(3, -1).mul(weights([3, 8])), [randParam([2, 3, 4], 2)]);
    expectGradcheck((x) => x.flatten().mul(weights([24])), [randParam([2, 3, 4], 3)]);
    expectGradcheck((x) => ag.flatten(x.permute(2, 1, 0)).mul(weights([24])), [randParam([2, 3, 4], 4)]);
  });

  it('unsqueeze and squeeze, with negative axes', () => {
    expectGradcheck((x) => x.unsqueeze(-1).mul(weights([2, 3, 1])), [randParam([2, 3], 5)]);
    expectGradcheck((x) => ag.unsqueeze(x, 0).mul(weights([1, 2, 3])), [randParam([2, 3], 6)]);
    expectGradcheck((x) => x.squeeze(-2).mul(weights([2, 3])), [randParam([2, 1, 3], 7)]);
    expectGradcheck((x) => ag.squeeze(x).mul(weights([2, 3])), [randParam([1, 2, 1, 3], 8)]);
  });
});

describe('permute and transpose', () => {
  it('3-D and 4-D permutations, negative entries', () => {
    expectGradcheck((x) => x.permute(2, 0, 1).mul(weights([4, 2, 3])), [randParam([2, 3, 4], 9)]);
    expectGradcheck((x) => ag.permute(x, [1, -1, 0]).mul(weights([3, 4, 2])), [randParam([2, 3, 4], 10)]);
    expectGradcheck((x) => x.permute([3, 1, 0, 2]).mul(weights([5, 3, 2, 4])), [randParam([2, 3, 4, 5], 11)]);
  });

  it('transpose: default (last two), explicit and negative dims, twice', () => {
    expectGradcheck((x) => x.transpose().mul(weights([2, 4, 3])), [randParam([2, 3, 4], 12)]);
    expectGradcheck((x) => ag.transpose(x, 0, -1).mul(weights([4, 3, 2])), [randParam([2, 3, 4], 13)]);
    expectGradcheck((x) => x.transpose(0, 1).transpose(1, 2).mul(weights([3, 4, 2])), [randParam([2, 3, 4], 14)]);
  });
});

describe('slice and narrow', () => {
  it('positive, negative and missing bounds', () => {
    const x = () => randParam([4, 5, 3], 15);
    expectGradcheck((a) => a.slice([1, 0], [3, 5]), [x()]);
    expectGradcheck((a) => a.slice([-3, -4, 1], [-1, -1]), [x()]); // rows 1..3, cols 1..4, last axis 1..3
    expectGradcheck((a) => ag.slice(a, [2]), [x()]); // rows 2.. of everything
    expectGradcheck((a) => a.slice([0, -2], [4, 100]), [x()]); // an end past the axis is clamped
    expectGradcheck((a) => a.slice([0, -100, 2]), [x()]); // a start before the axis is clamped
  });

  it('puts zeros outside the slice (by hand)', () => {
    const x = randParam([2, 4], 16);
    x.slice([-1, 1], [2, -1]).sum().backward(); // the last row, columns 1..3
    expect(Array.from(x.grad!.data)).toEqual([0, 0, 0, 0, 0, 1, 1, 0]);
  });

  it('narrow, with a negative axis; a slice of a permuted tensor', () => {
    expectGradcheck((a) => a.narrow(-1, 1, 2), [randParam([3, 4], 17)]);
    expectGradcheck((a) => ag.narrow(a, 0, 2, 1), [randParam([3, 4], 18)]);
    expectGradcheck((a) => a.transpose().slice([1, -2]), [randParam([3, 4], 19)]);
  });
});

describe('concat and stack', () => {
  it('concat along 0, 1 and -1, three pieces of different sizes', () => {
    expectGradcheck((a, b) => ag.concat([a, b], 0), [randParam([2, 3], 20), randParam([1, 3], 21)]);
    expectGradcheck((a, b, c) => ag.concat([a, b, c], -1), [randParam([2, 1], 22), randParam([2, 3], 23), randParam([2, 2], 24)]);
    expectGradcheck((a, b) => ag.concat([a, b, a], 1), [randParam([2, 2, 2], 25), randParam([2, 1, 2], 26)]); // a twice
  });

  it('concat with a piece that does not require grad', () => {
    const c = ag.randn([2, 3], { dtype: 'float64', seed: 27 });
    expectGradcheck((a) => ag.concat([c, a], 0), [randParam([2, 3], 28)]);
  });

  it('stack along 0, 1 and -1', () => {
    for (const axis of [0, 1, -1]) {
      expectGradcheck((a, b, c) => ag.stack([a, b, c], axis), [randParam([2, 3], 29), randParam([2, 3], 30), randParam([2, 3], 31)]);
    }
  });
});

describe('broadcastTo and cast', () => {
  it('broadcastTo sums the gradient over the copies', () => {
    expectGradcheck((a) => a.broadcastTo([4, 2, 3]), [randParam([2, 1], 32)]);
    expectGradcheck((a) => ag.broadcastTo(a, [2, 3, 4]), [randParam([3, 1], 33)]);
    expectGradcheck((a) => ag.broadcastTo(a, [2, 3]), [randParam([], 34)]);
  });

  it('cast float64 → float32 sends a float64 gradient back', () => {
    const x = randParam([3], 35);
    const y = x.cast('float32');
    expect(y.dtype).toBe('float32');
    expect(y.requiresGrad).toBe(true);
    y.mul(2).sum().backward();
    expect(x.grad!.dtype).toBe('float64');
    expect(Array.from(x.grad!.data)).toEqual([2, 2, 2]);
  });

  it('cast to the same dtype is the identity (same tensor)', () => {
    const x = randParam([3], 36);
    expect(ag.cast(x, 'float64')).toBe(x);
    expectGradcheck((a) => a.cast('float64').mul(a), [x]);
  });

  it('float32 → float64 → float32 round trip passes gradients (float32 leaf, by hand)', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true }); // float32
    x.cast('float64').square().sum().backward();
    expect(x.grad!.dtype).toBe('float32');
    expect(Array.from(x.grad!.data)).toEqual([2, 4, 6]);
  });
});
