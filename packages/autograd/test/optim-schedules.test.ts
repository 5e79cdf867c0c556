/** Learning-rate schedules, gradient clipping and the Grokfast filters, against values computed by hand. */
import { describe, expect, it } from 'vitest';
import { GrokfastEMA, GrokfastMA, Parameter, Tensor, clipGradNorm, schedules, tensor } from '@grok/autograd';
import { expectClose } from './helpers.js';

const f64 = (values: number[]) => tensor(values, { dtype: 'float64' });

describe('schedules', () => {
  it('constant', () => {
    const s = schedules.constant(3e-4);
    expect([0, 1, 1000].map(s)).toEqual([3e-4, 3e-4, 3e-4]);
  });

  it("linear warm-up, the paper's lr·min(t/10, 1): the first update (t = 0) has lr 0", () => {
    const s = schedules.linearWarmup(1e-3, 10);
    expect(s(0)).toBe(0);
    expect(s(1)).toBe(1e-3 * 0.1);
    expect(s(5)).toBe(1e-3 * 0.5);
    expect(s(10)).toBe(1e-3);
    expect(s(25_000)).toBe(1e-3);
    expect(schedules.linearWarmup(1e-3, 0)(0)).toBe(1e-3);
  });

  it('cosine, with and without warm-up', () => {
    const s = schedules.cosine(1, 100);
    expect(s(0)).toBe(1);
    expect(s(50)).toBeCloseTo(0.5, 15);
    expect(s(100)).toBeCloseTo(0, 15);
    expect(s(200)).toBeCloseTo(0, 15);
    const w = schedules.cosine(2, 110, { warmupSteps: 10, minLr: 0.5 });
    expect(w(0)).toBe(0);
    expect(w(5)).toBe(1);
    expect(w(10)).toBe(2);
    expect(w(60)).toBeCloseTo(0.5 + 1.5 * 0.5, 14); // halfway: (lr + minLr) / 2
    expect(w(35)).toBeCloseTo(0.5 + 1.5 * 0.5 * (1 + Math.cos(Math.PI / 4)), 14);
    expect(w(1000)).toBe(0.5);
  });

  it('composition: sequential (each part on its own clock) and scaled', () => {
    const s = schedules.sequential([schedules.linearWarmup(1, 4), schedules.cosine(1, 10), schedules.constant(0.01)], [4, 14]);
    expect([0, 2, 4, 9, 14, 99].map(s)).toEqual([0, 0.5, 1, schedules.cosine(1, 10)(5), 0.01, 0.01]);
    const d = schedules.scaled(schedules.constant(0.1), (t) => 0.5 ** t);
    expect([0, 1, 2].map(d)).toEqual([0.1, 0.05, 0.025]);
  });

  it('checks its arguments', () => {
    expect(() => schedules.constant(-1)).toThrow(/lr must be .* got -1/);
    expect(() => schedules.linearWarmup(1, 2.5)).toThrow(/warmupSteps must be an integer ≥ 0, got 2\.5/);
    expect(() => schedules.cosine(1, 10, { warmupSteps: 10 })).toThrow(/totalSteps \(10\) must exceed warmupSteps \(10\)/);
    expect(() => schedules.sequential([schedules.constant(1)], [3])).toThrow(/1 schedules need 0 milestones, got 1/);
  });
});

describe('clipGradNorm', () => {
  const setup = () => {
    const a = new Parameter(f64([3, 4])); // grad norm 5
    const b = new Parameter(f64([0, 0, 12])); // grad norm 12: total 13
    const c = new Parameter(f64([1])); // no grad: ignored
    a.grad = new Tensor(f64([3, 4]).value);
    b.grad = new Tensor(f64([0, 0, 12]).value);
    return [a, b, c] as const;
  };

  it('scales by maxNorm / (total + 1e-6) when the total is larger, and returns the total', () => {
    const [a, b, c] = setup();
    const total = clipGradNorm([a, b, c], 6.5);
    expect(total).toBe(13);
    const coef = 6.5 / (13 + 1e-6);
    expectClose(a.grad!.data, [3 * coef, 4 * coef], 1e-15);
    expectClose(b.grad!.data, [0, 0, 12 * coef], 1e-15);
    expect(c.grad).toBeNull();
  });

  it('leaves gradients alone when the total is within maxNorm', () => {
    const [a, b] = setup();
    expect(clipGradNorm([a, b], 20)).toBe(13);
    expect(Array.from(a.grad!.data)).toEqual([3, 4]);
  });

  it('other norms: 1 and infinity', () => {
    const [a, b] = setup();
    expect(clipGradNorm([a, b], 100, 1)).toBe(19);
    const total = clipGradNorm([a, b], 6, Infinity);
    expect(total).toBe(12);
    expectClose(b.grad!.data, [0, 0, (12 * 6) / (12 + 1e-6)], 1e-15);
  });

  it('errors', () => {
    const [a] = setup();
    expect(() => clipGradNorm([a], -1)).toThrow(/maxNorm must be ≥ 0, got -1/);
    a.grad = new Tensor(f64([NaN, 1]).value);
    expect(() => clipGradNorm([a], 1, 2, { errorIfNonfinite: true })).toThrow(/total norm of order 2 is NaN/);
  });
});

const grads = [
  [1, -2],
  [3, 0.5],
  [-1, 4],
];

describe('GrokfastEMA', () => {
  it('h ← αh + (1−α)g (h starts at the first g); grad ← g + λh, over 3 steps', () => {
    const alpha = 0.9;
    const lambda = 2;
    const p = new Parameter(f64([0, 0]));
    const q = new Parameter(f64([0])); // never has a grad: skipped
    const filter = new GrokfastEMA([p, q], { alpha, lambda });
    let h: number[] | null = null;
    for (const g of grads) {
      p.grad = new Tensor(f64(g).value);
      filter.apply();
      const prev: number[] = h ?? g;
      h = prev.map((hi, i) => hi * alpha + g[i]! * (1 - alpha));
      const hh: number[] = h;
      expectClose(p.grad.data, g.map((gi, i) => gi + lambda * hh[i]!), 1e-15);
      expect(q.grad).toBeNull();
    }
  });

  it('the first step gives g + λg, since h starts at g', () => {
    const p = new Parameter(f64([0, 0]));
    p.grad = new Tensor(f64([1, -2]).value);
    new GrokfastEMA([p]).apply();
    expectClose(p.grad.data, [3, -6], 1e-15);
  });

  it('defaults α 0.98, λ 2', () => {
    const f = new GrokfastEMA([new Parameter(f64([0]))]);
    expect([f.alpha, f.lambda]).toEqual([0.98, 2]);
    expect(() => new GrokfastEMA([], { alpha: 1.5 })).toThrow(/alpha must be in \[0, 1\], got 1\.5/);
  });
});

describe('GrokfastMA', () => {
  const run = (windowSize: number, warmup: boolean) => {
    const p = new Parameter(f64([0, 0]));
    const filter = new GrokfastMA([p], { windowSize, lambda: 5, warmup });
    return grads.map((g) => {
      p.grad = new Tensor(f64(g).value);
      filter.apply();
      return Array.from(p.grad.data);
    });
  };

  it('window 2, warm-up: unchanged until the window is full, then g + λ·mean(last 2)', () => {
    const out = run(2, true);
    expect(out[0]).toEqual(grads[0]);
    expectClose(out[1]!, [3 + 5 * ((1 + 3) / 2), 0.5 + 5 * ((-2 + 0.5) / 2)], 1e-15);
    expectClose(out[2]!, [-1 + 5 * ((3 - 1) / 2), 4 + 5 * ((0.5 + 4) / 2)], 1e-15);
  });

  it('window 2, no warm-up: the mean of what the window holds so far', () => {
    const out = run(2, false);
    expectClose(out[0]!, [1 + 5 * 1, -2 + 5 * -2], 1e-15);
    expectClose(out[1]!, [3 + 5 * 2, 0.5 + 5 * -0.75], 1e-15);
    expectClose(out[2]!, [-1 + 5 * 1, 4 + 5 * 2.25], 1e-15);
  });

  it('defaults w 100, λ 5, warm-up on; checks its window size', () => {
    const f = new GrokfastMA([new Parameter(f64([0]))]);
    expect([f.windowSize, f.lambda, f.warmup]).toEqual([100, 5, true]);
    expect(() => new GrokfastMA([], { windowSize: 0 })).toThrow(/windowSize must be an integer ≥ 1, got 0/);
  });
});
