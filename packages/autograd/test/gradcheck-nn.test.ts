/** gradcheck for the neural-network ops: softmax, logSoftmax (any axis), crossEntropy, layerNorm. */
import { describe, expect, it } from 'vitest';
import * as ag from '@grok/autograd';
import { tensor } from '@grok/autograd';
import { expectGradcheck, randParam } from './helpers.js';

const int32 = (values: Parameters<typeof tensor>[0]) => tensor(values, { dtype: 'int32' });

describe('softmax and logSoftmax', () => {
  for (const [name, op] of [['softmax', ag.softmax], ['logSoftmax', ag.logSoftmax]] as const) {
    it.each([[-1], [2], [1], [0], [-3]])(`${name} along axis %i of [2,3,4]`, (axis) => {
      expectGradcheck((x) => op(x, axis), [randParam([2, 3, 4], 1)]);
    });
    it(`${name} on a permuted input and a 1-D input`, () => {
      expectGradcheck((x) => op(x.permute(1, 2, 0), 1), [randParam([2, 3, 4], 2)]);
      expectGradcheck((x) => op(x), [randParam([5], 3)]);
    });
  }

  it('methods, and large logits stay differentiable', () => {
    expectGradcheck((x) => x.softmax(0).mul(x.logSoftmax(0)), [randParam([3, 2], 4)]);
    const big = tensor([[500, 501, 499], [-800, -801, -799.5]], { dtype: 'float64', requiresGrad: true });
    expectGradcheck((x) => x.logSoftmax(-1), [big]);
    expectGradcheck((x) => x.softmax(-1), [big]);
  });
});

describe('crossEntropy', () => {
  const targets = int32([3, 0, 3, 1]);
  for (const reduction of ['mean', 'sum', 'none'] as const) {
    it(`reduction '${reduction}' on [4,5] logits`, () => {
      expectGradcheck((x) => ag.crossEntropy(x, targets, { reduction }), [randParam([4, 5], 5)]);
    });
    it(`reduction '${reduction}' on [2,3,4] logits (a batch of sequences)`, () => {
      const t = int32([[0, 3, 3], [1, 2, 0]]);
      expectGradcheck((x) => ag.crossEntropy(x, t, { reduction }), [randParam([2, 3, 4], 6)]);
    });
  }

  it("precision 'input' and logits that come out of a transpose", () => {
    expectGradcheck((x) => ag.crossEntropy(x, targets, { precision: 'input' }), [randParam([4, 5], 7)]);
    expectGradcheck((x) => ag.crossEntropy(x.transpose(), targets), [randParam([5, 4], 8)]);
  });

  it('equals the mean of −logSoftmax at the targets, and its gradient is (softmax − onehot)/N', () => {
    const x = randParam([4, 5], 9);
    const loss = ag.crossEntropy(x, targets);
    const logp = x.logSoftmax().toArray() as number[][];
    const expected = -[3, 0, 3, 1].reduce((s, t, i) => s + logp[i]![t]!, 0) / 4;
    expect(loss.item()).toBeCloseTo(expected, 14);
    loss.backward();
    const p = x.softmax().toArray() as number[][];
    const g = x.grad!.toArray() as number[][];
    [3, 0, 3, 1].forEach((t, i) => {
      for (let c = 0; c < 5; c++) expect(g[i]![c]).toBeCloseTo((p[i]![c]! - (c === t ? 1 : 0)) / 4, 14);
    });
  });
});

describe('layerNorm', () => {
  it('with weight and bias, over the last axis of [2,3,4]', () => {
    expectGradcheck((x, w, b) => ag.layerNorm(x, w, b), [randParam([2, 3, 4], 10), randParam([4], 11), randParam([4], 12)]);
  });

  it('without weight and bias, with weight only, with bias only', () => {
    expectGradcheck((x) => ag.layerNorm(x, null, null), [randParam([3, 5], 13)]);
    expectGradcheck((x, w) => ag.layerNorm(x, w, null), [randParam([3, 5], 14), randParam([5], 15)]);
    expectGradcheck((x, b) => ag.layerNorm(x, null, b), [randParam([3, 5], 16), randParam([5], 17)]);
  });

  it('with a large eps, on a permuted input', () => {
    expectGradcheck((x, w, b) => ag.layerNorm(x.transpose(), w, b, 0.5), [randParam([4, 3], 18), randParam([4], 19), randParam([4], 20)]);
  });

  it('rejects a weight of the wrong size, naming the shapes', () => {
    expect(() => ag.layerNorm(randParam([2, 4], 21), randParam([3], 22), null)).toThrow(/weight \[3\].*\[4\].*\[2, 4\]/);
  });
});

describe("composites (the transformer's building blocks, end to end)", () => {
  it('an MLP block: layerNorm → matmul + bias → gelu → matmul → crossEntropy', () => {
    const targets = int32([1, 0, 2]);
    expectGradcheck(
      (x, w1, b1, w2) => ag.crossEntropy(ag.gelu(ag.layerNorm(x, null, null).matmul(w1).add(b1)).matmul(w2), targets),
      [randParam([3, 4], 30), randParam([4, 5], 31), randParam([5], 32), randParam([5, 3], 33)],
    );
  });

  it('causal attention: softmax(QKᵀ/√d + mask) V over [batch, heads, pos, d]', () => {
    const mask = tensor([[0, -1e9, -1e9], [0, 0, -1e9], [0, 0, 0]], { dtype: 'float64' });
    expectGradcheck(
      (q, k, v) => ag.matmul(ag.softmax(ag.matmul(q, k, { transB: true }).div(Math.sqrt(2)).add(mask), -1), v),
      [randParam([2, 2, 3, 2], 34), randParam([2, 2, 3, 2], 35), randParam([1, 2, 3, 2], 36)],
    );
  });

  it('an embedding lookup plus positions, unembedded (indexSelect, broadcast add, transposed matmul)', () => {
    const tokens = int32([2, 0, 2]);
    expectGradcheck(
      (wE, wPos) => ag.indexSelect(wE, 0, tokens).add(wPos).matmul(wE, { transB: true }).logSoftmax(),
      [randParam([4, 3], 37), randParam([3, 3], 38)],
    );
  });
});
