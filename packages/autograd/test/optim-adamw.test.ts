/**
 * AdamW against PyTorch's own outputs (torch_vectors.json), against its documented formula computed by
 * hand here, in float64 and float32, plus the PyTorch details: null grads skipped, per-parameter step
 * counts, the scheduled lr in the decay, hyper-parameter checks.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AdamW, Parameter, Tensor, type NDArray, raw, schedules, tensor } from '@grok/autograd';
import { expectClose } from './helpers.js';
import { ADAMW, ADAMW_AMSGRAD } from '../src/optim/adamw.js';
import { isAdamWFormula } from '../../tensor/src/backends/cpu/wasm-adamw.js';

type Nested = number[][];
interface TorchAdamWCase {
  lr: number;
  betas: [number, number];
  eps: number;
  weight_decay: number;
  amsgrad: boolean;
  schedule: string;
  param0: Nested;
  grads: Nested[];
  params_after_each_step: Nested[];
}
const vectors = JSON.parse(readFileSync(new URL('./fixtures/torch_vectors.json', import.meta.url), 'utf8')) as {
  adamw: TorchAdamWCase[];
};

const f64 = (values: number[] | Nested, shape?: number[]) => tensor(values, { dtype: 'float64', ...(shape ? { shape } : {}) });
const setGrad = (p: Tensor, g: NDArray) => {
  p.grad = new Tensor(g);
};

describe('AdamW matches torch.optim.AdamW (torch_vectors.json)', () => {
  let maxRel = 0;
  for (const c of vectors.adamw) {
    it(`${c.amsgrad ? 'amsgrad' : 'plain'}, schedule: ${c.schedule}`, () => {
      // The fixture's warm-up is lr·min(step/N, 1) with step 0 for the first update: our linearWarmup.
      const warm = /min\(step\/(\d+), 1\)/.exec(c.schedule);
      expect(warm !== null || c.schedule === 'constant').toBe(true);
      const lr = warm ? schedules.linearWarmup(c.lr, Number(warm[1])) : c.lr;
      const p = new Parameter(f64(c.param0));
      const opt = new AdamW([p], { lr, betas: c.betas, eps: c.eps, weightDecay: c.weight_decay, amsgrad: c.amsgrad });
      c.grads.forEach((g, k) => {
        setGrad(p, f64(g).value);
        opt.step();
        const want = c.params_after_each_step[k]!.flat();
        const got = Array.from(p.data);
        want.forEach((w, i) => {
          maxRel = Math.max(maxRel, Math.abs(got[i]! - w) / Math.max(Math.abs(w), 1e-300));
        });
        expectClose(got, want, 1e-12, 0);
      });
      expect(opt.stepCount).toBe(c.grads.length);
    });
  }
  it('reports the largest deviation', () => {
    console.log(`AdamW vs PyTorch: max relative deviation ${maxRel.toExponential(2)}`);
    expect(maxRel).toBeLessThan(1e-12);
  });
});

/** PyTorch's documented AdamW algorithm, elementwise in float64, for `steps` gradients. */
function adamwByHand(
  p0: number[],
  grads: number[][],
  o: { lrs: number[]; beta1: number; beta2: number; eps: number; wd: number; amsgrad: boolean },
): number[][] {
  const p = [...p0];
  const m = p0.map(() => 0);
  const v = p0.map(() => 0);
  const vMax = p0.map(() => 0);
  const out: number[][] = [];
  grads.forEach((g, k) => {
    const t = k + 1;
    const lr = o.lrs[k]!;
    for (let i = 0; i < p.length; i++) {
      p[i] = p[i]! - lr * o.wd * p[i]!; // θ ← θ − γλθ
      m[i] = o.beta1 * m[i]! + (1 - o.beta1) * g[i]!;
      v[i] = o.beta2 * v[i]! + (1 - o.beta2) * g[i]! * g[i]!;
      const mHat = m[i]! / (1 - o.beta1 ** t);
      vMax[i] = Math.max(vMax[i]!, v[i]!);
      const vHat = (o.amsgrad ? vMax[i]! : v[i]!) / (1 - o.beta2 ** t);
      p[i] = p[i]! - (lr * mHat) / (Math.sqrt(vHat) + o.eps); // θ ← θ − γ m̂ / (√v̂ + ε)
    }
    out.push([...p]);
  });
  return out;
}

/** Seeded gradients: smooth but sign-changing, with one tiny entry so eps matters. */
function someGrads(n: number, steps: number, seed: number): number[][] {
  const r = raw.randn([steps, n], { dtype: 'float64', seed }).data;
  return Array.from({ length: steps }, (_, k) => Array.from({ length: n }, (_, i) => (i === 0 ? 1e-9 : r[k * n + i]!)));
}

describe('AdamW against the formula by hand', () => {
  const p0 = [0.5, -1.25, 2, 0.125, -3, 0.75];
  const grads = someGrads(p0.length, 8, 11);
  const cases = [
    { name: 'defaults', opts: {}, hand: { beta1: 0.9, beta2: 0.999, eps: 1e-8, wd: 1e-2, amsgrad: false }, lr: 1e-3 },
    {
      name: 'paper hyper-parameters (betas 0.9/0.98, decay 1)',
      opts: { lr: 0.01, betas: [0.9, 0.98] as const, weightDecay: 1 },
      hand: { beta1: 0.9, beta2: 0.98, eps: 1e-8, wd: 1, amsgrad: false },
      lr: 0.01,
    },
    {
      name: 'amsgrad, large eps',
      opts: { lr: 0.05, eps: 1e-3, amsgrad: true, weightDecay: 0.1 },
      hand: { beta1: 0.9, beta2: 0.999, eps: 1e-3, wd: 0.1, amsgrad: true },
      lr: 0.05,
    },
  ];
  for (const c of cases) {
    it(`float64, ${c.name}`, () => {
      const p = new Parameter(f64(p0));
      const opt = new AdamW([p], c.opts);
      const want = adamwByHand(p0, grads, { ...c.hand, lrs: grads.map(() => c.lr) });
      grads.forEach((g, k) => {
        setGrad(p, f64(g).value);
        opt.step();
        expectClose(p.data, want[k]!, 1e-13, 1e-15);
      });
    });
  }

  it('float32, within float32 rounding of the float64 formula', () => {
    const p = new Parameter(tensor(p0, { dtype: 'float32' }));
    const opt = new AdamW([p], { lr: 0.01, betas: [0.9, 0.98], weightDecay: 1 });
    // The formula on the float32-rounded inputs, in float64.
    const r32 = (xs: number[]) => Array.from(Float32Array.from(xs));
    const want = adamwByHand(r32(p0), grads.map(r32), { beta1: 0.9, beta2: 0.98, eps: 1e-8, wd: 1, amsgrad: false, lrs: grads.map(() => 0.01) });
    grads.forEach((g, k) => {
      setGrad(p, tensor(g, { dtype: 'float32' }).value);
      opt.step();
      expect(p.dtype).toBe('float32');
      expectClose(p.data, want[k]!, 1e-6, 1e-7);
    });
  });

  it('uses the scheduled lr in the decay; a warm-up gives the first update lr 0', () => {
    const lrAt = (t: number) => 0.02 * Math.min(t / 4, 1);
    const p = new Parameter(f64(p0));
    const opt = new AdamW([p], { lr: schedules.linearWarmup(0.02, 4), weightDecay: 0.5 });
    const want = adamwByHand(p0, grads, { beta1: 0.9, beta2: 0.999, eps: 1e-8, wd: 0.5, amsgrad: false, lrs: grads.map((_, t) => lrAt(t)) });
    grads.forEach((g, k) => {
      expect(opt.lr).toBe(lrAt(k));
      setGrad(p, f64(g).value);
      opt.step();
      if (k === 0) expect(Array.from(p.data)).toEqual(p0); // lr 0: neither decay nor step
      expectClose(p.data, want[k]!, 1e-13, 1e-15);
    });
  });
});

describe('AdamW bookkeeping', () => {
  it('skips parameters whose grad is null; each parameter counts its own steps for bias correction', () => {
    const a = new Parameter(f64([1, 2]));
    const b = new Parameter(f64([3, -4]));
    const opt = new AdamW([a, b], { lr: 0.1 });
    const gs = someGrads(2, 3, 5);
    setGrad(a, f64(gs[0]!).value); // b has no grad at the first step
    opt.step();
    expect(Array.from(b.data)).toEqual([3, -4]);
    for (const g of gs.slice(1)) {
      setGrad(a, f64(g).value);
      setGrad(b, f64(g).value);
      opt.step();
    }
    // b saw two updates, with t = 1, 2 (as in PyTorch), while the optimizer made three.
    const hand = { beta1: 0.9, beta2: 0.999, eps: 1e-8, wd: 1e-2, amsgrad: false, lrs: [0.1, 0.1] };
    expectClose(b.data, adamwByHand([3, -4], gs.slice(1), hand).at(-1)!, 1e-13, 1e-15);
    expect(opt.stateDict()['state.1.step']).toBe(2);
    expect(opt.stateDict()['state.0.step']).toBe(3);
  });

  it('zeroGrad sets every grad to null', () => {
    const p = new Parameter(f64([1, 2]));
    const opt = new AdamW([p]);
    p.grad = new Tensor(f64([1, 1]).value);
    opt.zeroGrad();
    expect(p.grad).toBeNull();
  });

  it('steps a parameter trained through backward()', () => {
    const p = new Parameter(f64([1, -2, 3]));
    const opt = new AdamW([p], { lr: 0.1, weightDecay: 0 });
    p.square().sum().backward(); // grad 2p
    opt.step();
    // First Adam step moves each entry by lr·sign(g) (up to eps).
    expectClose(p.data, [0.9, -1.9, 2.9], 1e-7, 0);
  });
});

describe('AdamW hyper-parameter checks', () => {
  const p = () => new Parameter(f64([1]));
  const bad: [string, ConstructorParameters<typeof AdamW>[1], RegExp][] = [
    ['negative lr', { lr: -1e-3 }, /-0\.001/],
    ['NaN lr', { lr: NaN }, /NaN/],
    ['beta1 = 1', { betas: [1, 0.999] }, /beta1 must be in \[0, 1\), got 1/],
    ['negative beta2', { betas: [0.9, -0.1] }, /beta2 must be in \[0, 1\), got -0\.1/],
    ['negative eps', { eps: -1e-8 }, /eps must be .* got -1e-8/],
    ['negative weight decay', { weightDecay: -0.5 }, /weightDecay must be .* got -0\.5/],
  ];
  for (const [name, opts, msg] of bad) it(name, () => expect(() => new AdamW([p()], opts)).toThrow(msg));

  it('a schedule that goes negative fails at that step, naming it', () => {
    const q = p();
    const opt = new AdamW([q], { lr: (t) => 0.1 - 0.1 * t });
    q.grad = new Tensor(f64([1]).value);
    opt.step();
    opt.step();
    expect(() => opt.step()).toThrow(/got -0\.1 at step 2/);
  });

  it('rejects empty, duplicate, non-leaf and no-grad parameters', () => {
    const q = p();
    expect(() => new AdamW([])).toThrow(/empty parameter list/);
    expect(() => new AdamW([q, q])).toThrow(/more than once/);
    expect(() => new AdamW([q.mul(2)])).toThrow(/not a leaf/);
    expect(() => new AdamW([f64([1])])).toThrow(/parameter 0 does not require grad/);
  });

  it('a gradient of the wrong shape is an error naming both shapes', () => {
    const q = new Parameter(f64([1, 2]));
    const opt = new AdamW([q]);
    q.grad = new Tensor(f64([1, 2, 3]).value);
    expect(() => opt.step()).toThrow(/\[2\].*\[3\]/);
  });
});

describe('AdamW on the cpu fast path (a wasm kernel of the same formula)', () => {
  it('the cpu backend recognizes the formula (plain AdamW; not amsgrad, which it leaves to the JS loop)', () => {
    expect(isAdamWFormula(ADAMW)).toBe(true);
    expect(isAdamWFormula(ADAMW_AMSGRAD)).toBe(false);
  });

  it('float32 training steps give the same bits with the fast path on and off', () => {
    const run = (fast: boolean) => {
      raw.setFastPath(fast);
      try {
        const shapes = [[128, 512], [3, 5], [70_001]];
        const params = shapes.map((shape, k) => new Parameter(raw.randn(shape, { seed: k })));
        const opt = new AdamW(params, { lr: schedules.linearWarmup(1e-3, 3), betas: [0.9, 0.98], weightDecay: 1 });
        for (let t = 0; t < 5; t++) {
          params.forEach((p, k) => setGrad(p, raw.randn(p.shape, { seed: 100 * t + k })));
          opt.step();
        }
        return params.map((p) => Array.from(p.data));
      } finally {
        raw.setFastPath(true);
      }
    };
    const [fast, plain] = [run(true), run(false)];
    fast.forEach((x, k) => expect(x).toEqual(plain[k]));
  });
});
