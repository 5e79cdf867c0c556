/**
 * Gathers: torch.gather and index_select. One thread per output element reads its index, then the
 * indexed element. Indices are int32 values stored as exact floats.
 */
import { type Shape, sizeOf, stridesOf } from '../../../shape.js';
import type { KernelSpec } from '../kernel-cache.js';
import { addressing, kernelSource } from './source.js';

/**
 * out[.., j, ..] = a[.., index[.., j, ..], ..] (out has index's shape): walk the output with a's strides
 * on every axis but `axis`, whose coordinate comes from the index tensor (read at the thread's own position).
 */
export function gatherSpec(a: { shape: Shape; offset: number }, axis: number, index: { shape: Shape; offset: number }): KernelSpec {
  const strides = stridesOf(a.shape);
  const address = addressing(index.shape, 'this.thread.x', [
    { name: 'ia', strides: strides.map((s, d) => (d === axis ? 0 : s)), base: a.offset },
  ]);
  const body = `${address}\n  const at = idx[${index.offset} + this.thread.x];\n  return a[ia + at * ${strides[axis]}];`;
  return { source: kernelSource(['a', 'idx'], body), output: [sizeOf(index.shape)], loop: 0 };
}

/** a viewed as [outer, n, inner]; out [outer, m, inner] with out[o, j, k] = a[o, indices[j], k]. */
export function indexSelectSpec(a: { shape: Shape; offset: number }, axis: number, indices: { size: number; offset: number }): KernelSpec {
  const n = a.shape[axis]!;
  const inner = sizeOf(a.shape.slice(axis + 1));
  const outer = sizeOf(a.shape.slice(0, axis));
  const m = indices.size;
  const body = `const o = Math.floor(this.thread.x / ${m * inner});
  const rest = this.thread.x - o * ${m * inner};
  const j = Math.floor(rest / ${inner});
  const k = rest - j * ${inner};
  const row = idx[${indices.offset} + j];
  return a[${a.offset} + (o * ${n} + row) * ${inner} + k];`;
  return { source: kernelSource(['a', 'idx'], body), output: [outer * m * inner], loop: 0 };
}
