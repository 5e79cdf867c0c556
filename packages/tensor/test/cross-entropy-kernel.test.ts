/**
 * The WebAssembly cross-entropy kernel (backends/cpu/fast/cross-entropy-kernel.ts) and its exp and log
 * (fast/fdlibm.ts), bit for bit against what they replace:
 *   - wasm exp and log against Math.exp and Math.log, on random values of every magnitude, random bit
 *     patterns (NaN, ±∞, subnormals included), and the boundaries of every branch of fdlibm's algorithm;
 *   - the kernel against the reference loop crossEntropyRowsInto, for float32 and float64 logits, 1 … 114
 *     classes (odd and even), large logits (±80, ±1000), −∞ masks, rows that are all −∞, NaN and +∞,
 *     with and without the derivative, and on a sub-range of rows (the others untouched).
 */
import { describe, expect, it } from 'vitest';
import { crossEntropyKernels, crossEntropyScratchBytes } from '../src/backends/cpu/fast/cross-entropy-kernel.js';
import { fromWords } from '../src/backends/cpu/fast/fdlibm.js';
import { crossEntropyRowsInto } from '../src/backends/reference/cross-entropy.js';
import { atEachThreadCount, firstDifferences, testRng } from './helpers.js';

const PAGES = { initial: 256, maximum: 256 }; // 16 MiB
const memory = new WebAssembly.Memory({ ...PAGES, shared: true });
const k = crossEntropyKernels(memory, PAGES);
const heap = memory.buffer as unknown as ArrayBuffer;

/** The same number, the same bits (any NaN matches any NaN: JS does not promise NaN payloads). */
const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

/** The first few places where `got` and `want` differ, as readable lines (empty when none do). */
function differences(inputs: ArrayLike<number>, got: ArrayLike<number>, want: ArrayLike<number>): string[] {
  const out: string[] = [];
  for (let i = 0; i < want.length && out.length < 5; i++) {
    if (!same(got[i]!, want[i]!)) out.push(`at ${i} (input ${inputs[i]}): got ${got[i]}, want ${want[i]}`);
  }
  return out;
}

const EXP_AT = 1024;
/** Math.exp and the wasm exp of every value, by way of the memory. */
function expBoth(values: readonly number[], exp = k.exp): { got: Float64Array; want: Float64Array } {
  const n = values.length;
  const src = new Float64Array(heap, EXP_AT, n);
  const dst = new Float64Array(heap, EXP_AT + 8 * n, n);
  src.set(values);
  exp(src.byteOffset, dst.byteOffset, n);
  return { got: dst.slice(), want: Float64Array.from(values, Math.exp) };
}

/** Random doubles: uniform on [lo, hi), and with uniformly random bits. */
function uniform(n: number, lo: number, hi: number, seed: number): number[] {
  const r = testRng(seed);
  return Array.from({ length: n }, () => lo + (hi - lo) * r());
}
function randomBits(n: number, seed: number): number[] {
  const r = testRng(seed);
  const words = new Uint32Array(2 * n).map(() => Math.floor(r() * 2 ** 32));
  return Array.from(new Float64Array(words.buffer));
}
/** x and its neighbours, the doubles `steps` ulps either side. */
function around(x: number, steps = 3): number[] {
  const out: number[] = [];
  const bits = new BigInt64Array(1);
  const value = new Float64Array(bits.buffer);
  value[0] = x;
  const at = bits[0]!;
  for (let s = -steps; s <= steps; s++) {
    bits[0] = at + BigInt(s);
    out.push(value[0]!);
  }
  return out;
}
const both = (xs: number[]) => xs.flatMap((x) => [x, -x]);

describe('wasm exp', () => {
  const edges = [
    0, -0, 1, -1, 2, 0.5, Infinity, -Infinity, NaN, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE,
    ...both(around(2 ** -28)), ...both(around(2 ** -1022)), ...both(around(1e-300)),
    ...both(around(fromWords(0x3fd62e42, 0xffffffff))), ...both(around(0.5 * Math.LN2)), // |x| = ½ln2: reduce or not
    ...both(around(fromWords(0x3ff0a2b2, 0))), ...both(around(1.5 * Math.LN2)), // the k = ±1 shortcut's end
    ...both(around(1)), ...both(around(Math.LN2)), ...both(around(10 * Math.LN2)),
    ...around(fromWords(0x40862e42, 0xfefa39ef), 5), ...around(fromWords(0xc0874910, 0xd52d3051), 5), // over/underflow
    ...both(around(fromWords(0x40862e42, 0))), ...around(-708.3964185322641), ...around(-709.0895657128241), // subnormal results
    ...around(-1021 * Math.LN2), ...around(-1022 * Math.LN2), ...around(1023.5 * Math.LN2), ...around(-744.44), ...around(-745.1),
    ...both(Array.from({ length: 60 }, (_, i) => 2 ** (i - 30))),
  ];
  const cases: [string, number[]][] = [
    ['the edges of every branch', edges],
    ['x − max of the loss: [−200, 0]', uniform(20000, -200, 0, 1)],
    ['[−1, 1]', uniform(20000, -1, 1, 2)],
    ['[−750, 750] (overflow, underflow, subnormal results)', uniform(20000, -750, 750, 3)],
    ['[−2, 2]·2⁻²⁶ (around the 1 + x shortcut)', uniform(5000, -(2 ** -26), 2 ** -26, 4)],
    ['random bit patterns (NaN, ±∞, subnormals, huge)', randomBits(20000, 5)],
    ['an odd count (the last value alone)', uniform(7, -5, 5, 6)],
    ['15 values (8, then 4, 2 and 1 at a time)', uniform(15, -5, 5, 8)],
  ];
  for (const [name, values] of cases) {
    it(`equals Math.exp bit for bit: ${name}`, () => {
      const { got, want } = expBoth(values);
      expect(differences(values, got, want)).toEqual([]);
    });
  }
  it('is not trivially equal: a wrong polynomial constant would be caught', () => {
    // Math.exp rounded to float32 differs from Math.exp: the comparison above sees single-ulp errors.
    const values = uniform(100, -5, 5, 7);
    const { got } = expBoth(values);
    expect(differences(values, got, values.map((v) => Math.fround(Math.exp(v)))).length).toBeGreaterThan(0);
  });
});

describe('wasm exp for −708 ≤ x ≤ 0 (the kernel\'s usual rows)', () => {
  const edges = [
    0, -0, -1, -2, -0.5, -Number.MIN_VALUE, -(2 ** -1022), -708, ...around(-708), ...around(-(2 ** -28), 5),
    ...around(-fromWords(0x3fd62e42, 0xffffffff)), ...around(-0.5 * Math.LN2), ...around(-fromWords(0x3ff0a2b2, 0)),
    ...around(-1.5 * Math.LN2), ...around(-Math.LN2), ...around(-1021 * Math.LN2 / 1.4427),
    ...Array.from({ length: 60 }, (_, i) => -(2 ** (i - 50))),
  ].filter((x) => x <= 0 && x >= -708);
  const cases: [string, number[]][] = [
    ['the edges of its branches', edges],
    ['[−708, 0]', uniform(20000, -708, 0, 21)],
    ['[−1, 0]', uniform(20000, -1, 0, 22)],
    ['[−2⁻²⁶, 0] (around the 1 + x shortcut)', uniform(5000, -(2 ** -26), 0, 23)],
  ];
  for (const [name, values] of cases) {
    it(`equals Math.exp bit for bit: ${name}`, () => {
      const { got, want } = expBoth(values, k.expNonPositive);
      expect(differences(values, got, want)).toEqual([]);
    });
  }
});

describe('wasm log', () => {
  const edges = [
    0, -0, 1, -1, 2, 0.5, Infinity, -Infinity, NaN, Number.MIN_VALUE, 2 ** -1022, Number.MAX_VALUE, Math.E,
    ...around(1, 10), ...around(1 + 2 ** -20), ...around(1 - 2 ** -20), ...around(1 + 2 ** -19), ...around(Math.SQRT2),
    ...around(Math.SQRT1_2), ...around(2 ** -1022), ...around(5e-324 * 12345), ...around(113), ...around(2),
    ...Array.from({ length: 80 }, (_, i) => 2 ** (i * 26 - 1070)),
    ...around(fromWords(0x3ff6147a, 0)), ...around(fromWords(0x3ff6b851, 0)), // the two formulas' split
  ];
  const cases: [string, number[]][] = [
    ['the edges of every branch', edges],
    ['sums of the loss: [1, 200]', uniform(20000, 1, 200, 11)],
    ['near 1: [1 − 2⁻¹⁸, 1 + 2⁻¹⁸]', uniform(20000, 1 - 2 ** -18, 1 + 2 ** -18, 12)],
    ['[0, 4]', uniform(20000, 0, 4, 13)],
    ['random bit patterns', randomBits(20000, 14)],
    ['subnormals', uniform(5000, 0, 2 ** -1022, 15)],
  ];
  for (const [name, values] of cases) {
    it(`equals Math.log bit for bit: ${name}`, () => {
      const got = values.map((v) => k.log(v));
      expect(differences(values, got, values.map(Math.log))).toEqual([]);
    });
  }
});

type Dtype = 'float32' | 'float64';

/** A bump allocator over the test memory, past the exp scratch: byte addresses 64-aligned + `skew`. */
function regions() {
  let top = 1 << 20;
  return (bytes: number, skew = 0): number => {
    const at = Math.ceil(top / 64) * 64 + skew;
    top = at + bytes + 64;
    return at;
  };
}
/** A float array of the dtype over the test memory. */
const floats = (dtype: Dtype, at: number, n: number) => (dtype === 'float32' ? new Float32Array(heap, at, n) : new Float64Array(heap, at, n));
const width = (dtype: Dtype) => (dtype === 'float32' ? 4 : 8);

/** Logits with the extremes the loss can meet, row by row (`kind` picks each row's flavour). */
function logits(rows: number, classes: number, seed: number, scale: number): number[] {
  const r = testRng(seed);
  const out: number[] = [];
  for (let row = 0; row < rows; row++) {
    const kind = row % 10;
    for (let j = 0; j < classes; j++) {
      let v = scale * (2 * r() - 1);
      if (kind === 1 && r() < 0.3) v = -Infinity; // a mask
      if (kind === 2) v = -Infinity; // everything masked
      if (kind === 3 && j === classes >> 1) v = NaN;
      if (kind === 4 && j === 0) v = Infinity;
      if (kind === 5) v = r() < 0.5 ? 80 : -80;
      if (kind === 6) v = 1000 * (2 * r() - 1); // exp underflows to 0 for most classes
      if (kind === 7) v = j === 0 ? 0 : -0; // signed zeros
      if (kind === 8) v = j % 2 ? j * 2 ** -31 : -700 * r(); // x − max within 2⁻²⁸ of 0, and down to −700
      out.push(v);
    }
  }
  return out;
}

interface Run {
  losses: Float64Array;
  dloss: Float32Array | Float64Array;
}

function reference(dtype: Dtype, x: number[], targets: Int32Array, rows: number, classes: number, withDerivative: boolean): Run {
  const Kind = dtype === 'float32' ? Float32Array : Float64Array;
  const losses = new Float64Array(rows);
  const dloss = new Kind(rows * classes).fill(7);
  crossEntropyRowsInto(Kind.from(x), targets, rows, classes, losses, withDerivative ? dloss : null);
  return { losses, dloss };
}

/** The kernel over rows [rowStart, rowEnd); every other row's outputs keep the sentinel 7. */
function wasm(
  dtype: Dtype, x: number[], targets: Int32Array, rows: number, classes: number, withDerivative: boolean,
  rowStart = 0, rowEnd = rows, skew = 0,
): Run {
  const alloc = regions();
  const n = rows * classes;
  const xs = floats(dtype, alloc(width(dtype) * n, skew), n);
  xs.set(x);
  const ts = new Int32Array(heap, alloc(4 * rows), rows);
  ts.set(targets);
  const losses = new Float64Array(heap, alloc(8 * rows), rows).fill(7);
  const dloss = floats(dtype, alloc(width(dtype) * n, skew ? 4 : 0), n).fill(7);
  const scratch = new Float64Array(heap, alloc(crossEntropyScratchBytes(classes)), crossEntropyScratchBytes(classes) / 8);
  const run = dtype === 'float32' ? k.crossEntropyRowsF32 : k.crossEntropyRowsF64;
  run(xs.byteOffset, ts.byteOffset, losses.byteOffset, dloss.byteOffset, scratch.byteOffset, rowStart, rowEnd, classes, withDerivative ? 1 : 0);
  return { losses: losses.slice(), dloss: dloss.slice() };
}

function targetsFor(rows: number, classes: number, seed: number): Int32Array {
  const r = testRng(seed);
  return Int32Array.from({ length: rows }, () => Math.floor(r() * classes));
}

describe('the wasm cross-entropy kernel', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    for (const classes of [1, 2, 3, 4, 5, 12, 15, 113, 114]) { // every mix of the 8-, 4-, 2- and 1-class steps
      for (const withDerivative of [true, false]) {
        it(`equals the reference loop bit for bit: ${dtype}, ${classes} classes, ${withDerivative ? 'with' : 'without'} dloss`, () => {
          const rows = 45;
          const x = logits(rows, classes, 100 + classes, classes > 10 ? 30 : 3);
          const t = targetsFor(rows, classes, 200 + classes);
          const want = reference(dtype, x, t, rows, classes, withDerivative);
          const got = wasm(dtype, x, t, rows, classes, withDerivative, 0, rows, dtype === 'float32' ? 4 : 0);
          expect(differences(t, got.losses, want.losses)).toEqual([]);
          expect(differences(x, got.dloss, want.dloss)).toEqual([]);
        });
      }
    }
  }

  it('the training step\'s shape, [3830, 113] float32: the same bits', () => {
    const [rows, classes] = [3830, 113];
    const x = uniform(rows * classes, -12, 12, 300);
    const t = targetsFor(rows, classes, 301);
    const want = reference('float32', x, t, rows, classes, true);
    const got = wasm('float32', x, t, rows, classes, true);
    expect(differences(t, got.losses, want.losses)).toEqual([]);
    expect(differences(x, got.dloss, want.dloss)).toEqual([]);
  });

  it('signed zeros: a zero max, −0 before +0, and a lone zero as the target (where its sign reaches the loss)', () => {
    for (const classes of [4, 5]) {
      const pad = (row: number[]) => [...row, ...new Array(classes - row.length).fill(-900)];
      const rows = [[-0, -900, -900], [-900, 0, -900], [-0, 0, -900], [0, -0, -900], [-0, -0, 0, -900], [-0, -5, 0]].map(pad);
      const x = rows.flat();
      const t = Int32Array.from([0, 1, 0, 1, 1, 2]);
      for (const dtype of ['float32', 'float64'] as const) {
        const want = reference(dtype, x, t, rows.length, classes, true);
        const got = wasm(dtype, x, t, rows.length, classes, true);
        expect(differences(t, got.losses, want.losses)).toEqual([]);
        expect(differences(x, got.dloss, want.dloss)).toEqual([]);
      }
    }
  });

  it('computes only rows rowStart … rowEnd − 1 (so rows can be split between threads)', () => {
    const [rows, classes] = [10, 7];
    const x = logits(rows, classes, 400, 4);
    const t = targetsFor(rows, classes, 401);
    const want = reference('float64', x, t, rows, classes, true);
    const got = wasm('float64', x, t, rows, classes, true, 3, 8);
    for (let r = 0; r < rows; r++) {
      const inside = r >= 3 && r < 8;
      expect(got.losses[r]).toBe(inside ? want.losses[r] : 7);
      expect(Array.from(got.dloss.slice(r * classes, (r + 1) * classes))).toEqual(
        inside ? Array.from(want.dloss.slice(r * classes, (r + 1) * classes)) : new Array(classes).fill(7));
    }
  });

  it('a target out of range gives a NaN loss and writes nothing outside its row', () => {
    const [rows, classes] = [3, 4];
    const x = uniform(rows * classes, -1, 1, 500);
    const t = Int32Array.from([1, 9, -1]);
    const got = wasm('float32', x, t, rows, classes, true);
    const want = reference('float32', x, Int32Array.from([1, 0, 0]), rows, classes, true);
    expect(got.losses[0]).toBe(want.losses[0]);
    expect(Number.isNaN(got.losses[1]!) && Number.isNaN(got.losses[2]!)).toBe(true);
    // Without the −1 of the one-hot, rows 1 and 2 hold plain softmax values, all in (0, 1).
    for (const v of got.dloss.slice(classes)) expect(v > 0 && v < 1).toBe(true);
  });
});

describe('captured crossEntropyRows split across the threads by rows', () => {
  it('gives the eager loop\'s bits at 1, 2 and 3 threads (10,000 × 113: over 1M elements, split even with the workers asleep)', async () => {
    const { CpuBackend, crossEntropyRows, tensor } = await import('@grok/tensor');
    const cpu = new CpuBackend();
    const [rows, classes] = [10_000, 113];
    const rng = testRng(77);
    const x = tensor(Array.from({ length: rows * classes }, () => 20 * rng() - 10), { shape: [rows, classes], backend: cpu });
    const t = tensor(Array.from({ length: rows }, () => Math.floor(rng() * classes)), { dtype: 'int32', backend: cpu });
    const eager = crossEntropyRows(x, t, { withDerivative: true });
    await atEachThreadCount([1, 2, 3], (threads) => {
      cpu.beginCapture();
      const { losses, dloss } = crossEntropyRows(x, t, { withDerivative: true });
      cpu.endCapture([losses, dloss!]);
      expect(firstDifferences([losses.data, dloss!.data], [eager.losses.data, eager.dloss!.data]), `${threads} threads`).toEqual([-1, -1]);
    });
  });
});
