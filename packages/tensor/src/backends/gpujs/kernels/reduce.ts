/**
 * Reductions over one axis. The tensor is viewed as [outer, n, inner]; one thread per output element
 * walks its line of n values with stride `inner`.
 *
 * Sums use Kahan's compensated summation: GPU.js adds in float32, where a plain running sum of thousands
 * of terms drifts from the cpu's float64 sum; the compensation term carries the low bits each add loses.
 * argmax/argmin replace the best only on a strict improvement, so ties keep the first index.
 */
import type { ReduceOp } from '../../../backend.js';
import type { KernelSpec } from '../kernel-cache.js';
import { kernelSource } from './source.js';

export function reduceSpec(op: ReduceOp, outer: number, n: number, inner: number, offset: number): KernelSpec {
  // The thread's line starts at base: element (o, 0, k) of [outer, n, inner].
  const base = [
    `const o = Math.floor(this.thread.x / ${inner});`,
    `const k = this.thread.x - o * ${inner};`,
    `const base = ${offset} + o * ${n * inner} + k;`,
  ].join('\n  ');
  let body: string;
  switch (op) {
    case 'sum':
    case 'mean':
      body = `let s = 0.0;
  let comp = 0.0;
  for (let j = 0; j < ${n}; j++) {
    const y = a[base + j * ${inner}] - comp;
    const t = s + y;
    comp = (t - s) - y;
    s = t;
  }
  return ${op === 'mean' ? `s / ${n}.0` : 's'};`;
      break;
    case 'max':
    case 'min':
      body = `let best = a[base];
  for (let j = 1; j < ${n}; j++) {
    const x = a[base + j * ${inner}];
    if (x ${op === 'max' ? '>' : '<'} best) { best = x; }
  }
  return best;`;
      break;
    case 'argmax':
    case 'argmin':
      body = `let best = a[base];
  let at = 0.0;
  for (let j = 1; j < ${n}; j++) {
    const x = a[base + j * ${inner}];
    if (x ${op === 'argmax' ? '>' : '<'} best) { best = x; at = j; }
  }
  return at;`;
      break;
  }
  return { source: kernelSource(['a'], `${base}\n  ${body}`), output: [outer * inner], loop: n };
}
