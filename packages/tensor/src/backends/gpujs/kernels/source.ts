/**
 * Writing kernel sources. GPU.js runs one thread per output element and gives it only `this.thread.x`
 * (and `.y`); every kernel here reads its inputs as flat arrays, so a thread must turn its flat index into
 * coordinates and then into an offset in each input. We specialise that arithmetic to the shapes at hand
 * by writing it out with literal sizes and strides (broadcast axes have stride 0 and simply drop out),
 * which is also what makes the source a precise cache key.
 */
import type { Shape } from '../../../shape.js';

/** One input to address: the name of its offset variable, its strides over the loop shape, and a base. */
export interface Addressed {
  name: string;
  strides: readonly number[];
  base: number;
}

/**
 * Statements that split `index` (an expression) over `shape` in row-major order and set, for each input,
 * `let NAME = base + Σ coord[d] · strides[d]`. Also declares `c<d>` for every axis in `keepCoords`.
 */
export function addressing(shape: Shape, index: string, inputs: readonly Addressed[], keepCoords: readonly number[] = []): string {
  const lines = inputs.map((inp) => `let ${inp.name} = ${inp.base};`);
  const nd = shape.length;
  // Peel axes off from the last: c = rest % size; rest = floor(rest / size). Axis 0 takes what is left.
  // Axes before the first one any input (or the caller) needs are never decoded.
  const used = (d: number) => keepCoords.includes(d) || inputs.some((inp) => inp.strides[d] !== 0 && shape[d] !== 1);
  let lowest = 0;
  while (lowest < nd && !used(lowest)) lowest++;
  if (lowest < nd) lines.push(`let rest = ${index};`);
  for (let d = nd - 1; d >= lowest; d--) {
    const size = shape[d]!;
    if (!used(d)) {
      if (size !== 1) lines.push(`rest = Math.floor(rest / ${size});`);
      continue;
    }
    lines.push(`const c${d} = ${d === 0 ? 'rest' : `rest % ${size}`};`);
    if (d > lowest) lines.push(`rest = Math.floor(rest / ${size});`);
    for (const inp of inputs) {
      const s = inp.strides[d]!;
      if (s !== 0 && size !== 1) lines.push(`${inp.name} += c${d} * ${s};`);
    }
  }
  return lines.join('\n  ');
}

/** A JavaScript number literal that GPU.js reads as a Float (`1` would be an Integer in GLSL). */
export function float(x: number): string {
  if (Number.isNaN(x)) return '(0.0 / 0.0)';
  if (!Number.isFinite(x)) return x > 0 ? '(1.0 / 0.0)' : '(-1.0 / 0.0)';
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** A kernel function's source: `function(args) { body }`. */
export function kernelSource(args: readonly string[], body: string): string {
  return `function(${args.join(', ')}) {\n  ${body}\n}`;
}
