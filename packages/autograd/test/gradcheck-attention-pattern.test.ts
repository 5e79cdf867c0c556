/**
 * attentionPattern (softmax(q·kᵀ / √d (+ causal mask)) alone, no v, no z): its gradients against central
 * differences (float64), the op against the composition of the ops it replaces (matmul, div, the causal
 * mask, softmax), values and gradients bit for bit in float32 and float64 on the cpu and reference
 * backends, and in a compiled step.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as ag from '@grok/autograd';
import { AdamW, type DType, Parameter, type Tensor, compileStep, crossEntropy, getBackend, raw, tensor, useBackend } from '@grok/autograd';
import { expectGradcheck, randParam } from './helpers.js';

const shapes = [
  { qPos: 1, pos: 3, causal: false },
  { qPos: 1, pos: 3, causal: true }, // the last query sees every key: the same function as above
  { qPos: 3, pos: 3, causal: false },
  { qPos: 3, pos: 3, causal: true },
  { qPos: 2, pos: 4, causal: true }, // queries at the last two positions
];
const label = (s: (typeof shapes)[number]) => `qPos ${s.qPos}, pos ${s.pos}${s.causal ? ', causal' : ''}`;

describe('gradcheck (float64)', () => {
  for (const s of shapes) {
    it(label(s), () => {
      const d = 5;
      const q = randParam([2, 3, s.qPos, d], 1);
      const k = randParam([2, 3, s.pos, d], 2);
      expectGradcheck((a, b) => ag.attentionPattern(a!, b!, { causal: s.causal }), [q, k]);
    });
  }

  it('as the transformer uses it: rows of a table weighted by the pattern, the pattern used twice', () => {
    const q = randParam([2, 2, 3, 4], 3);
    const k = randParam([2, 2, 3, 4], 4);
    const table = randParam([3, 6], 5);
    expectGradcheck((a, b, e) => {
      const pattern = ag.attentionPattern(a!, b!, { causal: true });
      return pattern.matmul(e!).sum().add(pattern.square().sum()); // two uses: autograd adds their gradients
    }, [q, k, table]);
  });

  it('only the inputs that require grad get one (and none of them, no graph)', () => {
    const q = randParam([1, 2, 1, 4], 6);
    const k = ag.randn([1, 2, 3, 4], { dtype: 'float64', seed: 7 });
    const c = ag.randn([1, 2, 1, 3], { dtype: 'float64', seed: 8 });
    ag.attentionPattern(q, k).mul(c).sum().backward();
    expect(q.grad!.shape).toEqual([1, 2, 1, 4]);
    expect(Array.from(q.grad!.data).some((g) => g !== 0)).toBe(true);
    expect(k.grad).toBeNull();
    expect(ag.attentionPattern(k, k).requiresGrad).toBe(false);
  });

  it('names arguments that are not tensors', () => {
    const q = randParam([1, 2, 1, 4], 9);
    expect(() => ag.attentionPattern(q, q.value as unknown as Tensor)).toThrow(/attentionPattern: k must be an autograd Tensor/);
    expect(() => ag.attentionPattern(q, randParam([1, 2, 3, 5], 10))).toThrow(/k must match q in every axis but positions/);
  });
});

/** The op-by-op pattern of the model (transformer's Attention.mix up to the softmax), with the fused op's mask. */
function byOps(q: Tensor, k: Tensor, causal: boolean): Tensor {
  const [qPos, d] = q.shape.slice(-2) as [number, number];
  const pos = k.shape.at(-2)!;
  let scores = q.matmul(k, { transB: true }).div(Math.sqrt(d));
  if (causal) {
    const mask = new Float64Array(qPos * pos);
    for (let i = 0; i < qPos; i++) for (let j = i + pos - qPos + 1; j < pos; j++) mask[i * pos + j] = -Infinity;
    scores = scores.add(tensor(mask, { shape: [qPos, pos], dtype: q.dtype }));
  }
  return scores.softmax(-1);
}

describe('fused equals the op-by-op path, forward and gradients, bit for bit', () => {
  const before = getBackend();
  afterEach(() => useBackend(before));

  for (const backend of ['cpu', 'reference']) {
    for (const dtype of ['float32', 'float64'] as DType[]) {
      for (const s of shapes) {
        it(`${backend} ${dtype} ${label(s)}`, () => {
          useBackend(raw.createBackend(backend));
          const make = (shape: number[], seed: number) => ag.randn(shape, { dtype, seed }).mul(2).detach().requiresGrad_();
          const run = (f: typeof byOps) => {
            const [q, k] = [make([6, 4, s.qPos, 32], 7), make([6, 4, s.pos, 32], 8)];
            const c = ag.randn([6, 4, s.qPos, s.pos], { dtype, seed: 10 });
            const pattern = f(q, k, s.causal);
            pattern.mul(c).sum().backward();
            return [pattern, q.grad!, k.grad!].map((t) => Array.from(t.data));
          };
          const fused = run((q, k, causal) => ag.attentionPattern(q, k, { causal }));
          expect(fused).toEqual(run(byOps));
          expect(fused[1]!.some((g) => g !== 0)).toBe(true);
        });
      }
    }
  }

});

describe('in a compiled step (the captured wasm kernels)', () => {
  /** A toy model in the transformer's shape: the pattern weights rows of a table, then a loss. float32, cpu. */
  function makeModel(seed: number) {
    const Wq = new Parameter(ag.randn([8, 8], { seed, std: 0.5 }));
    const Wk = new Parameter(ag.randn([8, 8], { seed: seed + 1, std: 0.5 }));
    const table = new Parameter(ag.randn([3, 5], { seed: seed + 2 }));
    const x = ag.randn([16, 1, 3, 8], { seed: seed + 3 }); // [batch, H, pos, d_model]
    const labels = tensor(Array.from({ length: 16 * 3 }, (_, i) => (i * 7) % 5), { dtype: 'int32' });
    const params = [Wq, Wk, table];
    const step = () => {
      const pattern = ag.attentionPattern(x.matmul(Wq), x.matmul(Wk), { causal: true }); // [16, 1, 3, 3]
      const loss = crossEntropy(pattern.matmul(table).reshape([48, 5]), labels);
      loss.backward();
      return loss;
    };
    return { params, step };
  }

  it('replays AdamW training bit for bit like the eager step, through the pattern kernels', () => {
    const before = getBackend();
    try {
      useBackend(raw.createBackend('cpu'));
      const eager = makeModel(30);
      const compiled = makeModel(30);
      const optE = new AdamW(eager.params, { lr: 1e-2 });
      const optC = new AdamW(compiled.params, { lr: 1e-2 });
      const step = compileStep(compiled.step);
      for (let i = 0; i < 5; i++) {
        const le = eager.step().item();
        optE.step();
        optE.zeroGrad();
        expect(step().item()).toBe(le);
        optC.step();
        optC.zeroGrad();
      }
      expect(step.mode).toBe('replay');
      const labels = step.profile()!.map((p) => p.label.split(' [')[0]);
      expect(labels).toContain('attention pattern');
      expect(labels).toContain('attention pattern backward');
      expect(compiled.params.map((p) => Array.from(p.data))).toEqual(eager.params.map((p) => Array.from(p.data)));
    } finally {
      useBackend(before);
    }
  });
});
