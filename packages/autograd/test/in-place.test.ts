/**
 * The one rule for parameter updates (in-place.ts): optimizers, scaleInPlace and copyInPlace write into
 * `p.value`, which stays the same NDArray, so an NDArray taken from a parameter before sees every change.
 */
import { describe, expect, it } from 'vitest';
import { AdamW, Parameter, SGD, Tensor, copyInPlace, raw, scaleInPlace, tensor } from '@grok/autograd';

describe('parameters change in place', () => {
  const withGrad = (values: number[]) => {
    const p = new Parameter(tensor(values, { dtype: 'float64' }));
    p.grad = new Tensor(raw.tensor(values.map((v) => v / 2), { dtype: 'float64' }));
    return p;
  };
  const optimizers = {
    AdamW: (p: Parameter) => new AdamW([p], { lr: 0.1 }),
    'AdamW amsgrad': (p: Parameter) => new AdamW([p], { lr: 0.1, amsgrad: true }),
    SGD: (p: Parameter) => new SGD([p], { lr: 0.1, weightDecay: 0.5 }),
    'SGD momentum': (p: Parameter) => new SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true }),
  };
  for (const [name, make] of Object.entries(optimizers)) {
    it(`${name}: step() writes into p.value`, () => {
      const p = withGrad([1, -2, 3]);
      const held = p.value;
      const opt = make(p);
      for (let k = 0; k < 3; k++) opt.step();
      expect(p.value).toBe(held);
      expect(Array.from(held.data)).not.toEqual([1, -2, 3]);
    });
  }

  it('scaleInPlace and copyInPlace write into the array, copying across backends', () => {
    const a = raw.tensor([1, 2, 3], { dtype: 'float64' });
    const storage = a.storage;
    scaleInPlace(a, 2);
    expect(Array.from(a.data)).toEqual([2, 4, 6]);
    const elsewhere = raw.tensor([7, 8, 9], { dtype: 'float64', backend: new raw.CpuBackend() });
    copyInPlace(a, elsewhere);
    expect(Array.from(a.data)).toEqual([7, 8, 9]);
    expect(a.storage).toBe(storage);
    expect(() => copyInPlace(a, raw.tensor([1, 2]))).toThrow(/copyInPlace/);
  });
});
