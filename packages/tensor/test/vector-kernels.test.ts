/**
 * The WebAssembly SIMD vector kernels against plain float32 loops, bit for bit: every size class of the
 * 4-lane body and its scalar tail (n = 0 … 5, 17, 1000, 3830·512), pointers misaligned by 4, 8 and 12 bytes
 * (each operand differently), NaN, ±0 and negative inputs, and guard floats around every output that must
 * stay untouched.
 */
import { describe, expect, it } from 'vitest';
import { type Ptr, emitVectorModule, vectorKernels } from '../src/backends/cpu/fast/vector-kernels.js';

const PAGES = { initial: 1024, maximum: 1024 }; // 64 MiB: the big cases need ~40 MB
const memory = new WebAssembly.Memory({ ...PAGES, shared: true });
const k = vectorKernels(memory, PAGES);
const heapF32 = new Float32Array(memory.buffer);
const heapI32 = new Int32Array(memory.buffer);

const GUARD = 4; // floats of sentinel on each side of every output
const SENTINEL = 12345.5;

/** A bump allocator over the test memory; `reset` before each case. */
let top = 64;
const reset = () => { top = 64; };
/** A fresh region of n floats whose address is `misalign` bytes past a 64-byte boundary, guards around it. */
function alloc(n: number, misalign: number): Ptr {
  const start = Math.ceil((top + GUARD * 4) / 64) * 64 + misalign;
  top = start + 4 * (n + GUARD);
  heapF32.fill(SENTINEL, start / 4 - GUARD, start / 4);
  heapF32.fill(SENTINEL, start / 4 + n, start / 4 + n + GUARD);
  return start;
}
function place(data: Float32Array, misalign: number): Ptr {
  const p = alloc(data.length, misalign);
  heapF32.set(data, p / 4);
  return p;
}
function placeIndex(data: Int32Array): Ptr {
  const p = alloc(data.length, 0);
  heapI32.set(data, p / 4);
  return p;
}
/** The n floats at p, after checking that the guards around them were not written. */
function read(p: Ptr, n: number): Float32Array {
  for (let g = 1; g <= GUARD; g++) {
    expect(heapF32[p / 4 - g], 'guard before').toBe(SENTINEL);
    expect(heapF32[p / 4 + n - 1 + g], 'guard after').toBe(SENTINEL);
  }
  return heapF32.slice(p / 4, p / 4 + n);
}

/** Deterministic data in [-1, 1) with zeros, negative zeros and (if asked) NaNs sprinkled in. */
function randomData(n: number, seed: number, nan = true): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const r = s % 23;
    out[i] = r === 0 ? 0 : r === 1 ? -0 : r === 2 && nan ? NaN : s / 2 ** 31 - 1;
  }
  return out;
}
function randomIndex(n: number, below: number, seed: number): Int32Array {
  const r = randomData(n, seed, false);
  return Int32Array.from(r, (x) => Math.min(below - 1, Math.floor(((x + 1) / 2) * below)));
}

/** Exact equality: same bits everywhere (so +0 ≠ −0), except that any NaN equals any NaN. */
function expectSameBits(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== e[i] && !(Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) {
      expect.fail(`element ${i} of ${a.length}: got ${actual[i]} (0x${a[i]!.toString(16)}), want ${expected[i]} (0x${e[i]!.toString(16)})`);
    }
  }
}

const SIZES = [0, 1, 2, 3, 4, 5, 7, 8, 17, 1000, 3830 * 512];
const MISALIGN = [0, 4, 8, 12];
/** Operand j of a case misaligned by `m` sits at (m + 4j) mod 16: operands are misaligned relative to each other too. */
const skew = (m: number, j: number) => (m + 4 * j) % 16;
const cases = SIZES.flatMap((n) => MISALIGN.map((m) => [n, m] as const));

// The scalar that scale and addScaled use (not a float32: the kernel rounds it as Math.fround does).
const S = -0.3712345678;
const sF = Math.fround(S);

type Binary = (a: number, b: number) => number;
const binaries: [name: 'add' | 'sub' | 'mul', op: Binary][] = [
  ['add', (a, b) => a + b],
  ['sub', (a, b) => a - b],
  ['mul', (a, b) => a * b],
];

describe('vector kernels: elementwise', () => {
  it('emits a valid module, and one instance per memory', () => {
    expect(WebAssembly.validate(emitVectorModule(PAGES))).toBe(true);
    expect(vectorKernels(memory, PAGES)).toBe(k);
  });

  it.each(cases)('relu, n = %i, misaligned by %i', (n, m) => {
    reset();
    const x = randomData(n, n + 1);
    const px = place(x, skew(m, 0));
    const out = alloc(n, skew(m, 1));
    k.relu(px, out, n);
    expectSameBits(read(out, n), x.map((v) => (v > 0 ? v : 0)));
  });

  it.each(cases)('reluBackward, n = %i, misaligned by %i', (n, m) => {
    reset();
    const x = randomData(n, n + 2);
    const g = randomData(n, n + 3);
    const [px, pg, out] = [place(x, skew(m, 0)), place(g, skew(m, 1)), alloc(n, skew(m, 2))];
    k.reluBackward(px, pg, out, n);
    expectSameBits(read(out, n), g.map((v, i) => (x[i]! > 0 ? v : 0)));
  });

  it.each(binaries.flatMap(([name, op]) => cases.map(([n, m]) => [name, n, m, op] as const)))(
    '%s, n = %i, misaligned by %i', (name, n, m, op) => {
      reset();
      const a = randomData(n, n + 4);
      const b = randomData(n, n + 5);
      const [pa, pb, out] = [place(a, skew(m, 0)), place(b, skew(m, 1)), alloc(n, skew(m, 2))];
      k[name](pa, pb, out, n);
      expectSameBits(read(out, n), a.map((v, i) => op(v, b[i]!))); // stored into a Float32Array: rounded once
    });

  it.each(cases)('scale, n = %i, misaligned by %i', (n, m) => {
    reset();
    const a = randomData(n, n + 6);
    const [pa, out] = [place(a, skew(m, 0)), alloc(n, skew(m, 1))];
    k.scale(pa, S, out, n);
    expectSameBits(read(out, n), a.map((v) => v * sF));
  });

  it.each(cases)('addScaled, n = %i, misaligned by %i', (n, m) => {
    reset();
    const a = randomData(n, n + 7);
    const b = randomData(n, n + 8);
    const [pa, pb, out] = [place(a, skew(m, 0)), place(b, skew(m, 1)), alloc(n, skew(m, 2))];
    k.addScaled(pa, pb, S, out, n);
    expectSameBits(read(out, n), a.map((v, i) => v + Math.fround(sF * b[i]!)));
  });

  it.each(cases)('copy, n = %i, misaligned by %i', (n, m) => {
    reset();
    const a = randomData(n, n + 9);
    const [pa, out] = [place(a, skew(m, 0)), alloc(n, skew(m, 1))];
    k.copy(pa, out, n);
    expectSameBits(read(out, n), a);
  });

  it('works in place (out = an input)', () => {
    reset();
    const n = 1003;
    const a = randomData(n, 10);
    const b = randomData(n, 11);
    const [pa, pb] = [place(a, 4), place(b, 8)];
    k.add(pa, pb, pa, n);
    const sum = a.map((v, i) => v + b[i]!);
    expectSameBits(read(pa, n), sum);
    k.relu(pa, pa, n);
    expectSameBits(read(pa, n), sum.map((v) => (v > 0 ? v : 0)));
  });
});

const SHAPES: [rows: number, cols: number][] = [
  [0, 5], [3, 0], [1, 1], [7, 1], [5, 3], [4, 4], [3, 5], [2, 17], [9, 113], [64, 128], [3830, 512],
];
const shapeCases = SHAPES.flatMap(([r, c]) => MISALIGN.map((m) => [r, c, m] as const));

/** Σ over rows of a [rows, cols] array, in row order, with float32 rounding after every add. */
function columnSumReference(x: Float32Array, rows: number, cols: number): Float32Array {
  const sum = new Float32Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) sum[c] = sum[c]! + x[r * cols + c]!;
  return sum;
}

describe('vector kernels: rows and columns', () => {
  it.each(shapeCases)('addRowBias and addRowBiasRelu, [%i, %i], misaligned by %i', (rows, cols, m) => {
    reset();
    const n = rows * cols;
    const x = randomData(n, n + 12);
    const bias = randomData(cols, cols + 13);
    const [px, pb, out, outRelu] = [place(x, skew(m, 0)), place(bias, skew(m, 1)), alloc(n, skew(m, 2)), alloc(n, skew(m, 3))];
    k.addRowBias(px, pb, out, rows, cols);
    k.addRowBiasRelu(px, pb, outRelu, rows, cols);
    const want = x.map((v, i) => v + bias[i % cols]!);
    expectSameBits(read(out, n), want);
    expectSameBits(read(outRelu, n), want.map((v) => (v > 0 ? v : 0)));
  });

  it.each(shapeCases)('scaleRows, [%i, %i], misaligned by %i', (rows, cols, m) => {
    reset();
    const n = rows * cols;
    const x = randomData(n, n + 25);
    const s = randomData(rows, rows + 26);
    const [px, ps, out] = [place(x, skew(m, 0)), place(s, skew(m, 1)), alloc(n, skew(m, 2))];
    k.scaleRows(px, ps, out, rows, cols);
    expectSameBits(read(out, n), x.map((v, i) => v * s[Math.floor(i / cols)]!)); // stored into a Float32Array: rounded once
  });

  it.each(shapeCases)('reluBackwardColumnSum, [%i, %i], misaligned by %i', (rows, cols, m) => {
    reset();
    const n = rows * cols;
    const x = randomData(n, n + 14);
    const g = randomData(n, n + 15, false); // a NaN in g would make its whole column NaN
    const [px, pg, out, colSum] = [place(x, skew(m, 0)), place(g, skew(m, 1)), alloc(n, skew(m, 2)), alloc(cols, skew(m, 3))];
    heapF32.fill(7, colSum / 4, colSum / 4 + cols); // garbage: the kernel must start from 0
    k.reluBackwardColumnSum(px, pg, out, colSum, rows, cols);
    const masked = g.map((v, i) => (x[i]! > 0 ? v : 0));
    expectSameBits(read(out, n), masked);
    expectSameBits(read(colSum, cols), columnSumReference(masked, rows, cols));
  });

  it.each(shapeCases)('columnSum, [%i, %i], misaligned by %i', (rows, cols, m) => {
    reset();
    const x = randomData(rows * cols, rows + cols, false);
    const [px, out] = [place(x, skew(m, 0)), alloc(cols, skew(m, 1))];
    heapF32.fill(7, out / 4, out / 4 + cols);
    k.columnSum(px, out, rows, cols);
    expectSameBits(read(out, cols), columnSumReference(x, rows, cols));
  });

  it('columnSum propagates a NaN to its column only', () => {
    reset();
    const [rows, cols] = [6, 9];
    const x = randomData(rows * cols, 16, false);
    x[3 * cols + 5] = NaN;
    const [px, out] = [place(x, 4), alloc(cols, 8)];
    k.columnSum(px, out, rows, cols);
    const got = read(out, cols);
    expect(Array.from(got, Number.isNaN)).toEqual(Array.from({ length: cols }, (_, c) => c === 5));
    expectSameBits(got, columnSumReference(x, rows, cols));
  });
});

const GATHER: [nIndex: number, cols: number, vocab: number][] = [
  [0, 4, 3], [1, 1, 1], [5, 3, 2], [17, 4, 5], [100, 113, 7], [3830, 128, 113],
];
const gatherCases = GATHER.flatMap(([n, c, v]) => MISALIGN.map((m) => [n, c, v, m] as const));

describe('vector kernels: gathers and scatter-adds', () => {
  it.each(gatherCases)('gatherRows, %i indices of %i columns from %i rows, misaligned by %i', (nIndex, cols, vocab, m) => {
    reset();
    const table = randomData(vocab * cols, vocab + cols);
    const index = randomIndex(nIndex, vocab, nIndex + 17);
    const [pt, pi, out] = [place(table, skew(m, 0)), placeIndex(index), alloc(nIndex * cols, skew(m, 1))];
    k.gatherRows(pt, pi, out, nIndex, cols, cols);
    const want = new Float32Array(nIndex * cols);
    index.forEach((row, i) => want.set(table.subarray(row * cols, (row + 1) * cols), i * cols));
    expectSameBits(read(out, nIndex * cols), want);
  });

  it.each(gatherCases)('scatterAddRows, %i indices of %i columns into %i rows, misaligned by %i', (nIndex, cols, vocab, m) => {
    reset();
    const src = randomData(nIndex * cols, nIndex + cols, false);
    const index = randomIndex(nIndex, vocab, nIndex + 18); // repeats: more indices than rows
    const before = randomData(vocab * cols, vocab + 19, false); // not zero: the kernel adds to what is there
    const [ps, pi, out] = [place(src, skew(m, 0)), placeIndex(index), place(before, skew(m, 1))];
    k.scatterAddRows(ps, pi, out, nIndex, cols, cols);
    const want = before.slice();
    index.forEach((row, i) => {
      for (let c = 0; c < cols; c++) want[row * cols + c] = want[row * cols + c]! + src[i * cols + c]!;
    });
    expectSameBits(read(out, vocab * cols), want);
  });

  it.each(gatherCases)('indexAddRows zeroes out first, %i indices of %i columns into %i rows, misaligned by %i', (nIndex, cols, vocab, m) => {
    reset();
    const src = randomData(nIndex * cols, nIndex + cols + 1, false);
    const index = randomIndex(nIndex, vocab, nIndex + 19);
    const [ps, pi, out] = [place(src, skew(m, 0)), placeIndex(index), place(randomData(vocab * cols, 5), skew(m, 1))]; // garbage, NaNs too
    k.indexAddRows(ps, pi, out, nIndex, cols, cols, vocab);
    const want = new Float32Array(vocab * cols);
    index.forEach((row, i) => {
      for (let c = 0; c < cols; c++) want[row * cols + c] = want[row * cols + c]! + src[i * cols + c]!;
    });
    expectSameBits(read(out, vocab * cols), want);
  });

  it('gatherRows and scatterAddRows on a column slice (stride > cols) touch only those columns', () => {
    reset();
    const [nIndex, stride, vocab, c0, width] = [37, 13, 5, 3, 6];
    const table = randomData(vocab * stride, 20);
    const src = randomData(nIndex * stride, 21, false);
    const index = randomIndex(nIndex, vocab, 22);
    const before = randomData(vocab * stride, 23, false);
    const untouched = randomData(nIndex * stride, 24, false);
    const [pt, pi, ps] = [place(table, 4), placeIndex(index), place(src, 8)];
    const [gathered, scattered] = [place(untouched, 12), place(before, 0)];
    k.gatherRows(pt + 4 * c0, pi, gathered + 4 * c0, nIndex, width, stride);
    k.scatterAddRows(ps + 4 * c0, pi, scattered + 4 * c0, nIndex, width, stride);
    const [wantGathered, wantScattered] = [untouched.slice(), before.slice()];
    index.forEach((row, i) => {
      for (let c = c0; c < c0 + width; c++) {
        wantGathered[i * stride + c] = table[row * stride + c]!;
        wantScattered[row * stride + c] = wantScattered[row * stride + c]! + src[i * stride + c]!;
      }
    });
    expectSameBits(read(gathered, nIndex * stride), wantGathered);
    expectSameBits(read(scattered, vocab * stride), wantScattered);
  });
});
