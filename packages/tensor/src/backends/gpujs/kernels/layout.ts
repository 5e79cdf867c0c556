/**
 * Layout kernels: permute, slice, concat and cast. Each output element is a copy of one input element;
 * only the addressing differs.
 */
import { type Shape, sizeOf, stridesOf } from '../../../shape.js';
import type { KernelSpec } from '../kernel-cache.js';
import { addressing, kernelSource } from './source.js';

/** out[..] = a[..] with out.shape[i] = a.shape[perm[i]]: walk the output with a's strides permuted. */
export function permuteSpec(shape: Shape, offset: number, perm: readonly number[]): KernelSpec {
  const strides = stridesOf(shape);
  const outShape = perm.map((p) => shape[p]!);
  const address = addressing(outShape, 'this.thread.x', [{ name: 'ia', strides: perm.map((p) => strides[p]!), base: offset }]);
  return { source: kernelSource(['a'], `${address}\n  return a[ia];`), output: [sizeOf(outShape)], loop: 0 };
}

/** The box [starts, ends): walk the output with a's strides, from the box's corner. */
export function sliceSpec(shape: Shape, offset: number, starts: readonly number[], ends: readonly number[]): KernelSpec {
  const strides = stridesOf(shape);
  const outShape = starts.map((s, i) => ends[i]! - s);
  const corner = starts.reduce((acc, s, i) => acc + s * strides[i]!, offset);
  const address = addressing(outShape, 'this.thread.x', [{ name: 'ia', strides, base: corner }]);
  return { source: kernelSource(['a'], `${address}\n  return a[ia];`), output: [sizeOf(outShape)], loop: 0 };
}

/**
 * Joins parts along `axis`. The output is viewed as [outer, total, inner]; a thread finds its position c
 * along the axis, then the part whose range holds c, and reads that part at (o, c − start, k).
 */
export function concatSpec(parts: readonly { shape: Shape; offset: number }[], axis: number): KernelSpec {
  const shape0 = parts[0]!.shape;
  const inner = sizeOf(shape0.slice(axis + 1));
  const outer = sizeOf(shape0.slice(0, axis));
  const total = parts.reduce((n, p) => n + p.shape[axis]!, 0);
  const lines = [
    `const o = Math.floor(this.thread.x / ${total * inner});`,
    `const rest = this.thread.x - o * ${total * inner};`,
    `const c = Math.floor(rest / ${inner});`,
    `const k = rest - c * ${inner};`,
  ];
  let start = 0;
  parts.forEach((p, i) => {
    const len = p.shape[axis]!;
    const read = `p${i}[${p.offset} + (o * ${len} + c - ${start}) * ${inner} + k]`;
    lines.push(i === parts.length - 1 ? `return ${read};` : `if (c < ${start + len}) { return ${read}; }`);
    start += len;
  });
  const args = parts.map((_, i) => `p${i}`);
  return { source: kernelSource(args, lines.join('\n  ')), output: [outer * total * inner], loop: 0 };
}

/** float32 → int32: truncate toward zero, as the cpu does. */
export function truncSpec(size: number, offset: number): KernelSpec {
  return { source: kernelSource(['a'], `return Math.trunc(a[${offset} + this.thread.x]);`), output: [size], loop: 0 };
}
