/** PyTorch-like printing: `tensor([[1.0000, 2.0000], ...], dtype=float64)`, eliding the middle of big axes. */
import type { Tensor } from './tensor.js';

const EDGE = 3; // items shown at each end of a long axis
const LONG = 1000; // tensors with more elements than this are elided

export function formatTensor(t: Tensor): string {
  const data = t.data;
  const isInt = t.dtype === 'int32';
  const elide = data.length > LONG;
  const values = Array.from(data);
  const finite = values.filter(Number.isFinite);
  const maxAbs = finite.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  const minAbs = finite.reduce((m, x) => (x !== 0 ? Math.min(m, Math.abs(x)) : m), Infinity);
  const scientific = !isInt && (maxAbs >= 1e8 || (minAbs < 1e-4 && minAbs !== Infinity));
  const fmt = (x: number): string => {
    if (Number.isNaN(x)) return 'nan';
    if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
    if (isInt) return String(x);
    return scientific ? x.toExponential(4) : x.toFixed(4);
  };
  const width = values.reduce((w, x) => Math.max(w, fmt(x).length), 1);
  const strides: number[] = [];
  let s = 1;
  for (let i = t.shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= t.shape[i]!;
  }
  const render = (dim: number, offset: number, indent: string): string => {
    if (dim === t.shape.length) return fmt(data[offset]!).padStart(width);
    const n = t.shape[dim]!;
    const idx = elide && n > 2 * EDGE ? [...range(0, EDGE), -1, ...range(n - EDGE, n)] : range(0, n);
    const parts = idx.map((i) => (i < 0 ? '...' : render(dim + 1, offset + i * strides[dim]!, indent + ' ')));
    const sep = dim === t.shape.length - 1 ? ', ' : ',' + '\n'.repeat(t.shape.length - dim - 1) + indent + ' ';
    return '[' + parts.join(sep) + ']';
  };
  const body = render(0, 0, '       ');
  const suffix = t.dtype === 'float32' ? '' : `, dtype=${t.dtype}`;
  return `tensor(${body}${suffix})`;
}

function range(start: number, end: number): number[] {
  const out: number[] = [];
  for (let i = start; i < end; i++) out.push(i);
  return out;
}
