/**
 * AdamW's update on the wasm fast path (fast/adamw-kernel.ts), for the cpu backend's fused(): the kernel
 * implements one formula, @grok/autograd's ADAMW (without amsgrad), so it runs only for a fused kernel whose
 * formula is exactly that one, word for word; any other formula, or a changed one, runs as compiled JS.
 *
 * The parameters and moments live in host memory, so each call copies p, m and v (and g, unless it already
 * lies in the wasm memory: a compiled step's gradient does) into scratch space, updates them there in place
 * and copies p, m and v back. Bit for bit the JS loop. On the calling thread: split across 2 threads (by
 * ranges of elements, exact) it measured slower, 1.6–2.3 ms against 1.3–1.45 ms for the paper model's
 * 226,688 parameters, in one process: the copies are the caller's, and the worker then reads and writes
 * data that sits in the caller's cache.
 */
import type { FusedKernel } from '../../backend.js';
import type { TypedArray } from '../../dtype.js';
import { kernelOnThisThread, persistentAddressOf, scratchFloat32 } from './fast/fast-matmul.js';

const ADAMW_FORMULA = {
  name: 'adamw',
  inputs: 'p,g,m,v',
  scalars: 'decay,stepSize,bc2Sqrt,beta1,beta2,eps',
  body: 'const m1 = beta1 * m + (1.0 - beta1) * g; const v1 = beta2 * v + (1.0 - beta2) * g * g; ' +
    'const vHat = v1; const denom = Math.sqrt(vHat) / bc2Sqrt + eps;',
  outputs: 'p * decay - stepSize * (m1 / denom)|m1|v1',
};

const spaced = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Calls that ran the wasm kernel (for tests). */
export const wasmAdamWStats = { calls: 0 };

/** Whether `kernel` is the AdamW formula the wasm kernel computes (whitespace aside). */
export function isAdamWFormula(kernel: FusedKernel): boolean {
  return kernel.name === ADAMW_FORMULA.name && kernel.inputs.join() === ADAMW_FORMULA.inputs &&
    (kernel.scalars ?? []).join() === ADAMW_FORMULA.scalars && spaced(kernel.body ?? '') === ADAMW_FORMULA.body &&
    kernel.outputs.join('|') === ADAMW_FORMULA.outputs;
}

/**
 * inputs [p, g, m, v], outputs [p', m', v'] (float32, all of one length; outputs may be the inputs).
 * Returns false, computing nothing, when they are not float32 or do not fit in the wasm memory.
 */
export function adamwFloat32(inputs: readonly TypedArray[], scalars: readonly number[], outputs: readonly TypedArray[]): boolean {
  const [p, g, m, v] = inputs as Float32Array[];
  if (![...inputs, ...outputs].every((a) => a instanceof Float32Array)) return false;
  const n = p!.length;
  if (n === 0) return true;
  const gAt = persistentAddressOf(g!);
  const scratch = scratchFloat32(gAt === null ? [n, n, n, n] : [n, n, n]);
  if (!scratch) return false;
  const [ps, ms, vs, gs] = scratch as [Float32Array, Float32Array, Float32Array, Float32Array | undefined];
  ps.set(p!);
  ms.set(m!);
  vs.set(v!);
  gs?.set(g!);
  const [P, G, M, V] = [ps.byteOffset, gAt ?? gs!.byteOffset, ms.byteOffset, vs.byteOffset];
  kernelOnThisThread('adamw.adamw')(P, G, M, V, n, ...scalars);
  wasmAdamWStats.calls++;
  outputs[0]!.set(ps);
  outputs[1]!.set(ms);
  outputs[2]!.set(vs);
  return true;
}
