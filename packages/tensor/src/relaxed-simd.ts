/**
 * Relaxed SIMD (the fast matmul's fused multiply-add), the one switch for it. Node 20 ships it behind the
 * start-up flag `--experimental-wasm-relaxed-simd`, which NODE_OPTIONS refuses. But V8 reads its wasm feature
 * flags when a module is validated or compiled, and its flags are process-wide: setting the flag with
 * `v8.setFlagsFromString` before the first wasm module is validated works exactly as the command-line flag
 * does, for this isolate and for the matmul's worker threads (measured: the same kernel, bit-identical
 * products, at 1 and 2 threads). So no program needs to re-execute itself with the flag.
 *
 * Call `enableRelaxedSimd()` first thing, before the first matmul (importing @grok/tensor compiles nothing):
 * the `pnpm grok` CLI and `pnpm bench` do. GROK_RELAXED_SIMD=0 keeps the plain mul + add kernel. Later Node
 * versions, and browsers, have relaxed SIMD on by default, and this does nothing there.
 */
import { envVar, setRelaxedSimdFlag } from './runtime.js';

/** Turns the flag on where it is needed and wanted; returns whether it did. */
export function enableRelaxedSimd(): boolean {
  if (envVar('GROK_RELAXED_SIMD') === '0') return false;
  return setRelaxedSimdFlag();
}
