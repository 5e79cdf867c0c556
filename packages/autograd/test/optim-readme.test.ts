/** The README's example, as written there, converges. */
import { expect, it } from 'vitest';
import { AdamW, Parameter, randn, schedules, tensor } from '@grok/autograd';

it("README example: AdamW with a cosine schedule fits y = 3x + 1", () => {
  const x = randn([64, 1], { dtype: 'float64', seed: 0 });
  const y = x.mul(3).add(1); // the line to find: y = 3x + 1
  const w = new Parameter(tensor([[0]], { dtype: 'float64' }));
  const b = new Parameter(tensor([0], { dtype: 'float64' }));
  const opt = new AdamW([w, b], { lr: schedules.cosine(0.1, 500), weightDecay: 0 });
  for (let step = 0; step < 500; step++) {
    const loss = x.matmul(w).add(b).sub(y).square().mean(); // mean squared error
    opt.zeroGrad();
    loss.backward();
    opt.step();
  }
  expect(w.item()).toBeCloseTo(3, 4);
  expect(b.item()).toBeCloseTo(1, 4);
});
