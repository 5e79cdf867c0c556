/** SGD against torch.optim.SGD's formulas, computed by hand here in float64 over several steps. */
import { describe, expect, it } from 'vitest';
import { Parameter, SGD, Tensor, raw, schedules, tensor } from '@grok/autograd';
import { expectClose } from './helpers.js';

const f64 = (values: number[]) => tensor(values, { dtype: 'float64' });

/** torch.optim.SGD, elementwise: d = g + λp; b = d (first) or μb + (1−τ)d; d = nesterov ? d + μb : b; p −= lr·d. */
function sgdByHand(
  p0: number[],
  grads: number[][],
  o: { lr: number; momentum: number; dampening: number; wd: number; nesterov: boolean },
): number[][] {
  const p = [...p0];
  let b: number[] | null = null;
  return grads.map((g) => {
    const d = g.map((gi, i) => gi + o.wd * p[i]!);
    let step = d;
    if (o.momentum !== 0) {
      const prev: number[] | null = b;
      b = prev ? prev.map((bi, i) => o.momentum * bi + (1 - o.dampening) * d[i]!) : [...d];
      const buf: number[] = b;
      step = o.nesterov ? d.map((di, i) => di + o.momentum * buf[i]!) : buf;
    }
    for (let i = 0; i < p.length; i++) p[i] = p[i]! - o.lr * step[i]!;
    return [...p];
  });
}

const p0 = [1.5, -0.5, 0.25, 2];
const r = raw.randn([5, 4], { dtype: 'float64', seed: 3 }).data;
const grads = Array.from({ length: 5 }, (_, k) => Array.from(r.slice(k * 4, k * 4 + 4)));

describe('SGD against the formula by hand', () => {
  const cases = [
    { name: 'plain', o: { lr: 0.1, momentum: 0, dampening: 0, wd: 0, nesterov: false } },
    { name: 'momentum', o: { lr: 0.1, momentum: 0.9, dampening: 0, wd: 0, nesterov: false } },
    { name: 'momentum with dampening', o: { lr: 0.05, momentum: 0.8, dampening: 0.3, wd: 0, nesterov: false } },
    { name: 'nesterov', o: { lr: 0.1, momentum: 0.9, dampening: 0, wd: 0, nesterov: true } },
    { name: 'weight decay', o: { lr: 0.1, momentum: 0, dampening: 0, wd: 0.01, nesterov: false } },
    { name: 'nesterov with weight decay', o: { lr: 0.2, momentum: 0.5, dampening: 0, wd: 0.1, nesterov: true } },
  ];
  for (const { name, o } of cases) {
    it(name, () => {
      const p = new Parameter(f64(p0));
      const opt = new SGD([p], { lr: o.lr, momentum: o.momentum, dampening: o.dampening, weightDecay: o.wd, nesterov: o.nesterov });
      const want = sgdByHand(p0, grads, o);
      grads.forEach((g, k) => {
        p.grad = new Tensor(f64(g).value);
        opt.step();
        expectClose(p.data, want[k]!, 1e-14, 1e-15);
      });
    });
  }

  it('follows an lr schedule (t = 0 for the first update)', () => {
    const p = new Parameter(f64([1]));
    const opt = new SGD([p], { lr: schedules.linearWarmup(0.5, 2) }); // lrs 0, 0.25, 0.5, 0.5
    for (let k = 0; k < 4; k++) {
      p.grad = new Tensor(f64([1]).value);
      opt.step();
    }
    expect(p.data[0]).toBe(1 - 0 - 0.25 - 0.5 - 0.5);
  });

  it('updates p.value in place (the same NDArray sees the step); null grads are skipped', () => {
    const p = new Parameter(tensor([[1, 2]], { dtype: 'float32' }));
    const q = new Parameter(f64([5]));
    const before = p.value;
    const opt = new SGD([p, q], { lr: 1 });
    p.grad = new Tensor(tensor([[0.5, 0.5]], { dtype: 'float32' }).value);
    opt.step();
    expect(p.value).toBe(before);
    expect(Array.from(before.data)).toEqual([0.5, 1.5]);
    expect(p.shape).toEqual([1, 2]);
    expect(p.dtype).toBe('float32');
    expect(Array.from(p.data)).toEqual([0.5, 1.5]);
    expect(Array.from(q.data)).toEqual([5]);
  });

  it('checks its hyper-parameters', () => {
    const p = () => new Parameter(f64([1]));
    expect(() => new SGD([p()], { lr: -0.1 })).toThrow(/-0\.1/);
    expect(() => new SGD([p()], { momentum: -0.9 })).toThrow(/momentum must be .* got -0\.9/);
    expect(() => new SGD([p()], { weightDecay: -1 })).toThrow(/weightDecay must be .* got -1/);
    expect(() => new SGD([p()], { nesterov: true })).toThrow(/nesterov needs momentum > 0 and dampening 0, got momentum 0/);
    expect(() => new SGD([p()], { nesterov: true, momentum: 0.9, dampening: 0.1 })).toThrow(/dampening 0\.1/);
  });
});
