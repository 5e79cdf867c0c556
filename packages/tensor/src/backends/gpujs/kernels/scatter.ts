/**
 * Scatter-adds (scatterAdd, indexAdd) as gather-style kernels over an inverse index built on the host.
 *
 * A GPU.js thread can only write its own output element, so "out[index[k]] += src[k]" must be turned
 * around: each output element sums the sources that land on it. Scanning every source from every output
 * element would cost outputs × sources (for an embedding's backward pass, 114 × 128 × 11,490 ≈ 168 M reads),
 * so we invert the index on the host first, as a CSR table:
 *   start[p] .. start[p+1]  is the range of `sources` listing, in ascending order, what lands on p.
 * Building it is O(sources), and the indices are on the host anyway: the op layer range-checks them by
 * reading them. The kernel then does O(1) work per source, and adds in the same order as the cpu.
 * Its loop bound is the most sources one target can receive, a static number (so the kernel does not
 * depend on the index values and is compiled once per shape); it stops early at the end of its group.
 */
import { type Shape, sizeOf, stridesOf } from '../../../shape.js';
import type { KernelSpec } from '../kernel-cache.js';
import { kernelSource } from './source.js';

export interface InverseIndex {
  /** start[p]..start[p+1]: the slice of `sources` landing on target p (length targets + 1). */
  start: Float32Array;
  /** Source positions, grouped by target, ascending within a group. */
  sources: Float32Array;
}

/** Inverts `targetOf` (source position → target position) over `nSources` sources and `nTargets` targets. */
export function invert(nSources: number, nTargets: number, targetOf: (k: number) => number): InverseIndex {
  const count = new Int32Array(nTargets + 1);
  const target = new Int32Array(nSources);
  for (let k = 0; k < nSources; k++) count[(target[k] = targetOf(k)) + 1]!++;
  for (let p = 0; p < nTargets; p++) count[p + 1]! += count[p]!;
  const start = Float32Array.from(count);
  const fill = count.slice(0, nTargets);
  const sources = new Float32Array(Math.max(nSources, 1)); // GPU.js cannot take an empty array
  for (let k = 0; k < nSources; k++) sources[fill[target[k]!]!++] = k;
  return { start, sources };
}

/**
 * scatterAdd's inverse: source k (a position in index/src, of `indexShape`) lands on the position of
 * `shape` with k's coordinates, except index[k] on `axis`.
 */
export function invertScatter(shape: Shape, axis: number, index: ArrayLike<number>, indexShape: Shape): InverseIndex {
  const strides = stridesOf(shape);
  const nd = indexShape.length;
  const coord = new Array<number>(nd).fill(0);
  return invert(sizeOf(indexShape), sizeOf(shape), (k) => {
    let p = 0;
    for (let d = 0; d < nd; d++) p += (d === axis ? index[k]! : coord[d]!) * strides[d]!;
    for (let d = nd - 1; d >= 0 && ++coord[d]! === indexShape[d]; d--) coord[d] = 0; // odometer
    return p;
  });
}

/** indexAdd's inverse, per row of the indexed axis: index j (of m) lands on row indices[j]. */
export function invertRows(n: number, indices: ArrayLike<number>): InverseIndex {
  return invert(indices.length, n, (j) => indices[j]!);
}

/** out[p] = Σ src[sources[q]] for q in start[p]..start[p+1]; at most `maxHits` = index.shape[axis] of them. */
export function scatterAddSpec(outSize: number, src: { offset: number }, maxHits: number): KernelSpec {
  const body = `const first = start[this.thread.x];
  const last = start[this.thread.x + 1];
  let s = 0.0;
  for (let q = 0; q < ${maxHits}; q++) {
    if (first + q >= last) { break; }
    s += src[${src.offset} + sources[first + q]];
  }
  return s;`;
  return { source: kernelSource(['src', 'start', 'sources'], body), output: [outSize], loop: maxHits };
}

/** out [outer, n, inner]: out[o, r, k] = Σ src[o, j, k] over the j with indices[j] = r (at most m of them). */
export function indexAddSpec(shape: Shape, axis: number, m: number, src: { offset: number }): KernelSpec {
  const n = shape[axis]!;
  const inner = sizeOf(shape.slice(axis + 1));
  const body = `const o = Math.floor(this.thread.x / ${n * inner});
  const rest = this.thread.x - o * ${n * inner};
  const r = Math.floor(rest / ${inner});
  const k = rest - r * ${inner};
  const first = start[r];
  const last = start[r + 1];
  let s = 0.0;
  for (let q = 0; q < ${m}; q++) {
    if (first + q >= last) { break; }
    s += src[${src.offset} + (o * ${m} + sources[first + q]) * ${inner} + k];
  }
  return s;`;
  return { source: kernelSource(['src', 'start', 'sources'], body), output: [sizeOf(shape)], loop: m };
}
