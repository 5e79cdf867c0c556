/**
 * Behaviour of the graph and backward(): what requires grad, how gradients accumulate, detach and noGrad,
 * seeds, graph release, shared subgraphs, deep graphs, and crossEntropy's dtypes and errors.
 */
import { describe, expect, it } from 'vitest';
import * as ag from '@grok/autograd';
import { Parameter, Tensor, isGradEnabled, noGrad, raw, tensor } from '@grok/autograd';

const f64 = (values: Parameters<typeof tensor>[0], requiresGrad = false) =>
  tensor(values, { dtype: 'float64', requiresGrad });

describe('requiresGrad propagation', () => {
  it('a result requires grad iff some input does, and only then has a node', () => {
    const a = f64([1, 2], true);
    const b = f64([3, 4]);
    const c = a.mul(b);
    expect(c.requiresGrad).toBe(true);
    expect(c.node?.op).toBe('mul');
    expect(c.isLeaf).toBe(false);
    const d = b.add(1);
    expect(d.requiresGrad).toBe(false);
    expect(d.node).toBeNull();
    expect(a.isLeaf).toBe(true);
  });

  it('a Parameter is a leaf that requires grad; requiresGrad_ is chainable', () => {
    const p = new Parameter(raw.ones([2]));
    expect(p.requiresGrad).toBe(true);
    expect(p.isLeaf).toBe(true);
    const x = f64([1]).requiresGrad_();
    expect(x.requiresGrad).toBe(true);
  });

  it('backward on a tensor that does not require grad throws', () => {
    expect(() => f64([1, 2]).sum().backward()).toThrow(/does not require grad/);
  });

  it('inputs that do not require grad get no .grad', () => {
    const a = f64([1, 2], true);
    const b = f64([3, 4]);
    a.mul(b).sum().backward();
    expect(b.grad).toBeNull();
    expect(Array.from(a.grad!.data)).toEqual([3, 4]);
  });
});

describe('accumulation, zeroGrad, detach', () => {
  it('.grad accumulates across two backward() calls until zeroGrad', () => {
    const x = f64([1, 2, 3], true);
    x.square().sum().backward();
    expect(Array.from(x.grad!.data)).toEqual([2, 4, 6]);
    x.mul(3).sum().backward(); // a second, separate graph
    expect(Array.from(x.grad!.data)).toEqual([5, 7, 9]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
    x.sum().backward();
    expect(Array.from(x.grad!.data)).toEqual([1, 1, 1]);
  });

  it('the gradient of a leaf has its dtype and shape', () => {
    const x = tensor([[1, 2]], { requiresGrad: true });
    x.mul(2).sum().backward();
    expect(x.grad!.dtype).toBe('float32');
    expect(x.grad!.shape).toEqual([1, 2]);
    expect(x.grad!.requiresGrad).toBe(false);
  });

  it('leaves that received the same gradient do not share storage (x + y)', () => {
    // An optimizer may update a .grad in place (e.g. clipping); that must not change another's.
    const x = f64([1, 2], true);
    const y = f64([3, 4], true);
    x.add(y).sum().backward();
    expect(x.grad!.value).not.toBe(y.grad!.value);
    expect(x.grad!.data).not.toBe(y.grad!.data);
  });

  it('detach cuts the graph', () => {
    const x = f64([2, 3], true);
    const d = x.mul(x).detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.node).toBeNull();
    expect(Array.from(d.data)).toEqual([4, 9]);
    // x·detach(x²): the detached factor is a constant, so d/dx = x².
    x.mul(d).sum().backward();
    expect(Array.from(x.grad!.data)).toEqual([4, 9]);
  });
});

describe('noGrad', () => {
  it('builds no graph', () => {
    const x = f64([1, 2], true);
    const y = noGrad(() => x.mul(2).exp().sum());
    expect(y.requiresGrad).toBe(false);
    expect(y.node).toBeNull();
    expect(isGradEnabled()).toBe(true);
  });

  it('returns the value of fn and restores the mode after a throw, also when nested', () => {
    expect(noGrad(() => 42)).toBe(42);
    expect(() =>
      noGrad(() => {
        expect(isGradEnabled()).toBe(false);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
    noGrad(() => {
      expect(() => noGrad(() => { throw new Error('inner'); })).toThrow('inner');
      expect(isGradEnabled()).toBe(false); // the outer noGrad is still in force
    });
    expect(isGradEnabled()).toBe(true);
  });
});

describe('seeds', () => {
  it('a non-scalar without a seed throws a clear error; with a seed it works', () => {
    const x = f64([1, 2, 3], true);
    const y = x.square();
    expect(() => y.backward()).toThrow(/seed gradient is needed for a non-scalar output of shape \[3\]/);
    y.backward(f64([1, 10, 100]));
    expect(Array.from(x.grad!.data)).toEqual([2, 40, 600]);
  });

  it('a one-element non-scalar ([1, 1]) needs no seed', () => {
    const x = f64([[3]], true);
    x.square().backward();
    expect(Array.from(x.grad!.data)).toEqual([6]);
  });

  it('a seed of the wrong shape or dtype is an error naming both', () => {
    const y = f64([1, 2, 3], true).mul(2);
    expect(() => y.backward(f64([1, 2]))).toThrow(/seed float64\[2\] does not match output float64\[3\]/);
    expect(() => y.backward(tensor([1, 2, 3]))).toThrow(/seed float32\[3\] does not match output float64\[3\]/);
    // An NDArray works as a seed too.
    y.backward(raw.tensor([1, 1, 1], { dtype: 'float64' }));
  });
});

describe('graph release', () => {
  it('a second backward through a released graph throws (no silent double counting)', () => {
    const x = f64([1, 2], true);
    const loss = x.square().sum();
    loss.backward();
    expect(() => loss.backward()).toThrow(/graph.*released.*retainGraph/);
    expect(Array.from(x.grad!.data)).toEqual([2, 4]); // unchanged by the failed call
    expect(loss.grad).toBeNull(); // a released output is not mistaken for a leaf
  });

  it('reusing an intermediate from a released graph in a new graph throws too', () => {
    const x = f64([1, 2], true);
    const h = x.square();
    h.sum().backward();
    expect(() => h.mul(3).sum().backward()).toThrow(/released/);
    expect(h.grad).toBeNull();
  });

  it('retainGraph allows a second backward, which accumulates', () => {
    const x = f64([1, 2], true);
    const h = x.square();
    const loss = h.sum();
    loss.backward(undefined, { retainGraph: true });
    loss.backward();
    expect(Array.from(x.grad!.data)).toEqual([4, 8]);
    // And a retained intermediate can start a new graph.
    const y = f64([1, 2], true);
    const k = y.exp();
    k.sum().backward(undefined, { retainGraph: true });
    k.mul(2).sum().backward();
    expect(Array.from(y.grad!.data)).toEqual([3 * Math.E, 3 * Math.exp(2)]);
  });

  it('releases the nodes (they no longer hold their inputs)', () => {
    const x = f64([1, 2], true);
    const h = x.exp();
    const loss = h.sum();
    loss.backward();
    expect(loss.node).toBeNull();
    expect(h.node).toBeNull();
  });
});

describe('graph shapes', () => {
  it('a diamond (x used twice) sums the gradients of both paths', () => {
    const x = f64([2, -1], true);
    const a = x.mul(3);
    const b = x.square();
    a.add(b).sum().backward(); // d/dx (3x + x²) = 3 + 2x
    expect(Array.from(x.grad!.data)).toEqual([7, 1]);
  });

  it('a shared intermediate used by two branches', () => {
    const x = f64([0.5], true);
    const h = x.exp();
    h.mul(h).add(h.sin()).sum().backward(); // d/dx (e^{2x} + sin eˣ) = 2e^{2x} + cos(eˣ)·eˣ
    expect(x.grad!.data[0]).toBeCloseTo(2 * Math.exp(1) + Math.cos(Math.exp(0.5)) * Math.exp(0.5), 14);
  });

  it('a chain of 10,000 ops does not overflow the stack', () => {
    const x = f64([1], true);
    let y: Tensor = x;
    for (let i = 0; i < 10_000; i++) y = y.mul(1.0001);
    y.sum().backward();
    expect(x.grad!.data[0]).toBeCloseTo(1.0001 ** 10_000, 8);
  });

  it('a wide fan-in (x added 1,000 times) accumulates', () => {
    const x = f64([1], true);
    const terms = Array.from({ length: 1000 }, (_, i) => x.mul(i));
    terms.reduce((s, t) => s.add(t)).sum().backward();
    expect(x.grad!.data[0]).toBe((999 * 1000) / 2);
  });
});

describe('crossEntropy: dtypes and errors', () => {
  const targets = tensor([2, 0], { dtype: 'int32' });

  it('float32 logits: the loss is float64, the gradient reaches the logits as float32', () => {
    const logits = tensor([[1, 2, 3], [1, -1, 0.5]], { requiresGrad: true });
    const loss = ag.crossEntropy(logits, targets);
    expect(loss.dtype).toBe('float64');
    expect(loss.shape).toEqual([]);
    loss.backward();
    expect(logits.grad!.dtype).toBe('float32');
    expect(logits.grad!.shape).toEqual([2, 3]);
    // Each row of the gradient (softmax − onehot)/N sums to 0.
    const g = Array.from(logits.grad!.data);
    expect(Math.abs(g[0]! + g[1]! + g[2]!)).toBeLessThan(1e-7);
  });

  it("a loss below float32's resolution survives in float64", () => {
    // loss = log(1 + 2e⁻²⁰) ≈ 4.1e-9: in float32, 1 + 4e-9 rounds to 1 and the loss to 0.
    const logits = tensor([[20, 0, 0]], { requiresGrad: true });
    const loss = ag.crossEntropy(logits, tensor([0], { dtype: 'int32' }));
    const expected = Math.log1p(2 * Math.exp(-20));
    expect(Math.abs(loss.item() - expected)).toBeLessThan(1e-6 * expected);
  });

  it('targets of the wrong shape: the error names both shapes', () => {
    const logits = tensor([[1, 2, 3], [1, -1, 0.5]], { requiresGrad: true });
    expect(() => ag.crossEntropy(logits, tensor([1, 2, 0], { dtype: 'int32' }))).toThrow(/crossEntropy.*\[3\].*\[2, 3\].*\[2\]/);
    expect(() => ag.crossEntropy(logits, tensor([[1], [2]], { dtype: 'int32' }))).toThrow(/crossEntropy.*\[2, 1\].*\[2, 3\]/);
  });

  it('targets of the wrong dtype: the error names the dtype and the shapes', () => {
    const logits = tensor([[1, 2, 3], [1, -1, 0.5]], { requiresGrad: true });
    expect(() => ag.crossEntropy(logits, tensor([1, 2]))).toThrow(/crossEntropy: targets float32\[2\], logits \[2, 3\].*int32/);
  });

  it('an out-of-range class throws, naming the class, the logits shape and the number of classes', () => {
    const logits = tensor([[1, 2, 3], [1, -1, 0.5]], { requiresGrad: true });
    expect(() => ag.crossEntropy(logits, tensor([1, 3], { dtype: 'int32' }))).toThrow(/crossEntropy.*\[2, 3\].*class 3 is out of range for 3 classes/);
    expect(() => ag.crossEntropy(logits, tensor([-1, 0], { dtype: 'int32' }))).toThrow(/crossEntropy.*\[2, 3\].*class -1 is out of range/);
  });
});

describe('int32 tensors and cast', () => {
  it('casting to int32 cuts the gradient; an int32 tensor cast to float does not require grad', () => {
    const x = f64([1.5, 2.5], true);
    const i = x.cast('int32');
    expect(i.requiresGrad).toBe(false);
    expect(i.node).toBeNull();
    const back = i.cast('float64');
    expect(back.requiresGrad).toBe(false);
    const flagged = tensor([1, 2], { dtype: 'int32' }).requiresGrad_();
    expect(flagged.cast('float32').requiresGrad).toBe(false);
    expect(flagged.cast('float32').node).toBeNull();
  });

  it('a float result that mixes an int32-derived constant still differentiates the float input', () => {
    const x = f64([1.5, 2.5], true);
    const k = x.cast('int32').cast('float64'); // [1, 2], a constant
    x.mul(k).sum().backward();
    expect(Array.from(x.grad!.data)).toEqual([1, 2]);
  });
});

describe('sumToShape and creation helpers', () => {
  it('sumToShape sums over prepended and size-1 axes only', () => {
    const g = raw.arange(0, 24, 1, { dtype: 'float64' });
    const g3 = raw.reshape(g, [4, 2, 3]);
    expect(ag.sumToShape(g3, [4, 2, 3])).toBe(g3); // nothing to do: the same tensor
    expect(ag.sumToShape(g3, [3]).toArray()).toEqual([84, 92, 100]);
    expect(ag.sumToShape(g3, [2, 1]).toArray()).toEqual([[120], [156]]);
    expect(ag.sumToShape(g3, [4, 1, 1]).toArray()).toEqual([[[15]], [[51]], [[87]], [[123]]]);
    expect(ag.sumToShape(g3, []).item()).toBe(276);
  });

  it('creation functions take requiresGrad; Parameter wraps a Tensor as a leaf', () => {
    for (const t of [
      ag.zeros([2], { requiresGrad: true }),
      ag.ones([2], { dtype: 'float64', requiresGrad: true }),
      ag.full([2], 3, { requiresGrad: true }),
      ag.randn([2], { seed: 1, requiresGrad: true }),
      ag.rand([2], { seed: 1, requiresGrad: true }),
      ag.arange(0, 2, 1, { requiresGrad: true }),
      ag.eye(2, 2, { requiresGrad: true }),
    ]) {
      expect(t.requiresGrad).toBe(true);
    }
    expect(ag.zeros([2]).requiresGrad).toBe(false);
    expect(ag.randint(0, 3, [2]).requiresGrad).toBe(false);
    const computed = f64([1, 2], true).mul(2);
    const p = new Parameter(computed);
    expect(p.isLeaf).toBe(true);
    expect(p.value).toBe(computed.value);
    p.square().sum().backward();
    expect(Array.from(p.grad!.data)).toEqual([4, 8]);
  });
});
