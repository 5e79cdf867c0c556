import { describe, expect, it } from 'vitest';
import { arange, tensor, zeros } from '@grok/tensor';

// Expected strings are what PyTorch 2.x prints for the same values (float32 default, print precision 4);
// the dtype suffix names our dtypes without the `torch.` prefix.
describe('toString (PyTorch style)', () => {
  it('float vectors and matrices', () => {
    expect(tensor([1.5, 2, -3]).toString()).toBe('tensor([ 1.5000,  2.0000, -3.0000])');
    expect(tensor([[1, 2], [3, 4]]).toString()).toBe('tensor([[1., 2.],\n        [3., 4.]])');
    expect(tensor([[0.5, -12.25], [3, 100]]).toString()).toBe(
      'tensor([[  0.5000, -12.2500],\n        [  3.0000, 100.0000]])',
    );
    expect(tensor([0.1, 0.25], { dtype: 'float64' }).toString()).toBe('tensor([0.1000, 0.2500], dtype=float64)');
  });

  it('scalars', () => {
    expect(tensor(3.5).toString()).toBe('tensor(3.5000)');
    expect(tensor(2).toString()).toBe('tensor(2.)');
    expect(tensor(-7, { dtype: 'int32' }).toString()).toBe('tensor(-7, dtype=int32)');
    expect(String(tensor(0.125, { dtype: 'float64' }))).toBe('tensor(0.1250, dtype=float64)');
  });

  it('int tensors pad to a common width', () => {
    expect(tensor([[1, -20], [300, 4]], { dtype: 'int32' }).toString()).toBe(
      'tensor([[  1, -20],\n        [300,   4]], dtype=int32)',
    );
    expect(arange(8).reshape(2, 2, 2).toString()).toBe(
      'tensor([[[0, 1],\n         [2, 3]],\n\n        [[4, 5],\n         [6, 7]]], dtype=int32)',
    );
  });

  it('scientific notation when magnitudes span > 1000× or leave [1e-4, 1e8]', () => {
    expect(tensor([1e-5, 1]).toString()).toBe('tensor([1.0000e-05, 1.0000e+00])');
    expect(tensor([1e10, 1]).toString()).toBe('tensor([1.0000e+10, 1.0000e+00])');
    expect(tensor([0.001, 2.5]).toString()).toBe('tensor([1.0000e-03, 2.5000e+00])');
    expect(tensor([-1e-5, 0]).toString()).toBe('tensor([-1.0000e-05,  0.0000e+00])');
  });

  it('nan, inf and zeros', () => {
    expect(tensor([1.5, NaN, Infinity, -Infinity]).toString()).toBe('tensor([1.5000,    nan,    inf,   -inf])');
    expect(tensor([1, Infinity]).toString()).toBe('tensor([1., inf])');
    expect(tensor([0, 0]).toString()).toBe('tensor([0., 0.])');
    expect(tensor([NaN]).toString()).toBe('tensor([nan])');
  });

  it('rounds ties to even, as Python does', () => {
    expect(tensor([0.03125, 1.5], { dtype: 'float64' }).toString()).toBe('tensor([0.0312, 1.5000], dtype=float64)');
    expect(tensor([0.09375, 1.5], { dtype: 'float64' }).toString()).toBe('tensor([0.0938, 1.5000], dtype=float64)');
  });

  it('empty tensors', () => {
    expect(tensor([]).toString()).toBe('tensor([])');
    expect(zeros([2, 0]).toString()).toBe('tensor([], size=(2, 0))');
    expect(tensor([], { dtype: 'int32' }).toString()).toBe('tensor([], dtype=int32)');
  });

  it('wraps long rows at 80 characters', () => {
    expect(arange(30).cast('float32').div(1).toString()).toBe(
      'tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n' +
        '        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,\n' +
        '        28., 29.])',
    );
    expect(arange(30).toString()).toBe(
      'tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17,\n' +
        '        18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29], dtype=int32)',
    );
  });

  it('moves the dtype suffix to its own line when the last line is full', () => {
    expect(arange(18).toString()).toBe(
      'tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17],\n       dtype=int32)',
    );
  });

  it('elides tensors of more than 1000 elements', () => {
    expect(arange(2000).toString()).toBe('tensor([   0,    1,    2,  ..., 1997, 1998, 1999], dtype=int32)');
    const z = zeros([100, 100]).toString();
    const row = '[0., 0., 0.,  ..., 0., 0., 0.]';
    expect(z).toBe(
      `tensor([${row},\n        ${row},\n        ${row},\n        ...,\n        ${row},\n        ${row},\n        ${row}])`,
    );
    // 1000 elements exactly is not elided.
    expect(zeros([1000]).toString()).not.toContain('...');
    const big = arange(24000).reshape(20, 30, 40).toString();
    expect(big.split('\n').length).toBeLessThan(60);
    expect(big).toContain('23999]]], dtype=int32)');
    expect(zeros([4, 4, 4, 4, 4, 4]).toString()).not.toContain('...'); // short axes are never elided, as in torch
    expect(zeros([7, 7, 7, 7, 7, 7]).toString().split('...').length - 1).toBe(1 + 6 + 36 + 216 + 1296 + 7776);
  });
});
