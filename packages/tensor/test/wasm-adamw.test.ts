/**
 * The wasm AdamW update (fast/adamw-kernel.ts through wasm-adamw.ts) against the fused formula's JavaScript
 * loop (reference/fused.ts), bit for bit: odd lengths (the 4-lane body and its tail), several steps with changing scalars, extreme values (g = 0, tiny and
 * huge gradients, v = 0), a gradient already in wasm memory or not, outputs apart from the inputs; and the
 * cpu backend taking this path for the formula, and only for it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FusedKernel, fusedInPlace, setFastPath, tensor } from '@grok/tensor';
import { fusedInto } from '../src/backends/reference/fused.js';
import { adamwFloat32, isAdamWFormula, wasmAdamWStats } from '../src/backends/cpu/wasm-adamw.js';
import { emitAdamWModule } from '../src/backends/cpu/fast/adamw-kernel.js';
import { allocateInWasmMemory, releaseWasmMemory } from '../src/backends/cpu/fast/fast-matmul.js';

/** @grok/autograd's ADAMW formula, as optim/adamw.ts writes it (its own test checks that the two agree). */
const ADAMW: FusedKernel = {
  name: 'adamw',
  inputs: ['p', 'g', 'm', 'v'],
  scalars: ['decay', 'stepSize', 'bc2Sqrt', 'beta1', 'beta2', 'eps'],
  body: `const m1 = beta1 * m + (1.0 - beta1) * g;
      const v1 = beta2 * v + (1.0 - beta2) * g * g;
      const vHat = v1;
      const denom = Math.sqrt(vHat) / bc2Sqrt + eps;`,
  outputs: ['p * decay - stepSize * (m1 / denom)', 'm1', 'v1'],
};

/** The scalars of AdamW's step t (lr 1e-3 with a warm-up, betas 0.9 / 0.98, weight decay 1, eps 1e-8). */
function scalars(t: number): number[] {
  const lr = 1e-3 * Math.min(1, t / 10);
  return [1 - lr * 1, lr / (1 - 0.9 ** t), Math.sqrt(1 - 0.98 ** t), 0.9, 0.98, 1e-8];
}

function data(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const r = s % 29;
    // zeros, tiny and huge values sprinkled among the ordinary ones
    out[i] = r === 0 ? 0 : r === 1 ? -0 : r === 2 ? 1e-30 : r === 3 ? -3e30 : r === 4 ? 1e-45 : (s / 2 ** 31 - 1) * scale;
  }
  return out;
}

function expectSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  const [a, e] = [new Uint32Array(actual.buffer, actual.byteOffset, actual.length), new Uint32Array(expected.buffer, expected.byteOffset, expected.length)];
  expect(a.length, what).toBe(e.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== e[i] && !(Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) {
      expect.fail(`${what}: element ${i} of ${a.length} is ${actual[i]}, want ${expected[i]}`);
    }
  }
}

let start = 0;
beforeAll(() => {
  start = allocateInWasmMemory('int32', 1)!.byteOffset;
});
afterAll(() => releaseWasmMemory(start));

describe('the wasm AdamW kernel', () => {
  it('emits a module that validates', () => {
    expect(WebAssembly.validate(emitAdamWModule({ initial: 1, maximum: 1 }))).toBe(true);
  });

  it.each([1, 2, 3, 4, 5, 7, 17, 1000, 2047, 12_500, 16_387, 65_536, 200_003])('matches the formula bit for bit, n = %i, 6 steps', (n) => {
    {
      const [p, m, v] = [data(n, n, 0.1), new Float32Array(n), new Float32Array(n)];
      const [pj, mj, vj] = [p.slice(), m.slice(), v.slice()];
      for (let t = 1; t <= 6; t++) {
        const g = data(n, n + t, t % 2 ? 1 : 1e-6);
        expect(adamwFloat32([p, g, m, v], scalars(t), [p, m, v])).toBe(true);
        fusedInto(ADAMW, [pj, g, mj, vj], scalars(t), [pj, mj, vj]);
        expectSameBits(p, pj, `p, step ${t}`);
        expectSameBits(m, mj, `m, step ${t}`);
        expectSameBits(v, vj, `v, step ${t}`);
      }
    }
  });

  it('reads a gradient that lives in wasm memory where it lies, and writes outputs apart from the inputs', () => {
    const n = 70_001;
    const g = allocateInWasmMemory('float32', n) as Float32Array;
    g.set(data(n, 5));
    const [p, m, v] = [data(n, 6), data(n, 7, 0.01), data(n, 8, 0.001).map(Math.abs)];
    const outs = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
    const want = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
    expect(adamwFloat32([p, g, m, v], scalars(3), outs)).toBe(true);
    fusedInto(ADAMW, [p, g, m, v], scalars(3), want);
    outs.forEach((o, k) => expectSameBits(o, want[k]!, `output ${k}`));
    expectSameBits(p, data(n, 6), 'p, an input only, untouched');
  });

  it('recognizes the formula, whitespace aside, and nothing else', () => {
    expect(isAdamWFormula(ADAMW)).toBe(true);
    expect(isAdamWFormula({ ...ADAMW, body: ADAMW.body!.replace(/\s+/g, '  ') })).toBe(true);
    expect(isAdamWFormula({ ...ADAMW, body: ADAMW.body!.replace('Math.sqrt(vHat) / bc2Sqrt + eps', 'Math.sqrt(vHat + eps) / bc2Sqrt') })).toBe(false);
    expect(isAdamWFormula({ ...ADAMW, outputs: ['p * decay - stepSize * m1 / denom', 'm1', 'v1'] })).toBe(false);
    expect(isAdamWFormula({ ...ADAMW, name: 'adamwAmsgrad' })).toBe(false);
  });

  it('is what the cpu backend runs for the formula, with the fast path on: the same bits as with it off', () => {
    const n = 40_003;
    const run = (fast: boolean) => {
      setFastPath(fast);
      try {
        const [p, m, v] = [tensor(data(n, 11)), tensor(new Float32Array(n)), tensor(new Float32Array(n))];
        for (let t = 1; t <= 4; t++) fusedInPlace(ADAMW, [p, m, v], [p, tensor(data(n, 12 + t)), m, v], scalars(t));
        return [p, m, v].map((x) => x.data as Float32Array);
      } finally {
        setFastPath(true);
      }
    };
    const before = wasmAdamWStats.calls;
    const fast = run(true);
    expect(wasmAdamWStats.calls - before).toBe(4); // the wasm kernel ran, once per step
    const plain = run(false);
    expect(wasmAdamWStats.calls - before).toBe(4); // and not with the fast path off
    fast.forEach((x, k) => expectSameBits(x, plain[k]!, `state ${k}`));
  });
});
