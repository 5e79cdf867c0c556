/**
 * Child process of the gpujs rows (one GPU.js mode per process, so a crash or a hang stays contained):
 * matmul GFLOP/s at one model shape and a small training step of the paper model, on
 * `setBackend('gpujs', { mode })`. Prints one JSON line; an error in either part is reported in its row.
 *
 *   node benchmarks/dist/gpujs-child.js --mode webasm [--batch 256] [--steps 3]
 */
import { matmul, randn, setBackend } from '@grok/tensor';
import { paperStep, timeSteps } from './step.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 600);

const mode = arg('mode', 'webasm');
const batch = Number(arg('batch', '256'));
const steps = Number(arg('steps', '3'));
const [M, K, N] = (arg('shape', '3830x128x128').split('x').map(Number) as [number, number, number]);
const out: { mode: string; matmul: Record<string, unknown>; step: Record<string, unknown> } = { mode, matmul: {}, step: {} };
const shape = `${M}x${K}·${K}x${N}`;

let ok = true;
try {
  setBackend('gpujs', { mode });
} catch (e) {
  ok = false;
  out.matmul = { shape, missing: message(e) };
  out.step = { batch, missing: message(e) };
}
if (ok) {
  try {
    const a = randn([M, K], { seed: 1 });
    const b = randn([K, N], { seed: 2 });
    matmul(a, b).data; // warm-up: compiles the kernel
    let best = Infinity;
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      void matmul(a, b).data; // .data reads the result back, so the time includes the kernel's completion
      best = Math.min(best, performance.now() - t0);
    }
    out.matmul = { shape, gflops: (2 * M * K * N) / best / 1e6, ms: best };
  } catch (e) {
    out.matmul = { shape, missing: message(e) };
  }
  // The paper's float64 loss first; GPU.js is float32-only, so fall back to a float32 loss and say why.
  let float64Error: string | undefined;
  for (const lossPrecision of ['float64', 'input'] as const) {
    try {
      const { step } = paperStep({ variant: 'last', batch, lossPrecision });
      const t = timeSteps(step, 1, steps);
      out.step = { batch, lossPrecision, steps, ...t, ...(float64Error ? { float64Error } : {}) };
      break;
    } catch (e) {
      if (lossPrecision === 'float64') float64Error = message(e);
      out.step = { batch, missing: lossPrecision === 'float64' ? message(e) : `${message(e)} (float64 loss: ${float64Error})` };
    }
  }
}
console.log(JSON.stringify(out));
process.exit(0);
