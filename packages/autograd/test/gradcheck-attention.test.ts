/**
 * attentionShortContext: its gradients against central differences (float64), and the fused op against the
 * composition of the ops it replaces (matmul, div, the causal mask, softmax, matmul), forward and gradients,
 * in float32 and float64, on the cpu and reference backends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as ag from '@grok/autograd';
import { type DType, type Tensor, getBackend, raw, tensor, useBackend } from '@grok/autograd';
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
      const v = randParam([2, 3, s.pos, d], 3);
      expectGradcheck((a, b, c) => ag.attentionShortContext(a!, b!, c!, { causal: s.causal }), [q, k, v]);
    });
  }

  it('only the inputs that require grad get one', () => {
    const q = randParam([1, 2, 1, 4], 4);
    const k = ag.randn([1, 2, 3, 4], { dtype: 'float64', seed: 5 });
    const v = randParam([1, 2, 3, 4], 6);
    ag.attentionShortContext(q, k, v).sum().backward();
    expect(q.grad).not.toBeNull();
    expect(k.grad).toBeNull();
    expect(v.grad!.shape).toEqual([1, 2, 3, 4]);
  });
});

/** The op-by-op attention of the model (transformer's Attention.mix), with the mask of the fused op. */
function byOps(q: Tensor, k: Tensor, v: Tensor, causal: boolean): Tensor {
  const [qPos, d] = q.shape.slice(-2) as [number, number];
  const pos = k.shape.at(-2)!;
  let scores = q.matmul(k, { transB: true }).div(Math.sqrt(d));
  if (causal) {
    const mask = new Float64Array(qPos * pos);
    for (let i = 0; i < qPos; i++) for (let j = i + pos - qPos + 1; j < pos; j++) mask[i * pos + j] = -Infinity;
    scores = scores.add(tensor(mask, { shape: [qPos, pos], dtype: q.dtype }));
  }
  return scores.softmax(-1).matmul(v);
}

describe('fused equals the op-by-op path, forward and gradients, bit for bit', () => {
  const before = getBackend();
  afterEach(() => useBackend(before));

  for (const backend of ['cpu', 'reference']) {
    for (const dtype of ['float32', 'float64'] as DType[]) {
      for (const s of shapes) {
        it(`${backend} ${dtype} ${label(s)}`, () => {
          useBackend(raw.createBackend(backend));
          const make = (shape: number[], seed: number, scale: number) =>
            ag.randn(shape, { dtype, seed }).mul(scale).detach().requiresGrad_();
          const run = (f: typeof byOps) => {
            const [q, k, v] = [make([6, 4, s.qPos, 32], 7, 2), make([6, 4, s.pos, 32], 8, 2), make([6, 4, s.pos, 32], 9, 1)];
            const dz = ag.randn([6, 4, s.qPos, 32], { dtype, seed: 10 });
            const z = f(q, k, v, s.causal);
            z.mul(dz).sum().backward();
            return [z, q.grad!, k.grad!, v.grad!].map((t) => Array.from(t.data));
          };
          const fused = run((q, k, v, causal) => ag.attentionShortContext(q, k, v, { causal }));
          expect(fused).toEqual(run(byOps));
          expect(fused[1]!.some((g) => g !== 0)).toBe(true);
        });
      }
    }
  }
});
