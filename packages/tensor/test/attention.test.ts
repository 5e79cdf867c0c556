/**
 * attentionShortContext and its backward: the fused kernels give the op-by-op path's numbers (matmul, div,
 * the causal mask, softmax; and autograd's backward of each) bit for bit, on the reference backend and on
 * the cpu backend (whose small matmuls round differently), eagerly and captured (the wasm kernels); a
 * replay of a captured tape sees new inputs; gpujs composes the op from its own kernels; bad input is named.
 */
import { describe, expect, it } from 'vitest';
import {
  type Backend, type DType, type NDArray, CpuBackend, GpuJsBackend, ReferenceBackend,
  attentionBackwardByOps, attentionByOps, attentionShortContext, attentionShortContextBackward, tensor,
} from '@grok/tensor';
import { atEachThreadCount, firstDifferences, randomValues, size } from './helpers.js';

interface Case {
  batch: number;
  H: number;
  qPos: number;
  pos: number;
  d: number;
  causal: boolean;
}

const cases: Case[] = [
  { batch: 7, H: 4, qPos: 1, pos: 3, d: 32, causal: false }, // the paper's last position
  { batch: 7, H: 4, qPos: 3, pos: 3, d: 32, causal: true }, // the paper's full context
  { batch: 5, H: 2, qPos: 3, pos: 3, d: 32, causal: false },
  { batch: 3, H: 3, qPos: 2, pos: 5, d: 8, causal: true }, // queries at the last two of five positions
  { batch: 4, H: 1, qPos: 1, pos: 1, d: 4, causal: true },
  { batch: 3, H: 2, qPos: 3, pos: 4, d: 6, causal: true }, // d not a multiple of 4: the captured path keeps the JS loop
];

const name = (c: Case) => `[${c.batch}, ${c.H}] × qPos ${c.qPos}, pos ${c.pos}, d ${c.d}${c.causal ? ', causal' : ''}`;

function inputs(be: Backend, c: Case, dtype: DType, seed: number) {
  const make = (shape: number[], s: number, scale = 1) =>
    tensor(randomValues(size(shape), s).map((x) => scale * x), { shape, dtype, backend: be });
  return {
    // Scores of a few units, so the softmax is neither flat nor one-hot.
    q: make([c.batch, c.H, c.qPos, c.d], seed, 3),
    k: make([c.batch, c.H, c.pos, c.d], seed + 1, 3),
    v: make([c.batch, c.H, c.pos, c.d], seed + 2),
    dz: make([c.batch, c.H, c.qPos, c.d], seed + 3),
  };
}

const values = (t: NDArray) => Array.from(t.data);

/** Forward and backward, fused, as five arrays. */
function fusedRun(x: ReturnType<typeof inputs>, causal: boolean): NDArray[] {
  const { z, pattern } = attentionShortContext(x.q, x.k, x.v, { causal });
  const { dq, dk, dv } = attentionShortContextBackward(x.q, x.k, x.v, pattern, x.dz);
  return [z, pattern, dq, dk, dv];
}

function byOpsRun(x: ReturnType<typeof inputs>, causal: boolean): NDArray[] {
  const { z, pattern } = attentionByOps(x.q, x.k, x.v, causal);
  const { dq, dk, dv } = attentionBackwardByOps(x.q, x.k, x.v, pattern, x.dz);
  return [z, pattern, dq, dk, dv];
}

describe('fused attention equals the op-by-op path bit for bit', () => {
  for (const [label, be] of [['reference', new ReferenceBackend()], ['cpu', new CpuBackend()]] as const) {
    for (const dtype of ['float32', 'float64'] as const) {
      for (const c of cases) {
        it(`${label} ${dtype} ${name(c)}`, () => {
          const x = inputs(be, c, dtype, 11);
          const fused = fusedRun(x, c.causal).map(values);
          const ops = byOpsRun(x, c.causal).map(values);
          expect(fused).toEqual(ops);
          // Not all zeros, and the causal mask really masks: the first query of a causal case sees one key
          // fewer than the next.
          expect(fused[4]!.some((g) => g !== 0)).toBe(true);
          if (c.causal && c.pos > 1 && c.qPos === c.pos) expect(fused[1]![1]).toBe(0);
        });
      }
    }
  }

  it('the reference and cpu backends differ in float32 (their matmuls round differently), by float32 rounding only', () => {
    const c = cases[1]!;
    const ref = fusedRun(inputs(new ReferenceBackend(), c, 'float32', 5), true).map(values);
    const cpu = fusedRun(inputs(new CpuBackend(), c, 'float32', 5), true).map(values);
    expect(ref).not.toEqual(cpu);
    ref.forEach((r, a) => r.forEach((x, i) => expect(Math.abs(x - cpu[a]![i]!)).toBeLessThan(1e-5 * (1 + Math.abs(x)))));
  });
});

describe('captured (wasm) fused attention', () => {
  for (const c of cases) {
    it(`equals the eager kernel bit for bit and replays new inputs: ${name(c)}`, () => {
      const cpu = new CpuBackend();
      const x = inputs(cpu, c, 'float32', 21);
      const eager = fusedRun(x, c.causal).map(values);
      cpu.beginCapture();
      const captured = fusedRun(x, c.causal);
      const tape = cpu.endCapture(captured);
      expect(tape.labels.map((l) => l.split(' [')[0])).toEqual(['attention', 'attention backward']);
      expect(captured.map(values)).toEqual(eager);

      // New values in the (host) inputs: the replay stages them.
      const fresh = inputs(cpu, c, 'float32', 31);
      for (const key of ['q', 'k', 'v', 'dz'] as const) x[key].data.set(fresh[key].data);
      const expected = fusedRun(x, c.causal).map(values);
      tape.replay();
      expect(captured.map(values)).toEqual(expected);
      expect(expected).not.toEqual(eager);
    });
  }

  it('split across 1, 2 and 3 threads by (batch, head) entries, with a pattern gradient from elsewhere: the eager bits', async () => {
    const c: Case = { batch: 2000, H: 4, qPos: 3, pos: 3, d: 32, causal: true }; // over 1M elements: split even with the workers asleep
    const cpu = new CpuBackend();
    const x = inputs(cpu, c, 'float32', 41);
    const dpattern = tensor(randomValues(c.batch * c.H * 9, 45), { shape: [c.batch, c.H, 3, 3], backend: cpu });
    const run = () => {
      const { z, pattern } = attentionShortContext(x.q, x.k, x.v, { causal: true });
      const { dq, dk, dv } = attentionShortContextBackward(x.q, x.k, x.v, pattern, x.dz, dpattern);
      return [z, pattern, dq, dk, dv];
    };
    const eager = run().map(values); // the JS loops
    await atEachThreadCount([1, 2, 3], (threads) => {
      cpu.beginCapture();
      const captured = run();
      cpu.endCapture(captured);
      expect(firstDifferences(captured.map(values), eager), `${threads} threads`).toEqual([-1, -1, -1, -1, -1]);
    });
  });

  it('keeps −∞ scores, large scores and NaN as the op-by-op path does', () => {
    const cpu = new CpuBackend();
    const c = cases[1]!;
    const x = inputs(cpu, c, 'float32', 41);
    x.q.data[0] = 1e30; // a huge score in the first row
    x.k.data[5] = NaN; // NaN in one key
    const eager = byOpsRun(x, true).map(values);
    cpu.beginCapture();
    const captured = fusedRun(x, true);
    cpu.endCapture(captured);
    expect(captured.map(values)).toEqual(eager);
  });
});

describe('gpujs', () => {
  it('composes the op from its own kernels (no fused kernel), matching cpu to float32 precision', () => {
    const gpu = new GpuJsBackend({ mode: 'cpu' });
    try {
      expect((gpu as Backend).attentionShortContext).toBeUndefined();
      for (const c of cases.slice(0, 2)) {
        const got = fusedRun(inputs(gpu, c, 'float32', 51), c.causal).map(values);
        const want = fusedRun(inputs(new CpuBackend(), c, 'float32', 51), c.causal).map(values);
        got.forEach((g, a) => g.forEach((x, i) => expect(Math.abs(x - want[a]![i]!)).toBeLessThan(1e-5 * (1 + Math.abs(x)))));
      }
    } finally {
      gpu.destroy();
    }
  });
});

describe('errors', () => {
  const be = new CpuBackend();
  const t = (shape: number[], dtype: DType = 'float32') => tensor(new Array(size(shape)).fill(0.5), { shape, dtype, backend: be });
  it('names shapes that do not fit', () => {
    expect(() => attentionShortContext(t([2, 1, 32]), t([2, 3, 16]), t([2, 3, 16]))).toThrow(/k must match q in every axis but positions/);
    expect(() => attentionShortContext(t([2, 1, 32]), t([2, 3, 32]), t([2, 4, 32]))).toThrow(/k and v must have one shape/);
    expect(() => attentionShortContext(t([2, 4, 8]), t([2, 3, 8]), t([2, 3, 8]), { causal: true })).toThrow(/no more queries than keys/);
    expect(() => attentionShortContext(t([8]), t([8]), t([8]))).toThrow(/\[\.\.\., positions, d_head\]/);
  });
  it('names dtypes and a wrong dz', () => {
    expect(() => attentionShortContext(t([2, 1, 8], 'int32'), t([2, 3, 8], 'int32'), t([2, 3, 8], 'int32'))).toThrow(/one float dtype/);
    expect(() => attentionShortContext(t([2, 1, 8]), t([2, 3, 8], 'float64'), t([2, 3, 8]))).toThrow(/one float dtype/);
    const [q, k, v] = [t([2, 1, 8]), t([2, 3, 8]), t([2, 3, 8])];
    const { pattern } = attentionShortContext(q, k, v);
    expect(() => attentionShortContextBackward(q, k, v, pattern, t([2, 3, 8]))).toThrow(/dz must be float32\[2, 1, 8\]/);
  });
});
