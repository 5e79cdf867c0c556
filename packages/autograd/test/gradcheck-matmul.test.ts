/** gradcheck for matmul: 2-D, all four transpose-flag combinations, batched, and broadcast batch axes. */
import { describe, it } from 'vitest';
import * as ag from '@grok/autograd';
import { expectGradcheck, randParam } from './helpers.js';

describe('matmul', () => {
  // Stored shapes of A and B for C[3,5] = op(A)[3,4] · op(B)[4,5].
  const flagCases: [boolean, boolean, number[], number[]][] = [
    [false, false, [3, 4], [4, 5]],
    [true, false, [4, 3], [4, 5]],
    [false, true, [3, 4], [5, 4]],
    [true, true, [4, 3], [5, 4]],
  ];
  it.each(flagCases)('2-D, transA=%s transB=%s', (transA, transB, sa, sb) => {
    expectGradcheck((a, b) => ag.matmul(a, b, { transA, transB }), [randParam(sa, 1), randParam(sb, 2)]);
  });

  it.each(flagCases)('batched [2, ...], transA=%s transB=%s', (transA, transB, sa, sb) => {
    expectGradcheck((a, b) => a.matmul(b, { transA, transB }), [randParam([2, ...sa], 3), randParam([2, ...sb], 4)]);
  });

  it.each(flagCases)('broadcast batch axes [2,1] with [3], transA=%s transB=%s', (transA, transB, sa, sb) => {
    expectGradcheck((a, b) => ag.matmul(a, b, { transA, transB }), [randParam([2, 1, ...sa], 5), randParam([3, ...sb], 6)]);
  });

  it('a 2-D matrix against a batch on either side (a linear layer on a batch)', () => {
    expectGradcheck((a, b) => ag.matmul(a, b), [randParam([2, 3, 4], 7), randParam([4, 5], 8)]);
    expectGradcheck((a, b) => ag.matmul(a, b), [randParam([3, 4], 9), randParam([2, 2, 4, 5], 10)]);
    expectGradcheck((x, w) => ag.matmul(x, w, { transB: true }), [randParam([2, 3, 4], 11), randParam([5, 4], 12)]);
  });

  it('on permuted inputs, and with only one side requiring grad', () => {
    expectGradcheck((a, b) => ag.matmul(a.transpose(), b.permute(1, 0)), [randParam([4, 3], 13), randParam([5, 4], 14)]);
    const w = ag.randn([4, 5], { dtype: 'float64', seed: 15 });
    expectGradcheck((a) => ag.matmul(a, w), [randParam([3, 4], 16)]);
    const x = ag.randn([3, 4], { dtype: 'float64', seed: 17 });
    expectGradcheck((b) => ag.matmul(x, b, { transB: true }), [randParam([5, 4], 18)]);
  });

  it('x used as both operands (xᵀx, a Gram matrix)', () => {
    expectGradcheck((x) => ag.matmul(x, x, { transA: true }), [randParam([3, 4], 19)]);
  });
});
