/**
 * compileStep: a replayed tape gives the eager step's numbers bit for bit, and it refuses (or falls back)
 * where replaying would be wrong.
 */
import { describe, expect, it } from 'vitest';
import { AdamW, Parameter, type Tensor, compileStep, crossEntropy, randn, tensor } from '@grok/autograd';

/** A small classifier with an embedding (indexSelect → indexAdd in backward) and an MLP, float32. */
function makeModel(seed: number) {
  const W_E = new Parameter(randn([10, 16], { seed }));
  const W1 = new Parameter(randn([16, 32], { seed: seed + 1, std: 0.3 }));
  const b1 = new Parameter(randn([32], { seed: seed + 2, std: 0.1 }));
  const W2 = new Parameter(randn([32, 10], { seed: seed + 3, std: 0.3 }));
  const params = [W_E, W1, b1, W2];
  const tokens = tensor([1, 4, 4, 9, 0, 3, 7, 7, 2, 5, 8, 6], { dtype: 'int32' }); // repeated rows accumulate
  const labels = tensor([3, 1, 1, 0, 9, 2, 5, 5, 4, 4, 8, 6], { dtype: 'int32' });
  const step = () => {
    const h = W_E.indexSelect(0, tokens).matmul(W1).add(b1).relu(); // [12, 32]
    const loss = crossEntropy(h.matmul(W2), labels); // float64
    loss.backward();
    return loss;
  };
  return { params, step };
}

const snapshot = (params: readonly Tensor[]) => params.map((p) => Array.from(p.data));

describe('compileStep', () => {
  it('replays AdamW training bit for bit like the eager step', () => {
    const eager = makeModel(1);
    const compiled = makeModel(1);
    const optE = new AdamW(eager.params, { lr: 1e-2, weightDecay: 0.1 });
    const optC = new AdamW(compiled.params, { lr: 1e-2, weightDecay: 0.1 });
    const step = compileStep(compiled.step);
    expect(step.mode).toBe('pending');
    for (let i = 0; i < 8; i++) {
      const le = eager.step().item();
      optE.step();
      optE.zeroGrad();
      const lc = step().item();
      optC.step();
      optC.zeroGrad();
      expect(lc).toBe(le);
    }
    expect(step.mode).toBe('replay');
    expect(step.kernels).toBeGreaterThan(10);
    expect(snapshot(compiled.params)).toEqual(snapshot(eager.params));
  });

  it('gives back the gradients of every parameter after a replay', () => {
    const m = makeModel(2);
    const step = compileStep(m.step);
    step();
    const first = m.params.map((p) => Array.from(p.grad!.data));
    for (const p of m.params) p.zeroGrad();
    step(); // replay, same weights
    expect(m.params.map((p) => Array.from(p.grad!.data))).toEqual(first);
  });

  it('refuses to replay onto gradients left from the last step', () => {
    const m = makeModel(3);
    const step = compileStep(m.step);
    step();
    expect(() => step()).toThrow(/zeroGrad/);
  });

  it('runs eagerly, and says why once, when the step reads an intermediate on the host', () => {
    const m = makeModel(4);
    const reasons: string[] = [];
    const reads: number[] = [];
    const step = compileStep(() => {
      const loss = m.step();
      reads.push(loss.item()); // host code inside the step: a replay could not redo it
      return loss;
    }, { onFallback: (r) => reasons.push(r) });
    const opt = new AdamW(m.params, { lr: 1e-2 });
    for (let i = 0; i < 3; i++) {
      step();
      opt.step();
      opt.zeroGrad();
    }
    expect(step.mode).toBe('eager');
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/host read/);
    expect(new Set(reads).size).toBe(3); // three real steps, three different losses
  });

  it('keeps the gradients of a step that fell back intact while another step is captured', () => {
    const eager = makeModel(7);
    const a = makeModel(7);
    const other = makeModel(8);
    eager.step();
    const want = eager.params.map((p) => Array.from(p.grad!.data));
    const step = compileStep(() => {
      const loss = a.step();
      void loss.item(); // host read: this step falls back
      return loss;
    });
    step();
    compileStep(other.step)(); // a capture in between, as the test-set evaluation does before the update
    expect(a.params.map((p) => Array.from(p.grad!.data))).toEqual(want);
  });

  it('falls back to eager steps, saying so, when an optimizer replaces a parameter instead of updating it in place', () => {
    const eager = makeModel(5);
    const compiled = makeModel(5);
    const reasons: string[] = [];
    const replaced = compiled.params[1]!;
    const optE = new AdamW(eager.params, { lr: 0.1 });
    const optC = new AdamW(compiled.params, { lr: 0.1 });
    const step = compileStep(compiled.step, { onFallback: (r) => reasons.push(r) });
    for (let i = 0; i < 4; i++) {
      const le = eager.step().item();
      optE.step();
      optE.zeroGrad();
      expect(step().item()).toBe(le);
      optC.step();
      optC.zeroGrad();
      if (i === 1) replaced.value = replaced.value.clone(); // same numbers, another tensor
    }
    expect(step.mode).toBe('eager');
    expect(reasons).toEqual(['a parameter was replaced by a new tensor instead of being updated in place']);
    expect(snapshot(compiled.params)).toEqual(snapshot(eager.params));
  });

  it('packs buffers that are never alive together into the same memory', () => {
    const m = makeModel(6);
    const step = compileStep(m.step);
    step();
    // Every buffer the step allocates, each in memory of its own, would take more than the plan does.
    const eachOwn = m.params.reduce((n, p) => n + 4 * p.size, 0); // gradients alone, a lower bound on "all"
    expect(step.bytes).toBeGreaterThan(eachOwn);
    for (const p of m.params) p.zeroGrad();
    const before = step.bytes;
    step();
    expect(step.bytes).toBe(before); // a replay allocates nothing
  });
});
