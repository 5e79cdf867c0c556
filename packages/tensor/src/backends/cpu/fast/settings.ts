/**
 * Switches of the cpu fast path: how many threads a kernel may use, and whether the fast path is on at all.
 * Environment: GROK_THREADS=n (default: all cores), GROK_FAST=0 (force the reference kernels),
 * GROK_RELAXED_SIMD=0 (never use relaxed-SIMD FMA, even where the runtime has it).
 */
import { availableParallelism } from 'node:os';

let threads = parseThreads(process.env['GROK_THREADS']) ?? availableParallelism();
let enabled = process.env['GROK_FAST'] !== '0';

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
  return process.env['GROK_RELAXED_SIMD'] !== '0';
}
