/** End to end: the optimizers actually train things (XOR with an MLP; linear least squares). */
import { describe, expect, it } from 'vitest';
import { AdamW, Parameter, SGD, type Tensor, crossEntropy, randn, schedules, tensor } from '@grok/autograd';

describe('an MLP learns XOR', () => {
  it('2 → 8 → 2 with tanh, AdamW, cross-entropy: 100 % accuracy within 300 steps', () => {
    const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]], { dtype: 'float64' }); // [4, 2]
    const y = tensor([0, 1, 1, 0], { dtype: 'int32' }); // [4]
    const W1 = new Parameter(randn([2, 8], { dtype: 'float64', seed: 1 }));
    const b1 = new Parameter(tensor(new Array(8).fill(0), { dtype: 'float64' }));
    const W2 = new Parameter(randn([8, 2], { dtype: 'float64', seed: 2, std: 0.5 }));
    const b2 = new Parameter(tensor([0, 0], { dtype: 'float64' }));
    const forward = () => x.matmul(W1).add(b1).tanh().matmul(W2).add(b2); // [4, 2] logits
    const opt = new AdamW([W1, b1, W2, b2], { lr: 0.05 });
    let loss = Infinity;
    for (let step = 0; step < 300; step++) {
      const l = crossEntropy(forward(), y);
      loss = l.item();
      opt.zeroGrad();
      l.backward();
      opt.step();
    }
    const predicted = Array.from(forward().argmax(-1).data);
    expect(predicted).toEqual([0, 1, 1, 0]);
    expect(loss).toBeLessThan(0.05);
  });
});

/** Solves A x = b (A n×n) by Gaussian elimination with partial pivoting. */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[piv]![c]!)) piv = r;
    [M[c], M[piv]] = [M[piv]!, M[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = M[r]![c]! / M[c]![c]!;
      for (let k = c; k <= n; k++) M[r]![k]! -= f * M[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= M[r]![k]! * x[k]!;
    x[r] = s / M[r]![r]!;
  }
  return x;
}

describe('linear regression converges to the least-squares solution', () => {
  // y = 2·x0 − 3·x1 + 0.5 + noise, 32 points; the model is y ≈ x·w + b.
  const n = 32;
  const X = randn([n, 2], { dtype: 'float64', seed: 7 });
  const noise = randn([n], { dtype: 'float64', seed: 8, std: 0.3 }).data;
  const xs = X.data;
  const ys = Array.from({ length: n }, (_, i) => 2 * xs[2 * i]! - 3 * xs[2 * i + 1]! + 0.5 + noise[i]!);
  const Y = tensor(ys, { dtype: 'float64', shape: [n, 1] });

  // Normal equations over the columns (x0, x1, 1): (AᵀA) θ = Aᵀy, a 3 × 3 system.
  const rows = Array.from({ length: n }, (_, i) => [xs[2 * i]!, xs[2 * i + 1]!, 1]);
  const AtA = [0, 1, 2].map((r) => [0, 1, 2].map((c) => rows.reduce((s, a) => s + a[r]! * a[c]!, 0)));
  const Aty = [0, 1, 2].map((r) => rows.reduce((s, a, i) => s + a[r]! * ys[i]!, 0));
  const exact = solve(AtA, Aty); // [w0, w1, b]

  const fit = (makeOpt: (ps: Tensor[]) => { step(): void; zeroGrad(): void }, steps: number) => {
    const w = new Parameter(tensor([[0], [0]], { dtype: 'float64' }));
    const b = new Parameter(tensor([0], { dtype: 'float64' }));
    const opt = makeOpt([w, b]);
    for (let k = 0; k < steps; k++) {
      const loss = X.matmul(w).add(b).sub(Y).square().mean(); // mean squared error
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }
    return [...Array.from(w.data), b.data[0]!];
  };

  it('sanity: the solution is near the generating (2, −3, 0.5)', () => {
    expect(Math.abs(exact[0]! - 2)).toBeLessThan(0.3);
    expect(Math.abs(exact[1]! + 3)).toBeLessThan(0.3);
  });

  it('with SGD (momentum 0.9)', () => {
    const got = fit((ps) => new SGD(ps, { lr: 0.05, momentum: 0.9 }), 700);
    got.forEach((g, i) => expect(Math.abs(g - exact[i]!)).toBeLessThan(1e-10));
  });

  it('with AdamW, no weight decay, cosine-decayed lr', () => {
    const got = fit((ps) => new AdamW(ps, { lr: schedules.cosine(0.1, 1500), weightDecay: 0 }), 1500);
    got.forEach((g, i) => expect(Math.abs(g - exact[i]!)).toBeLessThan(1e-6));
  });
});
