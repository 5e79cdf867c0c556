import { AdamW, Tensor, crossEntropy, raw, compileStep } from '@grok/autograd';
import { makeBatch, randomSplit } from '@grok/grokking';
import { HookedTransformer, paperConfig } from '@grok/transformer';
import { startThreads } from '@grok/tensor';
await startThreads();
const p = 113, split = randomSplit(p, 0.3, 0), data = makeBatch(p, split.train);
const tokens = raw.tensor(data.tokens.data, { shape: data.tokens.shape, dtype: 'int32' });
const labels = new Tensor(raw.tensor(data.labels.data, { shape: data.labels.shape, dtype: 'int32' }));
const model = new HookedTransformer(paperConfig(p, { seed: 0 }));
const opt = new AdamW(model.parameters(), { lr: 1e-3, betas: [0.9, 0.98], eps: 1e-8, weightDecay: 1 });
const last = (process.argv[2] ?? 'last') === 'last';
const step = compileStep(() => { let o = model.run(tokens, { lastPositionOnly: last }); if (!last) o = o.narrow(1, 2, 1).reshape(-1, p); const l = crossEntropy(o, labels); l.backward(); return l; });
for (let i = 0; i < 5; i++) { step(); opt.step(); opt.zeroGrad(); }
const acc = new Map(); const R = 8; let tot = [];
for (let r = 0; r < R; r++) { const prof = step.profile(); opt.step(); opt.zeroGrad(); let t = 0; for (const { label, ms } of prof) { acc.set(label, (acc.get(label) ?? 0) + ms / R); t += ms; } tot.push(t); }
let ts = 0, to = 0; for (let i = 0; i < 10; i++) { let a = performance.now(); step(); let b = performance.now(); opt.step(); opt.zeroGrad(); to += performance.now() - b; ts += b - a; } const perStep = `replay ${(ts/10).toFixed(1)} adamw ${(to/10).toFixed(1)}`;
console.log('kernels', step.kernels, 'profile total', Math.min(...tot).toFixed(1), perStep);
for (const [k, v] of [...acc].sort((a, b) => b[1] - a[1]).slice(0, Number(process.argv[3] ?? 30))) console.log(v.toFixed(2).padStart(7), k);
process.exit(0);
