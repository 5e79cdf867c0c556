// Run after `pnpm exec tsc -b`: node packages/transformer/bench-step.mjs
// Times one forward+backward of the paper model at batch 3830 on the cpu backend.
import { HookedTransformer, paperConfig } from './dist/index.js';
import { crossEntropy, raw, Tensor } from '@grok/autograd';
const model = new HookedTransformer(paperConfig(113, { dtype: process.env.DTYPE ?? 'float32' }));
const B = 3830, p = 113;
const toks = new Int32Array(B * 3), labels = new Int32Array(B);
for (let i = 0; i < B; i++) { const a = (i * 7) % p, b = (i * 13) % p; toks.set([a, b, p], i * 3); labels[i] = (a + b) % p; }
const tokens = new Tensor(raw.tensor(toks, { shape: [B, 3], dtype: 'int32' }));
const y = new Tensor(raw.tensor(labels, { shape: [B], dtype: 'int32' }));
for (const [last, tokenTables] of [[false, false], [true, false], [true, true]]) {
  const times = [];
  for (let r = 0; r < 6; r++) {
    const t0 = performance.now();
    let logits = model.run(tokens, { lastPositionOnly: last, tokenTables });
    if (!last) logits = logits.narrow(1, 2, 1).reshape(B, p);
    const loss = crossEntropy(logits, y);
    const t1 = performance.now();
    loss.backward();
    const t2 = performance.now();
    model.zeroGrad();
    times.push([t1 - t0, t2 - t1]);
  }
  const best = times.slice(1).sort((a, b) => a[0] + a[1] - b[0] - b[1])[0];
  console.log(`${last ? 'lastPositionOnly' : 'full'}${tokenTables ? ' + tokenTables' : ''}: forward ${best[0].toFixed(1)} ms, backward ${best[1].toFixed(1)} ms, total ${(best[0] + best[1]).toFixed(1)} ms`);
}
process.exit(0); // the matmul thread pool would keep the process alive
