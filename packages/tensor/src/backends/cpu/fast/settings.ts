/**
 * Switches of the cpu fast path: how many threads a kernel may use, and whether the fast path is on at all.
 * Environment: GROK_THREADS=n (default: all cores), GROK_FAST=0 (force the reference kernels),
 * GROK_RELAXED_SIMD=0 (never use relaxed-SIMD FMA, even where the runtime has it).
 */
import { cpuCount, envVar } from '../../../runtime.js';

let threads = parseThreads(envVar('GROK_THREADS')) ?? cpuCount();
let enabled = envVar('GROK_FAST') !== '0';

function parseThreads(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`GROK_THREADS must be a positive integer, got '${value}'`);
  return n;
}

/** Threads a large kernel is split across, the calling thread included (1 = no workers). */
export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setThreads: expected a positive integer, got ${n}`);
  threads = n;
}

export function getThreads(): number {
  return threads;
}

/** Turns the fast float32 kernels on or off (off: every kernel runs its plain TypeScript reference). */
export function setFastPath(on: boolean): void {
  enabled = on;
}

export function isFastPathEnabled(): boolean {
  return enabled;
}

export function relaxedSimdAllowed(): boolean {
  return envVar('GROK_RELAXED_SIMD') !== '0';
}

/**
 * Whether the fast path's wasm memory can be shared with worker threads: always in Node; in a browser only on a
 * cross-origin isolated page (served with COOP `same-origin` and COEP `require-corp`), the condition for
 * SharedArrayBuffer. Elsewhere the fast path still runs, on one thread (fast-matmul.ts).
 */
export function canShareMemory(): boolean {
  return typeof SharedArrayBuffer === 'function' && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false;
}
