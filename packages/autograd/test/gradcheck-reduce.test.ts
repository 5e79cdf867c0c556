/** gradcheck for sum, mean, max and min: every axis form (all, one, negative, several, keepdim). */
import { describe, expect, it } from 'vitest';
import * as ag from '@grok/autograd';
import { type Tensor, tensor } from '@grok/autograd';
import { expectGradcheck, param, randParam } from './helpers.js';

type Axes = number | number[] | undefined;
// Axis forms on a [2,3,4] input.
const axisForms: [string, Axes, boolean][] = [
  ['all', undefined, false],
  ['all, keepdim', undefined, true],
  ['axis 0', 0, false],
  ['axis 1, keepdim', 1, true],
  ['axis -1', -1, false],
  ['axis -2, keepdim', -2, true],
];
const multiAxisForms: [string, number[], boolean][] = [
  ['axes [0, 2]', [0, 2], false],
  ['axes [-1, 0], keepdim', [-1, 0], true],
  ['axes [0, 1, 2]', [0, 1, 2], false],
];

describe('sum and mean', () => {
  for (const [name, op] of [['sum', ag.sum], ['mean', ag.mean]] as const) {
    it.each([...axisForms, ...multiAxisForms])(`${name} over %s`, (_label, axis, keepdim) => {
      expectGradcheck((x) => op(x, axis, keepdim), [randParam([2, 3, 4], 1)]);
      // On a permuted input: the reduced axis is an axis of the permuted layout.
      expectGradcheck((x) => op(x.permute(2, 0, 1), axis, keepdim), [randParam([2, 3, 4], 2)]);
    });
  }

  it('mean divides the gradient by the number of reduced elements', () => {
    const x = randParam([2, 3, 4], 3);
    ag.mean(x, [0, 2]).sum().backward();
    expect(Array.from(x.grad!.data).every((g) => Math.abs(g - 1 / 8) < 1e-15)).toBe(true);
  });

  it('reducing a scalar over axis 0 or -1 (as torch allows)', () => {
    expectGradcheck((x) => ag.sum(x, 0).mul(ag.mean(x, -1)).add(ag.max(x, 0)), [param(1.5)]);
  });

  it('methods and chained reductions', () => {
    expectGradcheck((x) => x.sum(1, true).mul(x).mean(), [randParam([3, 4], 4)]);
  });
});

describe('max and min', () => {
  // Distinct random values: no ties, so the extreme is differentiable.
  const forms: [string, number | undefined, boolean][] = [
    ['all', undefined, false],
    ['all, keepdim', undefined, true],
    ['axis 0', 0, false],
    ['axis -1, keepdim', -1, true],
    ['axis 1', 1, false],
  ];
  for (const [name, op] of [['max', ag.max], ['min', ag.min]] as const) {
    it.each(forms)(`${name} over %s`, (_label, axis, keepdim) => {
      expectGradcheck((x) => op(x, axis, keepdim), [randParam([2, 3, 4], 5)]);
      expectGradcheck((x) => op(x.transpose(0, 2), axis, keepdim), [randParam([2, 3, 4], 6)]);
    });
  }

  it('ties split the gradient evenly (checked by hand)', () => {
    // Row 0 has max 3 twice, row 1 has its max once; min of row 1 (−1) appears three times.
    const x = param([[3, 1, 3, 0], [-1, -1, 2, -1]]);
    ag.max(x, 1).backward(tensor([10, 20], { dtype: 'float64' }));
    expect(Array.from(x.grad!.data)).toEqual([5, 0, 5, 0, 0, 0, 20, 0]);

    x.zeroGrad();
    ag.min(x, -1, true).backward(tensor([[6], [9]], { dtype: 'float64' }));
    expect(Array.from(x.grad!.data)).toEqual([0, 0, 0, 6, 3, 3, 0, 3]);

    // Over everything: the max 3 appears twice.
    x.zeroGrad();
    ag.max(x).backward();
    expect(Array.from(x.grad!.data)).toEqual([0.5, 0, 0.5, 0, 0, 0, 0, 0]);

    // The method form, along axis 0 (column 1 ties −1 vs 1? no: 1 > −1; column 3: 0 > −1).
    x.zeroGrad();
    (x.max(0) as Tensor).sum().backward();
    expect(Array.from(x.grad!.data)).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
  });

  it('argmax/argmin carry no gradient', () => {
    const x = randParam([2, 3], 7);
    expect(x.argmax(1).requiresGrad).toBe(false);
    expect(ag.argmin(x).requiresGrad).toBe(false);
  });
});
