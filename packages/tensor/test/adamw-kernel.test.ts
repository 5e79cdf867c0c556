import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type AdamWStep, type DType, adamwUpdate, getBackend, tensor, zeros } from '@grok/tensor';
import { expectClose } from './helpers.js';

/** torch.optim.AdamW (single tensor), written out from the formula, one step at a time, in float64. */
function reference(p0: number[], grads: number[][], h: Omit<AdamWStep, 'step'>) {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const vMax = p.map(() => 0);
  const history: number[][] = [];
  grads.forEach((g, s) => {
    const t = s + 1;
    for (let i = 0; i < p.length; i++) {
      p[i] = p[i]! * (1 - h.lr * h.weightDecay);
      m[i] = h.beta1 * m[i]! + (1 - h.beta1) * g[i]!;
      v[i] = h.beta2 * v[i]! + (1 - h.beta2) * g[i]! * g[i]!;
      vMax[i] = Math.max(vMax[i]!, v[i]!);
      const vv = h.amsgrad ? vMax[i]! : v[i]!;
      const denom = Math.sqrt(vv) / Math.sqrt(1 - h.beta2 ** t) + h.eps;
      p[i] = p[i]! - (h.lr / (1 - h.beta1 ** t)) * (m[i]! / denom);
    }
    history.push([...p]);
  });
  return { p: history, m, v, vMax };
}

// Gradients that shrink on step 2 so amsgrad's max(vMax, v) differs from v on step 3.
const p0 = [0.5, -1.25, 2, 0, 3];
const grads = [
  [1, -2, 0.5, 3, -0.1],
  [0.01, -0.02, 0.05, 0.1, 0.3],
  [-0.5, 0.1, 0.02, -0.01, 0.2],
];

function run(h: Omit<AdamWStep, 'step'>, dtype: DType) {
  const p = tensor(p0, { dtype });
  const m = zeros([5], { dtype });
  const v = zeros([5], { dtype });
  const vMax = h.amsgrad ? zeros([5], { dtype }) : null;
  const history: number[][] = [];
  grads.forEach((g, s) => {
    adamwUpdate(p, tensor(g, { dtype }), m, v, vMax, { ...h, step: s + 1 });
    history.push(Array.from(p.data));
  });
  return { p: history, m: Array.from(m.data), v: Array.from(v.data), vMax: vMax && Array.from(vMax.data) };
}

describe('adamwUpdate kernel', () => {
  for (const amsgrad of [false, true]) {
    for (const dtype of ['float64', 'float32'] as const) {
      it(`3 steps match the PyTorch formula (amsgrad=${amsgrad}, ${dtype})`, () => {
        const h = { lr: 0.01, beta1: 0.9, beta2: 0.98, eps: 1e-8, weightDecay: 1, amsgrad };
        const want = reference(p0, grads, h);
        const got = run(h, dtype);
        const tol = dtype === 'float64' ? 1e-14 : 1e-6;
        for (let s = 0; s < 3; s++) expectClose(got.p[s]!, want.p[s]!, tol);
        expectClose(got.m, want.m, tol);
        expectClose(got.v, want.v, tol);
        if (amsgrad) expectClose(got.vMax!, want.vMax, tol);
      });
    }
  }

  it('amsgrad changes the result when v shrinks (the test above can tell them apart)', () => {
    const h = { lr: 0.01, beta1: 0.9, beta2: 0.98, eps: 1e-8, weightDecay: 1 };
    const plain = reference(p0, grads, { ...h, amsgrad: false }).p[2]!;
    const ams = reference(p0, grads, { ...h, amsgrad: true }).p[2]!;
    expect(plain.some((x, i) => Math.abs(x - ams[i]!) > 1e-6)).toBe(true);
  });

  it('first step with zero decay moves each weight by ≈ lr · sign(g)', () => {
    const p = tensor([1, 1, 1], { dtype: 'float64' });
    const m = zeros([3], { dtype: 'float64' });
    const v = zeros([3], { dtype: 'float64' });
    getBackend().adamwUpdate(p, tensor([5, -0.001, 0], { dtype: 'float64' }), m, v, null, {
      lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1, amsgrad: false,
    });
    expectClose(p.data, [0.9, 1.1, 1], 1e-5);
  });

  it('matches PyTorch outputs in torch_vectors.json (plain, warm-up schedule, amsgrad), 6 steps', () => {
    const fx = JSON.parse(readFileSync(new URL('./fixtures/torch_vectors.json', import.meta.url), 'utf8')) as {
      adamw: {
        lr: number; betas: [number, number]; eps: number; weight_decay: number; amsgrad: boolean; schedule: string;
        param0: number[][]; grads: number[][][]; params_after_each_step: number[][][];
      }[];
    };
    expect(fx.adamw.length).toBe(3);
    for (const c of fx.adamw) {
      const warmup = c.schedule !== 'constant'; // LambdaLR: lr · min(step/3, 1), step = 0 at the first update
      const p = tensor(c.param0, { dtype: 'float64' });
      const m = zeros(p.shape, { dtype: 'float64' });
      const v = zeros(p.shape, { dtype: 'float64' });
      const vMax = c.amsgrad ? zeros(p.shape, { dtype: 'float64' }) : null;
      c.grads.forEach((g, s) => {
        const lr = warmup ? c.lr * Math.min(s / 3, 1) : c.lr;
        adamwUpdate(p, tensor(g, { dtype: 'float64' }), m, v, vMax, {
          lr, beta1: c.betas[0], beta2: c.betas[1], eps: c.eps, weightDecay: c.weight_decay, step: s + 1, amsgrad: c.amsgrad,
        });
        expectClose(p.data, c.params_after_each_step[s]!.flat(), 1e-12);
      });
    }
  });

  it('checks its arguments', () => {
    const p = zeros([2]);
    const h: AdamWStep = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1, amsgrad: false };
    expect(() => adamwUpdate(p, zeros([3]), zeros([2]), zeros([2]), null, h)).toThrow(/adamwUpdate: shapes differ, param \[2\] and \[3\]/);
    expect(() => adamwUpdate(p, zeros([2], { dtype: 'float64' }), zeros([2]), zeros([2]), null, h)).toThrow(/adamwUpdate: dtype mismatch/);
    expect(() => adamwUpdate(p, zeros([2]), zeros([2]), zeros([2]), null, { ...h, amsgrad: true })).toThrow(/amsgrad needs a vMax/);
    expect(() => adamwUpdate(p, zeros([2]), zeros([2]), zeros([2]), null, { ...h, step: 0 })).toThrow(/step must be an integer/);
    expect(() => adamwUpdate(zeros([2], { dtype: 'int32' }), zeros([2]), zeros([2]), zeros([2]), null, h)).toThrow(/needs a float32 or float64/);
  });
});
