import { AdamW, Tensor, crossEntropy, raw, compileStep } from '@grok/autograd';
import { makeBatch, randomSplit } from '@grok/grokking';
import { HookedTransformer, paperConfig } from '@grok/transformer';
import { startThreads } from '@grok/tensor';
await startThreads();
const p = 113;
const split = randomSplit(p, 0.3, 0);
const data = makeBatch(p, split.train);
const tokens = raw.tensor(data.tokens.data, { shape: data.tokens.shape, dtype: 'int32' });
const labels = new Tensor(raw.tensor(data.labels.data, { shape: data.labels.shape, dtype: 'int32' }));
function setup() {
  const model = new HookedTransformer(paperConfig(p, { seed: 0 }));
  const opt = new AdamW(model.parameters(), { lr: 1e-3, betas: [0.9, 0.98], eps: 1e-8, weightDecay: 1 });
  const fwd = () => { const l = crossEntropy(model.run(tokens, { lastPositionOnly: true }), labels); l.backward(); return l; };
  return { model, opt, fwd };
}
const N = Number(process.argv[2] ?? 20);
const a = setup(), b = setup();
const compiled = process.env.EAGER ? b.fwd : compileStep(b.fwd, { onFallback: (r) => console.log("fallback", r) });
const ta = [], tb = [];
let maxRel = 0;
for (let i = 0; i < N; i++) {
  let t0 = performance.now(); const la = a.fwd().item(); a.opt.step(); a.opt.zeroGrad(); ta.push(performance.now() - t0);
  t0 = performance.now(); const lb = compiled().item(); b.opt.step(); b.opt.zeroGrad(); tb.push(performance.now() - t0);
  maxRel = Math.max(maxRel, Math.abs(la - lb) / Math.abs(la));
  if (i < 3 || i === N - 1) console.log(i, la, lb);
}
let maxDiff = 0;
const pa = a.model.parameters(), pb = b.model.parameters();
pa.forEach((x, i) => { const d1 = x.data, d2 = pb[i].data; for (let j = 0; j < d1.length; j++) maxDiff = Math.max(maxDiff, Math.abs(d1[j] - d2[j])); });
const med = (xs) => { const s = [...xs].slice(2).sort((x, y) => x - y); return s[s.length >> 1].toFixed(1); };
console.log('mode', compiled.mode, 'kernels', compiled.kernels, 'MB', (compiled.bytes / 1e6).toFixed(1), 'maxRel loss', maxRel, 'max param diff', maxDiff);
console.log('eager median', med(ta), 'replay median', med(tb), 'rss MB', (process.memoryUsage().rss / 1e6).toFixed(0));
process.exit(0);
