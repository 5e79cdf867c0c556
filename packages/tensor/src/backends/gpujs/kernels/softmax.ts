/**
 * Softmax and log-softmax over the last axis, in two kernels so each element costs O(1), not O(n):
 *   1. row statistics, packed [2, rows]: the row max m, then log Σ exp(x − m)
 *   2. one thread per element: log-softmax = (x − m) − log Σ,  softmax = exp of that
 * Subtracting the max keeps exp from overflowing for large logits, and forming (x − m) first keeps its
 * precision: with logits near 1000, x − (m + log Σ) would lose everything below float32's ulp of 1000.
 * The row sum uses Kahan compensation (see reduce.ts). The statistics stay on the device between kernels.
 */
import type { KernelSpec } from '../kernel-cache.js';
import { kernelSource } from './source.js';

/** Thread r < rows returns row r's max; thread rows + r returns its log Σ exp(x − max). */
export function rowStatsSpec(rows: number, n: number, offset: number): KernelSpec {
  const body = `const second = this.thread.x >= ${rows} ? 1.0 : 0.0;
  const r = this.thread.x - second * ${rows};
  const base = ${offset} + r * ${n};
  let m = a[base];
  for (let j = 1; j < ${n}; j++) { m = Math.max(m, a[base + j]); }
  if (m < -3.4028235e38) { m = 0.0; } // a row of −∞: nothing to subtract
  if (second === 0.0) { return m; }
  let s = 0.0;
  let comp = 0.0;
  for (let j = 0; j < ${n}; j++) {
    const y = Math.exp(a[base + j] - m) - comp;
    const t = s + y;
    comp = (t - s) - y;
    s = t;
  }
  return Math.log(s);`;
  return { source: kernelSource(['a'], body), output: [2 * rows], loop: n };
}

/** softmax (log = false) or log-softmax (log = true) from the row statistics. */
export function softmaxFromStatsSpec(rows: number, n: number, offset: number, log: boolean): KernelSpec {
  const body = `const r = Math.floor(this.thread.x / ${n});
  const y = (a[${offset} + this.thread.x] - stats[r]) - stats[${rows} + r];
  return ${log ? 'y' : 'Math.exp(y)'};`;
  return { source: kernelSource(['a', 'stats'], body), output: [rows * n], loop: 0 };
}
