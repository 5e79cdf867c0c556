// The paper model's full training step (forward + float64 cross-entropy + backward + AdamW), for profiling.
// Run after `pnpm exec tsc -b`:
//   node --experimental-wasm-relaxed-simd packages/transformer/profile-step.mjs [last|full|both] [steps]
//   node --cpu-prof --cpu-prof-dir=/tmp/prof ... (then open the .cpuprofile, or summarise it with
//   `node packages/transformer/profile-summary.mjs /tmp/prof/*.cpuprofile`)
// GROK_THREADS sets the matmul threads. Prints the best and the median step of each phase: on a shared
// machine the best of many steps is the number to compare.
import { HookedTransformer, paperConfig } from './dist/index.js';
import { AdamW, crossEntropy, raw, Tensor } from '@grok/autograd';

// KERNELS=1: time every backend kernel by name and shapes (wraps CpuBackend's methods), printed per step.
const kernelTimes = new Map();
if (process.env.KERNELS) {
  // @grok/tensor is not a dependency of this package: reach it through the autograd package's own deps.
  const { CpuBackend } = await import(new URL('../autograd/node_modules/@grok/tensor/dist/index.js', import.meta.url));
  for (const name of Object.getOwnPropertyNames(CpuBackend.prototype)) {
    const f = CpuBackend.prototype[name];
    if (name === 'constructor' || typeof f !== 'function' || ['wrap', 'alloc', 'read', 'reshape', 'fromArray'].includes(name)) continue;
    CpuBackend.prototype[name] = function (...args) {
      const t0 = performance.now();
      const out = f.apply(this, args);
      const desc = args.map((a) => (a && a.shape ? `[${a.shape}]` : typeof a === 'object' ? JSON.stringify(a) : String(a))).join(' ');
      const key = `${name} ${desc}`;
      const e = kernelTimes.get(key) ?? { ms: 0, calls: 0 };
      e.ms += performance.now() - t0;
      e.calls++;
      kernelTimes.set(key, e);
      return out;
    };
  }
}

const variants = (process.argv[2] ?? 'both') === 'both' ? ['last', 'full'] : [process.argv[2]];
const steps = Number(process.argv[3] ?? 12);
const p = 113;
const B = 3830; // 30 % of the 113² pairs, as in the paper

// A fixed pseudo-random split of (a, b, '=') → (a + b) mod p.
const pairs = Array.from({ length: p * p }, (_, i) => i);
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
for (let i = pairs.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [pairs[i], pairs[j]] = [pairs[j], pairs[i]]; }
const toks = new Int32Array(B * 3), labels = new Int32Array(B);
for (let i = 0; i < B; i++) { const a = Math.floor(pairs[i] / p), b = pairs[i] % p; toks.set([a, b, p], i * 3); labels[i] = (a + b) % p; }
const tokens = new Tensor(raw.tensor(toks, { shape: [B, 3], dtype: 'int32' }));
const y = new Tensor(raw.tensor(labels, { shape: [B], dtype: 'int32' }));

for (const variant of variants) {
  const model = new HookedTransformer(paperConfig(p, { dtype: 'float32', seed: 0 }));
  const opt = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 1, betas: [0.9, 0.98] });
  const last = variant === 'last';
  const rows = [];
  let lossValue = 0;
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    let logits = model.run(tokens, { lastPositionOnly: last });
    if (!last) logits = logits.narrow(1, 2, 1).reshape(B, p);
    const loss = crossEntropy(logits, y);
    const t1 = performance.now();
    loss.backward();
    const t2 = performance.now();
    opt.step();
    opt.zeroGrad();
    const t3 = performance.now();
    lossValue = loss.item();
    rows.push([t1 - t0, t2 - t1, t3 - t2, t3 - t0]);
  }
  const warm = rows.slice(2);
  const best = (k) => Math.min(...warm.map((r) => r[k]));
  const median = (k) => { const v = warm.map((r) => r[k]).sort((a, b) => a - b); return v[v.length >> 1]; };
  const f = (k) => `${best(k).toFixed(1)}/${median(k).toFixed(1)}`;
  if (process.env.KERNELS) {
    const list = [...kernelTimes].sort((a, b) => b[1].ms - a[1].ms);
    const total = list.reduce((t, [, e]) => t + e.ms, 0);
    console.log(`kernels: ${(total / steps).toFixed(1)} ms per step`);
    for (const [k, e] of list.slice(0, Number(process.env.KERNELS) > 1 ? Number(process.env.KERNELS) : 40)) {
      console.log(`${(e.ms / steps).toFixed(2).padStart(8)} ms ${String(e.calls / steps).padStart(4)}×  ${k.slice(0, 150)}`);
    }
    kernelTimes.clear();
  }
  console.log(`${variant}: step ${f(3)} ms (best/median of ${warm.length})  forward ${f(0)}  backward ${f(1)}  adamw ${f(2)}  loss ${lossValue.toFixed(6)}`);
}
process.exit(0); // the matmul thread pool would keep the process alive
