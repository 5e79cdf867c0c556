/**
 * attentionPattern and its backward (the short-context attention stopped at the pattern: no v, no z): the
 * fused kernels give the op-by-op path's numbers (matmul, div, the causal mask, softmax; and autograd's
 * backward of each) bit for bit on the reference and cpu backends; the cpu's float32 numbers are the
 * reference loops with 'each-term' sums, eagerly and captured (wasm), at 1, 2 and 3 threads; they agree with
 * the full op's pattern and its backward when z has no gradient; gpujs composes the op; bad input is named.
 */
import { describe, expect, it } from 'vitest';
import {
  type Backend, type DType, type NDArray, CpuBackend, GpuJsBackend, ReferenceBackend,
  attentionPattern, attentionPatternBackward, attentionPatternBackwardByOps, attentionPatternByOps,
  attentionShortContext, attentionShortContextBackward, tensor, zeros,
} from '@grok/tensor';
import { type AttentionDims, type SumRounding, attentionPatternBackwardInto, attentionPatternInto } from '../src/backends/reference/attention.js';
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
  { batch: 7, H: 4, qPos: 1, pos: 3, d: 32, causal: true }, // the last query sees every key
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
    dpattern: make([c.batch, c.H, c.qPos, c.pos], seed + 2),
  };
}

type Inputs = ReturnType<typeof inputs>;
const values = (t: NDArray) => Array.from(t.data);

/** Forward and backward, fused: pattern, dq, dk. */
function fusedRun(x: Inputs, causal: boolean): NDArray[] {
  const pattern = attentionPattern(x.q, x.k, { causal });
  const { dq, dk } = attentionPatternBackward(x.q, x.k, pattern, x.dpattern);
  return [pattern, dq, dk];
}

function byOpsRun(x: Inputs, causal: boolean): NDArray[] {
  const pattern = attentionPatternByOps(x.q, x.k, causal);
  const { dq, dk } = attentionPatternBackwardByOps(x.q, x.k, pattern, x.dpattern);
  return [pattern, dq, dk];
}

/** The reference loops on the inputs' arrays, with the given sums (the cpu backend's are 'each-term'). */
function loopsRun(x: Inputs, c: Case, sums: SumRounding): Float32Array[] {
  const dims: AttentionDims = { entries: c.batch * c.H, qPos: c.qPos, pos: c.pos, d: c.d };
  const [pattern, dq, dk] = [new Float32Array(x.dpattern.size), new Float32Array(x.q.size), new Float32Array(x.k.size)];
  attentionPatternInto(x.q.data, x.k.data, dims, c.causal, pattern);
  attentionPatternBackwardInto(x.q.data, x.k.data, pattern, x.dpattern.data, dims, dq, dk, sums);
  return [pattern, dq, dk];
}

describe('fused attention pattern equals the op-by-op path bit for bit', () => {
  for (const [label, be] of [['reference', new ReferenceBackend()], ['cpu', new CpuBackend()]] as const) {
    for (const dtype of ['float32', 'float64'] as const) {
      for (const c of cases) {
        it(`${label} ${dtype} ${name(c)}`, () => {
          const x = inputs(be, c, dtype, 11);
          const fused = fusedRun(x, c.causal);
          expect(fused.map((t) => t.dtype)).toEqual([dtype, dtype, dtype]);
          expect(fused.map((t) => t.shape)).toEqual([x.dpattern.shape, x.q.shape, x.k.shape]);
          expect(fused.map(values)).toEqual(byOpsRun(x, c.causal).map(values));
          // Gradients not all zeros (with one key the pattern is 1 whatever q and k), rows that sum to 1, and
          // the causal mask really masks: the first query of a causal case with qPos = pos sees only the first key.
          const [pattern, dq, dk] = fused.map(values);
          expect(dq!.some((g) => g !== 0) && dk!.some((g) => g !== 0)).toBe(c.pos > 1);
          for (let r = 0; r < pattern!.length; r += c.pos) {
            expect(Math.abs(pattern!.slice(r, r + c.pos).reduce((a, b) => a + b) - 1)).toBeLessThan(1e-6);
          }
          if (c.causal && c.pos > 1 && c.qPos === c.pos) expect(pattern!.slice(1, c.pos)).toEqual(new Array(c.pos - 1).fill(0));
        });
      }
    }
  }

  it("cpu float32 is the reference loops with 'each-term' sums, not 'once' (the reference backend's)", () => {
    for (const c of cases) {
      const x = inputs(new CpuBackend(), c, 'float32', 13);
      expect(fusedRun(x, c.causal).map(values), name(c)).toEqual(loopsRun(x, c, 'each-term').map((a) => Array.from(a)));
    }
    // The two roundings really differ here (the gradients of the paper's full context), by float32 rounding only.
    const c = cases[2]!;
    const cpu = fusedRun(inputs(new CpuBackend(), c, 'float32', 5), true).map(values);
    const ref = fusedRun(inputs(new ReferenceBackend(), c, 'float32', 5), true).map(values);
    expect(cpu[0]).toEqual(ref[0]); // the pattern has no weighted sums
    expect(cpu.slice(1)).not.toEqual(ref.slice(1));
    ref.forEach((r, a) => r.forEach((v, i) => expect(Math.abs(v - cpu[a]![i]!)).toBeLessThan(1e-5 * (1 + Math.abs(v)))));
  });

  it('is the full op with z left out: its pattern, and its backward when dz = 0 and the pattern has a gradient', () => {
    for (const be of [new ReferenceBackend(), new CpuBackend()]) {
      for (const dtype of ['float32', 'float64'] as const) {
        for (const c of cases) {
          const x = inputs(be, c, dtype, 17);
          const v = tensor(randomValues(x.k.size, 19), { shape: x.k.shape, dtype, backend: be });
          const full = attentionShortContext(x.q, x.k, v, { causal: c.causal });
          const pattern = attentionPattern(x.q, x.k, { causal: c.causal });
          expect(values(pattern)).toEqual(values(full.pattern));
          const { dq, dk } = attentionShortContextBackward(x.q, x.k, v, pattern, zeros(x.q.shape, { dtype, backend: be }), x.dpattern);
          expect([dq, dk].map(values)).toEqual(fusedRun(x, c.causal).slice(1).map(values));
        }
      }
    }
  });
});

describe('captured (wasm) attention pattern', () => {
  for (const c of cases) {
    it(`equals the eager kernel bit for bit and replays new inputs: ${name(c)}`, () => {
      const cpu = new CpuBackend();
      const x = inputs(cpu, c, 'float32', 21);
      const eager = fusedRun(x, c.causal).map(values);
      cpu.beginCapture();
      const captured = fusedRun(x, c.causal);
      const tape = cpu.endCapture(captured);
      expect(tape.labels.map((l) => l.split(' [')[0])).toEqual(['attention pattern', 'attention pattern backward']);
      expect(captured.map(values)).toEqual(eager);

      // New values in the (host) inputs: the replay stages them.
      const fresh = inputs(cpu, c, 'float32', 31);
      for (const key of ['q', 'k', 'dpattern'] as const) x[key].data.set(fresh[key].data);
      const expected = fusedRun(x, c.causal).map(values);
      tape.replay();
      expect(captured.map(values)).toEqual(expected);
      expect(expected).not.toEqual(eager);
    });
  }

  it('a pattern gradient made inside the capture (in wasm memory, not staged) gives the eager bits', () => {
    const cpu = new CpuBackend();
    const c = cases[2]!;
    const x = inputs(cpu, c, 'float32', 23);
    const run = () => {
      const pattern = attentionPattern(x.q, x.k, { causal: true });
      const { dq, dk } = attentionPatternBackward(x.q, x.k, pattern, pattern); // d(½ Σ pattern²)
      return [pattern, dq, dk];
    };
    const eager = run().map(values);
    cpu.beginCapture();
    const captured = run();
    cpu.endCapture(captured);
    expect(captured.map(values)).toEqual(eager);
  });

  for (const c of [
    { batch: 2000, H: 4, qPos: 3, pos: 3, d: 32, causal: true },
    { batch: 4000, H: 4, qPos: 1, pos: 3, d: 32, causal: false },
  ]) {
    it(`split across 1, 2 and 3 threads by (batch, head) entries: the eager bits, ${name(c)}`, async () => {
      // Over 1M elements (entries · qPos · pos · d): split even with the workers asleep.
      const cpu = new CpuBackend();
      const x = inputs(cpu, c, 'float32', 41);
      const eager = fusedRun(x, c.causal).map(values); // the JS loops
      await atEachThreadCount([1, 2, 3], (threads) => {
        cpu.beginCapture();
        const captured = fusedRun(x, c.causal);
        cpu.endCapture(captured);
        expect(firstDifferences(captured.map(values), eager), `${threads} threads`).toEqual([-1, -1, -1]);
      });
    });
  }

  it('keeps −∞ scores, large scores and NaN as the op-by-op path does', () => {
    const cpu = new CpuBackend();
    const c = cases[2]!;
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
      expect((gpu as Backend).attentionPattern).toBeUndefined();
      expect((gpu as Backend).attentionPatternBackward).toBeUndefined();
      for (const c of cases.slice(1, 3)) {
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
  const t = (shape: number[], dtype: DType = 'float32', backend: Backend = be) =>
    tensor(new Array(size(shape)).fill(0.5), { shape, dtype, backend });
  it('names shapes that do not fit', () => {
    expect(() => attentionPattern(t([2, 1, 32]), t([2, 3, 16]))).toThrow(/attentionPattern: q float32\[2, 1, 32\], k float32\[2, 3, 16\]: k must match q in every axis but positions/);
    expect(() => attentionPattern(t([2, 1, 8]), t([3, 3, 8]))).toThrow(/k must match q in every axis but positions/);
    expect(() => attentionPattern(t([2, 4, 8]), t([2, 3, 8]), { causal: true })).toThrow(/no more queries than keys/);
    expect(attentionPattern(t([2, 4, 8]), t([2, 3, 8])).shape).toEqual([2, 4, 3]); // without the mask it may
    expect(() => attentionPattern(t([8]), t([8]))).toThrow(/q and k need \[\.\.\., positions, d_head\]/);
    expect(() => attentionPattern(t([2, 0, 8]), t([2, 3, 8]))).toThrow(/empty tensors/);
  });
  it('names dtypes, backends and arguments that are not arrays', () => {
    expect(() => attentionPattern(t([2, 1, 8], 'int32'), t([2, 3, 8], 'int32'))).toThrow(/q and k must share one float dtype/);
    expect(() => attentionPattern(t([2, 1, 8]), t([2, 3, 8], 'float64'))).toThrow(/one float dtype/);
    expect(() => attentionPattern(t([2, 1, 8]), t([2, 3, 8], 'float32', new ReferenceBackend()))).toThrow(/q and k live on different backends/);
    expect(() => attentionPattern(t([2, 1, 8]), [1, 2] as unknown as NDArray)).toThrow(/attentionPattern: k must be an NDArray, got object/);
    // The full op still asks for its v.
    expect(() => attentionShortContext(t([2, 1, 8]), t([2, 3, 8]), undefined as unknown as NDArray)).toThrow(/v must be an NDArray/);
  });
  it('names a wrong pattern or dpattern in the backward', () => {
    const [q, k] = [t([2, 1, 8]), t([2, 3, 8])];
    const pattern = attentionPattern(q, k);
    expect(() => attentionPatternBackward(q, k, pattern, t([2, 3, 1]))).toThrow(/attentionPatternBackward: dpattern must be float32\[2, 1, 3\] on q's backend, got float32\[2, 3, 1\]/);
    expect(() => attentionPatternBackward(q, k, t([2, 1, 3], 'float64'), t([2, 1, 3]))).toThrow(/pattern must be float32\[2, 1, 3\] on q's backend, got float64\[2, 1, 3\]/);
    expect(() => attentionPatternBackward(q, k, pattern, t([2, 1, 3], 'float32', new ReferenceBackend()))).toThrow(/dpattern must be float32\[2, 1, 3\] on q's backend/);
    expect(() => attentionPatternBackward(q, t([2, 3, 4]), pattern, pattern)).toThrow(/k must match q/);
    expect(() => attentionPatternBackward(q, k, pattern, null as unknown as NDArray)).toThrow(/dpattern must be .* got object/);
  });
});
