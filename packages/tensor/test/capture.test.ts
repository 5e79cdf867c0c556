/**
 * Kernel capture on the cpu backend (backends/cpu/capture.ts): a captured kernel computes what the eager one
 * computes, bit for bit (the wasm SIMD kernels that captured buffers get included), a replay reads its inputs'
 * current values, the memory plan packs buffers by lifetime without changing a result, and a host read of an
 * intermediate marks the tape as unreplayable.
 */
import { describe, expect, it } from 'vitest';
import {
  type CpuBackend, type NDArray, add, concat, crossEntropyRows, embeddingBag, embeddingBagTableGrad, embeddingBagWeightGrad, getBackend, indexAdd, indexSelect, matmul, fused, mul, relu,
  type FusedKernel, scatterAdd, softmax, sub, sum, tensor,
} from '@grok/tensor';
import { randomValues, size } from './helpers.js';

const cpu = getBackend() as CpuBackend;
const f32 = (shape: number[], seed: number) => tensor(randomValues(size(shape), seed), { shape });
const i32 = (values: number[]) => tensor(values, { dtype: 'int32' });
const f64 = (shape: number[], seed: number) => tensor(randomValues(size(shape), seed), { shape, dtype: 'float64' });
const scaled = (t: NDArray, by: number) => mul(t, by);

/** Overwrites a host tensor's values in place (a parameter updated between steps). */
function refill(t: NDArray, seed: number): void {
  const fresh = randomValues(t.size, seed);
  t.data.set(t.dtype === 'int32' ? fresh.map((x) => Math.floor((x + 1) * 2)) : fresh);
}

/** The formula of autograd's ReLU backward (which the captured path runs as a wasm kernel), and another. */
const RELU_BACKWARD: FusedKernel = { name: 'reluBackward', inputs: ['x', 'g'], outputs: ['x <= 0.0 ? 0.0 : g'] };
const AXPY: FusedKernel = { name: 'axpy', inputs: ['x', 'y'], scalars: ['a'], outputs: ['a * x + y'] };

const bagIndex = () => i32([0, 4, 4, 1, 1, 1, 3, 0, 2, 2, 4, 0, 1, 2, 3, 4, 4, 4, 0, 0, 3]).reshape([7, 3]);

interface Case {
  name: string;
  inputs: () => NDArray[];
  op: (...xs: NDArray[]) => NDArray;
}

const cases: Case[] = [
  { name: 'relu (wasm)', inputs: () => [f32([37, 19], 1)], op: (x) => relu(x) },
  { name: 'exp (JS loop)', inputs: () => [f32([5, 7], 2)], op: (x) => x.backend.unary('exp', x) },
  { name: 'add, same shape (wasm)', inputs: () => [f32([9, 13], 3), f32([9, 13], 4)], op: (a, b) => add(a, b) },
  { name: 'add, a bias row (wasm)', inputs: () => [f32([31, 17], 5), f32([17], 6)], op: (a, b) => add(a, b) },
  { name: 'mul by a constant (wasm)', inputs: () => [f32([23], 7)], op: (a) => mul(a, 0.37) },
  { name: 'sub, broadcast (JS loop)', inputs: () => [f32([4, 3, 5], 8), f32([4, 1, 5], 9)], op: (a, b) => sub(a, b) },
  { name: 'relu backward (wasm)', inputs: () => [f32([3, 29], 10), f32([3, 29], 11)], op: (x, g) => fused(RELU_BACKWARD, [x, g])[0]! },
  { name: 'a fused formula (JS loop)', inputs: () => [f32([3, 29], 12), f32([3, 29], 13)], op: (x, g) => fused(AXPY, [x, g], [0.5])[0]! },
  { name: 'matmul (wasm gemm)', inputs: () => [f32([33, 20], 12), f32([20, 18], 13)], op: (a, b) => matmul(a, b) },
  { name: 'matmul Aᵀ', inputs: () => [f32([40, 9], 14), f32([40, 11], 15)], op: (a, b) => matmul(a, b, { transA: true }) },
  { name: 'small matmul (wasm)', inputs: () => [f32([50, 4, 1, 3], 16), f32([50, 4, 3, 32], 17)], op: (a, b) => matmul(a, b) },
  { name: 'small matmul Bᵀ (wasm)', inputs: () => [f32([50, 4, 1, 32], 18), f32([50, 4, 3, 32], 19)], op: (a, b) => matmul(a, b, { transB: true }) },
  { name: 'small matmul Aᵀ (wasm)', inputs: () => [f32([50, 4, 1, 3], 20), f32([50, 4, 1, 32], 21)], op: (a, b) => matmul(a, b, { transA: true }) },
  { name: 'indexSelect rows (wasm)', inputs: () => [f32([6, 5], 22), i32([5, 0, 0, 3, 5, 2, 1])], op: (t, i) => indexSelect(t, 0, i) },
  { name: 'indexAdd rows, repeats (wasm)', inputs: () => [f32([7, 5], 23), i32([5, 0, 0, 3, 5, 2, 1])], op: (s, i) => indexAdd([6, 5], 0, i, s) },
  { name: 'scatterAdd', inputs: () => [f32([4, 1], 24), i32([2, 0, 2, 1])], op: (s, i) => scatterAdd([4, 3], 1, i.reshape([4, 1]), s) },
  { name: 'softmax rows', inputs: () => [f32([6, 9], 25)], op: (x) => softmax(x) },
  { name: 'sum over rows, 7 columns (wasm: 4 at a time, then 3)', inputs: () => [f32([11, 7], 26)], op: (x) => sum(x, 0) },
  { name: 'sum over rows, 512 columns (wasm)', inputs: () => [f32([300, 512], 28)], op: (x) => sum(x, 0, true) },
  { name: 'sum over a middle axis (JS loop)', inputs: () => [f32([3, 5, 4], 29)], op: (x) => sum(x, 1) },
  // index [7, 3] into a 5-row table, with repeats within and across bags
  { name: 'embeddingBag, 32 columns (wasm)', inputs: () => [f32([5, 32], 30), bagIndex(), f32([7, 3], 31)], op: (t, i, w) => embeddingBag(t, i, w) },
  { name: 'embeddingBag, 20 columns (wasm, with a tail of 4)', inputs: () => [f32([5, 20], 32), bagIndex(), f32([7, 3], 33)], op: (t, i, w) => embeddingBag(t, i, w) },
  { name: 'embeddingBag weight gradient (wasm)', inputs: () => [f32([5, 48], 34), bagIndex(), f32([7, 48], 35)], op: (t, i, g) => embeddingBagWeightGrad(t, i, g) },
  { name: 'embeddingBag table gradient, repeats (wasm)', inputs: () => [bagIndex(), f32([7, 3], 36), f32([7, 16], 37)], op: (i, w, g) => embeddingBagTableGrad(5, i, w, g) },
  {
    name: 'crossEntropyRows with its derivative (wasm)',
    inputs: () => [f32([8, 5], 27), i32([0, 4, 2, 2, 1, 3, 0, 4])],
    op: (x, t) => {
      const { losses, dloss } = crossEntropyRows(x, t, { withDerivative: true });
      return add(dloss!, losses.reshape([8, 1]).backend.cast(losses.reshape([8, 1]), 'float32'));
    },
  },
  {
    name: 'crossEntropyRows, 113 classes, large logits, its losses and derivative side by side (wasm)',
    inputs: () => [scaled(f32([700, 113], 33), 40), i32(Array.from({ length: 700 }, (_, r) => (r * 37) % 113))],
    op: (x, t) => {
      const { losses, dloss } = crossEntropyRows(x, t, { withDerivative: true });
      return concat([dloss!, losses.backend.cast(losses.reshape([700, 1]), 'float32')], 1);
    },
  },
  {
    name: 'crossEntropyRows of float64 logits, without the derivative (wasm)',
    inputs: () => [f64([9, 7], 34), i32([6, 0, 1, 2, 3, 4, 5, 6, 0])],
    op: (x, t) => crossEntropyRows(x, t).losses,
  },
  {
    name: 'crossEntropyRows of float64 logits with the derivative (wasm)',
    inputs: () => [f64([9, 7], 35), i32([6, 0, 1, 2, 3, 4, 5, 6, 0])],
    op: (x, t) => crossEntropyRows(x, t, { withDerivative: true }).dloss!,
  },
];

describe('a captured kernel', () => {
  for (const c of cases) {
    it(`${c.name}: equals the eager kernel bit for bit, and a replay sees new input values`, () => {
      const inputs = c.inputs();
      const eager = Array.from(c.op(...inputs).data);
      cpu.beginCapture();
      const captured = c.op(...inputs);
      const tape = cpu.endCapture([captured]);
      expect(Array.from(captured.data)).toEqual(eager);
      expect(tape.kernels.length).toBeGreaterThan(0);

      inputs.forEach((x, k) => (x.dtype === 'int32' ? undefined : refill(x, 100 + k)));
      const expected = Array.from(c.op(...inputs).data);
      tape.replay();
      expect(Array.from(captured.data)).toEqual(expected);
      expect(expected).not.toEqual(eager);
    });
  }
});

describe('the memory plan', () => {
  /** A chain whose temporaries die young: only x (a host input) and the result live throughout. */
  const chain = (x: NDArray) => {
    const a = relu(x);
    const b = add(a, a);
    const c = mul(b, 3);
    const d = sub(c, a); // a is still alive here
    return add(d, x);
  };

  it('shares memory between buffers that are never alive together, and changes no result', () => {
    const x = f32([64, 64], 30);
    const eager = Array.from(chain(x).data);
    cpu.beginCapture();
    const first = chain(x);
    const tape1 = cpu.endCapture([first]);
    const unplanned = tape1.bytes;
    const plan = tape1.plan();
    tape1.release();

    cpu.beginCapture(plan);
    const result = chain(x);
    const tape = cpu.endCapture([result]);
    expect(tape.hostDependent).toBeNull();
    expect(Array.from(result.data)).toEqual(eager);
    // Seven [64, 64] buffers of 16 KiB: five results, and the two copies of the host input x that the wasm
    // kernels of relu and the last add stage; each copy and b (dead once c is made) leave memory to reuse.
    expect(unplanned).toBe(7 * 64 * 64 * 4);
    expect(plan.bytes).toBeLessThan(unplanned);

    refill(x, 31);
    const expected = Array.from(chain(x).data);
    tape.replay();
    expect(Array.from(result.data)).toEqual(expected);
  });

  it('a tape whose intermediate is read on the host says it cannot be replayed', () => {
    const x = f32([8, 8], 32);
    cpu.beginCapture();
    const a = relu(x);
    void a.data[0]; // host code looking at an intermediate
    const tape = cpu.endCapture([add(a, a)]);
    expect(tape.hostDependent).toMatch(/host read a \[8, 8\] result/);
  });

  it('one capture at a time', () => {
    cpu.beginCapture();
    try {
      expect(() => cpu.beginCapture()).toThrow(/already open/);
    } finally {
      cpu.endCapture();
    }
    expect(() => cpu.endCapture()).toThrow(/no capture is open/);
  });
});

describe('crossEntropyRows', () => {
  it('matches the float64 log-softmax composition (fused kernel vs ops)', () => {
    const x = f32([13, 7], 40);
    const t = i32([0, 6, 3, 3, 1, 2, 5, 4, 0, 6, 2, 1, 1]);
    const { losses, dloss } = crossEntropyRows(x, t, { withDerivative: true });
    const x64 = x.backend.cast(x, 'float64');
    const logp = x64.backend.logSoftmax(x64).data;
    for (let r = 0; r < 13; r++) {
      expect(losses.data[r]).toBeCloseTo(-logp[r * 7 + t.data[r]!]!, 14);
      for (let j = 0; j < 7; j++) {
        const want = Math.exp(logp[r * 7 + j]!) - (j === t.data[r] ? 1 : 0);
        expect(dloss!.data[r * 7 + j]).toBeCloseTo(want, 6); // float32
      }
    }
    expect(losses.dtype).toBe('float64');
    expect(dloss!.dtype).toBe('float32');
  });

  it('names bad targets and shapes', () => {
    expect(() => crossEntropyRows(f32([2, 3], 1), i32([0, 3]))).toThrow(/index 3 is out of range for classes of size 3/);
    expect(() => crossEntropyRows(f32([2, 3], 1), i32([0]))).toThrow(/targets \[1\] must be \[2\]/);
    expect(() => crossEntropyRows(f32([6], 1), i32([0]))).toThrow(/logits must be \[rows, classes\]/);
  });
});

it('capture keeps working after the wasm memory grows (views of the old buffer stay valid)', () => {
  const x = f32([512, 512], 50); // 1 MiB per buffer: enough captures to grow the memory
  const tapes = [];
  for (let i = 0; i < 6; i++) {
    cpu.beginCapture();
    const y = relu(x);
    tapes.push({ y, tape: cpu.endCapture([y]) });
  }
  refill(x, 51);
  const expected = Array.from(relu(x).data);
  for (const { y, tape } of tapes) {
    tape.replay();
    expect(Array.from(y.data)).toEqual(expected);
  }
});
