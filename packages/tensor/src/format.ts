/**
 * PyTorch-like printing, ported from torch/_tensor_str.py with its default print options:
 *
 *   tensor([[1.5000, 2.0000],          tensor([1., 2.])            tensor([1.0000e-05, 1.0000e+00])
 *           [3.0000, 4.0000]])         tensor(3, dtype=int32)      tensor([], size=(2, 0))
 *
 * - float values share one format: integers-only print as `1.`, otherwise 4 decimals, or scientific when
 *   the nonzero magnitudes span more than 1000× or leave [1e-4, 1e8]; every entry is padded to one width;
 * - tensors of more than 1000 elements show 3 items at each end of every axis around `...`;
 * - rows wrap at 80 characters; non-default dtypes (anything but float32) are named in a suffix.
 */
import type { NDArray } from './ndarray.js';

const PRECISION = 4;
const THRESHOLD = 1000; // more elements than this are summarized
const EDGE_ITEMS = 3;
const LINE_WIDTH = 80;

export function formatTensor(t: NDArray): string {
  const prefix = 'tensor(';
  const indent = prefix.length;
  const suffixes: string[] = [];
  let body: string;
  if (t.size === 0) {
    // No elements to show: print the shape unless it is (0,).
    if (t.ndim !== 1) suffixes.push(`size=(${t.shape.join(', ')})`);
    body = '[]';
  } else {
    const summarize = t.size > THRESHOLD;
    const view = new View(t.data, t.shape);
    const formatter = new Formatter(view.shownValues(summarize), t.dtype !== 'int32');
    body = view.render(0, 0, indent, summarize, formatter);
  }
  if (t.dtype !== 'float32') suffixes.push(`dtype=${t.dtype}`);
  return addSuffixes(prefix + body, suffixes, indent);
}

/** torch's _Formatter: one width and one style (int-like, fixed or scientific) for all shown values. */
class Formatter {
  private intMode = true;
  private sciMode = false;
  private maxWidth = 1;

  constructor(values: number[], private readonly floating: boolean) {
    if (!floating) {
      for (const v of values) this.maxWidth = Math.max(this.maxWidth, String(v).length);
      return;
    }
    const nonzero = values.filter((v) => Number.isFinite(v) && v !== 0);
    if (nonzero.length === 0) return;
    let max = 0;
    let min = Infinity;
    for (const v of nonzero) {
      max = Math.max(max, Math.abs(v)); // a loop, not Math.max(...values): summaries of many axes are long
      min = Math.min(min, Math.abs(v));
    }
    this.intMode = nonzero.every((v) => v === Math.ceil(v));
    if (this.intMode) {
      // Integer-valued floats print as `3.`; the dot is counted in the width.
      if (max / min > 1000 || max > 1e8) {
        this.sciMode = true;
        for (const v of nonzero) this.maxWidth = Math.max(this.maxWidth, formatExp(v, PRECISION).length);
      } else {
        for (const v of nonzero) this.maxWidth = Math.max(this.maxWidth, formatFixed(v, 0).length + 1);
      }
    } else if (max / min > 1000 || max > 1e8 || min < 1e-4) {
      this.sciMode = true;
      for (const v of nonzero) this.maxWidth = Math.max(this.maxWidth, formatExp(v, PRECISION).length);
    } else {
      for (const v of nonzero) this.maxWidth = Math.max(this.maxWidth, formatFixed(v, PRECISION).length);
    }
  }

  width(): number {
    return this.maxWidth;
  }

  format(v: number): string {
    let s: string;
    if (!this.floating) s = String(v);
    else if (Number.isNaN(v)) s = 'nan';
    else if (!Number.isFinite(v)) s = v > 0 ? 'inf' : '-inf';
    else if (this.sciMode) s = formatExp(v, PRECISION);
    else if (this.intMode) s = formatFixed(v, 0) + '.';
    else s = formatFixed(v, PRECISION);
    return s.padStart(this.maxWidth);
  }
}

/** Row-major data with a shape, walked the way torch's _tensor_str_with_formatter walks a tensor. */
class View {
  private readonly strides: number[];

  constructor(private readonly data: ArrayLike<number>, private readonly shape: readonly number[]) {
    this.strides = [];
    let s = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      this.strides[i] = s;
      s *= shape[i]!;
    }
  }

  /** Indices shown along an axis of length n: all, or EDGE_ITEMS at each end around a gap (-1). */
  private shown(n: number, summarize: boolean): number[] {
    if (!summarize || n <= 2 * EDGE_ITEMS) return range(0, n);
    return [...range(0, EDGE_ITEMS), -1, ...range(n - EDGE_ITEMS, n)];
  }

  /** The values that will be printed (the formatter's width depends only on these). */
  shownValues(summarize: boolean): number[] {
    const out: number[] = [];
    const walk = (dim: number, offset: number) => {
      if (dim === this.shape.length) {
        out.push(this.data[offset]!);
        return;
      }
      for (const i of this.shown(this.shape[dim]!, summarize)) if (i >= 0) walk(dim + 1, offset + i * this.strides[dim]!);
    };
    walk(0, 0);
    return out;
  }

  render(dim: number, offset: number, indent: number, summarize: boolean, f: Formatter): string {
    const nd = this.shape.length;
    if (dim === nd) return f.format(this.data[offset]!); // a scalar
    const idx = this.shown(this.shape[dim]!, summarize);
    if (dim === nd - 1) {
      // A row: wrapped so that no line exceeds LINE_WIDTH.
      const items = idx.map((i) => (i < 0 ? ' ...' : f.format(this.data[offset + i]!)));
      const perLine = Math.max(1, Math.floor((LINE_WIDTH - indent) / (f.width() + 2)));
      const lines: string[] = [];
      for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
      return '[' + lines.join(',\n' + ' '.repeat(indent + 1)) + ']';
    }
    const parts = idx.map((i) =>
      i < 0 ? '...' : this.render(dim + 1, offset + i * this.strides[dim]!, indent + 1, summarize, f),
    );
    // Blocks of higher dimensions are separated by (rank − 1) newlines, as in torch.
    return '[' + parts.join(',' + '\n'.repeat(nd - dim - 1) + ' '.repeat(indent + 1)) + ']';
  }
}

/** torch's _add_suffixes: `, dtype=…` on the last line, or on a new line if it would pass LINE_WIDTH. */
function addSuffixes(text: string, suffixes: string[], indent: number): string {
  let out = text;
  let lastLineLength = text.length - text.lastIndexOf('\n') + 1;
  for (const suffix of suffixes) {
    if (lastLineLength + suffix.length + 2 > LINE_WIDTH) {
      out += ',\n' + ' '.repeat(indent) + suffix;
      lastLineLength = indent + suffix.length;
    } else {
      out += ', ' + suffix;
      lastLineLength += suffix.length + 2;
    }
  }
  return out + ')';
}

/** Python's f'{x:.{digits}f}': round half to even on the exact binary value, and keep the sign of −0. */
function formatFixed(x: number, digits: number): string {
  const s = roundHalfEven(Math.abs(x), digits, (v, d) => v.toFixed(d));
  return (x < 0 || Object.is(x, -0) ? '-' : '') + s;
}

/** Python's f'{x:.{digits}e}': like toExponential, with half-even ties and a two-digit exponent. */
function formatExp(x: number, digits: number): string {
  const s = roundHalfEven(Math.abs(x), digits, (v, d) => v.toExponential(d));
  const [mantissa, exp] = s.split('e') as [string, string];
  const e = Number(exp);
  return (x < 0 || Object.is(x, -0) ? '-' : '') + `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

/**
 * JavaScript's toFixed / toExponential round exact ties away from zero; Python rounds them to even.
 * `fmt(v, 100)` gives the exact digits, from which a tie is recognised and sent the other way when needed.
 */
function roundHalfEven(v: number, digits: number, fmt: (v: number, d: number) => string): string {
  const rounded = fmt(v, digits);
  const exact = fmt(v, 100);
  const [exactMantissa, exactExp] = exact.split('e');
  const point = exactMantissa!.indexOf('.');
  const tail = exactMantissa!.slice(point + 1 + digits);
  if (!/^50*$/.test(tail)) return rounded; // not a tie: JavaScript already rounded to nearest
  const kept = exactMantissa!.slice(0, digits === 0 ? point : point + 1 + digits);
  const lastDigit = Number(kept.at(-1));
  if (lastDigit % 2 === 1) return rounded; // rounding up reaches the even neighbour
  return exactExp === undefined ? kept : `${kept}e${exactExp}`; // stay on the even digit: truncate
}

function range(start: number, end: number): number[] {
  const out: number[] = [];
  for (let i = start; i < end; i++) out.push(i);
  return out;
}
