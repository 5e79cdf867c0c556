/**
 * Emits the float32 vector kernels of the training step as one WebAssembly SIMD module over a shared memory:
 * ReLU and its backward, row-bias adds, column sums, elementwise arithmetic, row gathers and scatter-adds.
 *
 * Every kernel takes byte pointers into the memory (multiples of 4; 16-byte alignment is not assumed: a
 * v128.load at any address is legal, its alignment immediate is only a hint) and counts in elements. The
 * elementwise loops run four lanes at a time (f32x4) and finish the last n % 4 elements one by one. Each
 * kernel's arithmetic is written once, against a `Width`, and emitted twice: as the loop body and as its tail.
 * The row kernels (bias adds, column sums, gathers) call an elementwise kernel once per row.
 *
 * Each kernel's work splits into pieces that are calls of the same kernel with other arguments, which is how
 * the thread pool runs them (parallel.ts): elementwise ones by ranges of elements (pointers moved on, n made
 * smaller), row ones by ranges of rows, and gathers and scatter-adds by columns too (their `stride`).
 *
 * Results are bit-for-bit those of a plain float32 loop: every lane operation rounds like Math.fround of the
 * JS expression, nothing is fused (no relaxed madd), and column sums add rows in order, as a sum over axis 0.
 */
import type { MemoryPages } from './wasm-arena.js';
import { compiledOnce, instanceOver } from './instances.js';
import { type Code, ModuleBuilder, type ValType, control, f32, f32x4, forRange, i32, local, select, seq, type, v128 } from './wasm-emitter.js';

/** A byte address in the shared memory, a multiple of 4. */
export type Ptr = number;

/**
 * The kernels, as the instance exports them. Arrays are float32 unless said otherwise; `n`, `rows`, `cols`
 * and `nIndex` count elements. Outputs may be the very same array as an input of the same shape (in place),
 * but must not otherwise overlap one (except `copy`, forward, with dst ≤ src). Nothing is bounds-checked:
 * an address past the memory traps, and a wrong index silently reads or writes another row.
 */
export interface VectorKernels {
  /** out = x > 0 ? x : 0 (so NaN → 0). */
  relu(x: Ptr, out: Ptr, n: number): void;
  /** out = x > 0 ? g : 0. */
  reluBackward(x: Ptr, g: Ptr, out: Ptr, n: number): void;
  /** out[r, c] = x[r, c] + bias[c]. */
  addRowBias(x: Ptr, bias: Ptr, out: Ptr, rows: number, cols: number): void;
  /** out = relu(x + bias), bias added per row as in addRowBias, in one pass. */
  addRowBiasRelu(x: Ptr, bias: Ptr, out: Ptr, rows: number, cols: number): void;
  /** out = x > 0 ? g : 0 and colSum[c] = Σ_r out[r, c] (rows added in order): ReLU backward and bias gradient. */
  reluBackwardColumnSum(x: Ptr, g: Ptr, out: Ptr, colSum: Ptr, rows: number, cols: number): void;
  /** out[c] = Σ_r x[r, c], rows added in order. */
  columnSum(x: Ptr, out: Ptr, rows: number, cols: number): void;
  /** out = a + b. */
  add(a: Ptr, b: Ptr, out: Ptr, n: number): void;
  /** out = a − b. */
  sub(a: Ptr, b: Ptr, out: Ptr, n: number): void;
  /** out = a · b. */
  mul(a: Ptr, b: Ptr, out: Ptr, n: number): void;
  /** out = a · s (s rounded to float32). */
  scale(a: Ptr, s: number, out: Ptr, n: number): void;
  /** out = a + s · b (the product rounded, then the sum: not fused). */
  addScaled(a: Ptr, b: Ptr, s: number, out: Ptr, n: number): void;
  /** dst = src, n floats. */
  copy(src: Ptr, dst: Ptr, n: number): void;
  /** out[r, c] = x[r, c] · s[r]: each row scaled by its own factor (a [rows, 1] operand broadcast along rows). */
  scaleRows(x: Ptr, s: Ptr, out: Ptr, rows: number, cols: number): void;
  /**
   * out[i, :] = table[index[i], :]; index is int32, out is [nIndex, ·]. `cols` floats of each row are copied,
   * and rows of both arrays lie `stride` floats apart (stride = cols for whole rows; more for a column slice).
   */
  gatherRows(table: Ptr, index: Ptr, out: Ptr, nIndex: number, cols: number, stride: number): void;
  /**
   * out[index[i], :] += src[i, :] for i in order (repeated indices accumulate); out is not zeroed first.
   * `cols` and `stride` as in gatherRows: with a stride, a call can work on some columns only, and each
   * destination row still takes its src rows in index order (a split by i would change that order).
   */
  scatterAddRows(src: Ptr, index: Ptr, out: Ptr, nIndex: number, cols: number, stride: number): void;
  /** indexAdd along axis 0: zeroes `cols` floats of each of out's `outRows` rows, then scatterAddRows. */
  indexAddRows(src: Ptr, index: Ptr, out: Ptr, nIndex: number, cols: number, stride: number, outRows: number): void;
}

export type { MemoryPages } from './wasm-arena.js';

const { get, set } = local;
const c = i32.const;
const inc = (x: number, by: Code) => set(x, i32.add(get(x), by));

/** The same arithmetic at two widths: four lanes for the loop body, one for its tail. */
interface Width {
  bytes: number;
  type: ValType;
  load(addr: Code): Code;
  store(addr: Code, value: Code): Code;
  add(x: Code, y: Code): Code;
  sub(x: Code, y: Code): Code;
  mul(x: Code, y: Code): Code;
  zero(): Code;
  /**
   * x > 0 ? v : 0, lane by lane, so a NaN x gives 0 (f32x4.max would propagate it). Operands are evaluated
   * twice for the scalar form: pass local.gets.
   */
  ifPositive(x: Code, v: Code): Code;
}

const FOUR: Width = {
  bytes: 16,
  type: type.v128,
  load: (addr) => v128.load(addr),
  store: (addr, value) => v128.store(addr, value),
  add: f32x4.add,
  sub: f32x4.sub,
  mul: f32x4.mul,
  zero: v128.zero,
  // The comparison's mask is all ones where x > 0: and-ing keeps v there and clears it (to +0) elsewhere.
  ifPositive: (x, v) => v128.and(v, f32x4.gt(x, v128.zero())),
};

const ONE: Width = {
  bytes: 4,
  type: type.f32,
  load: (addr) => f32.load(addr),
  store: (addr, value) => f32.store(addr, value),
  add: f32.add,
  sub: f32.sub,
  mul: f32.mul,
  zero: () => f32.const(0),
  ifPositive: (x, v) => select(v, f32.const(0), f32.gt(x, f32.const(0))),
};

const PTR = type.i32;
const F32 = type.f32;

/**
 * A function (params..., n) that runs `body` for each group of 4 elements, then for each of the last n % 4.
 * `body` gets, per parameter, the address of the current element (a pointer) or the scalar at the current
 * width (an f32, splatted once before the loop), and a scratch local of the width's type.
 */
function elementwise(
  m: ModuleBuilder, name: string, params: readonly ValType[], body: (w: Width, args: Code[], tmp: number) => Code, exported = true,
): number {
  const f = m.function({ name, params: [...params, type.i32], exported });
  const n = params.length;
  const [i, end, end4] = [f.local(type.i32), f.local(type.i32), f.local(type.i32)];
  const splat = params.map((t) => (t === F32 ? f.local(type.v128) : -1));
  const tmp = { four: f.local(type.v128), one: f.local(type.f32) };
  const args = (w: Width) =>
    params.map((t, p) => (t === PTR ? i32.add(get(p), get(i)) : w === FOUR ? get(splat[p]!) : get(p)));
  f.body = seq(
    ...params.map((t, p) => (t === F32 ? set(splat[p]!, f32x4.splat(get(p))) : [])),
    set(end, i32.shl(get(n), c(2))), // i runs over byte offsets
    set(end4, i32.and(get(end), c(-16))),
    forRange(i, c(0), get(end4), c(16), body(FOUR, args(FOUR), tmp.four)),
    forRange(i, get(end4), get(end), c(4), body(ONE, args(ONE), tmp.one)),
  );
  return f.index;
}

/**
 * A function (pointers..., rows, cols) that runs `prologue` once, then `perRow` for r = 0, 1, …, rows − 1 with
 * each pointer marked true in `advances` moved on r rows (r·cols floats) and the others left where they are.
 */
function byRows(
  m: ModuleBuilder, name: string, advances: readonly boolean[],
  perRow: (pointers: Code[], cols: Code) => Code, prologue: (pointers: Code[], cols: Code) => Code = () => [],
): void {
  const f = m.function({ name, params: [...advances.map(() => PTR), type.i32, type.i32], exported: true });
  const [rows, cols] = [advances.length, advances.length + 1];
  const [r, rowBytes] = [f.local(type.i32), f.local(type.i32)];
  const pointers = advances.map((_, p) => get(p));
  f.body = seq(
    prologue(pointers, get(cols)),
    set(rowBytes, i32.shl(get(cols), c(2))),
    forRange(r, c(0), get(rows), c(1),
      perRow(pointers, get(cols)),
      ...advances.map((moves, p) => (moves ? inc(p, get(rowBytes)) : [])),
    ),
  );
}

/**
 * A function (src, index, other, nIndex, cols, stride) that runs `body` over `cols` floats of row i of one
 * array and row index[i] of the other, for each i in order (rows `stride` floats apart); `indexed` says which
 * of the two arrays index[i] picks from: src (a gather) or other (a scatter). `body` gets the two element
 * addresses, at four lanes for the first cols − cols % 4 floats and then at one. The loop is written out
 * here rather than calling an elementwise kernel per row: with rows of 16 or 32 floats the call and its
 * set-up cost as much as the row's work.
 */
function byIndex(
  m: ModuleBuilder, name: string, indexed: 'src' | 'other', body: (w: Width, pickedAt: Code, rowAt: Code) => Code, zeroOther = false,
): void {
  // With zeroOther, one more parameter: other's row count, whose `cols` floats per row are zeroed first.
  const f = m.function({ name, params: [PTR, PTR, PTR, type.i32, type.i32, type.i32, ...(zeroOther ? [type.i32] : [])], exported: true });
  const [src, index, other, nIndex, cols, stride, otherRows] = [0, 1, 2, 3, 4, 5, 6];
  const [i, j, rowBytes, end, end4, picked, row] = Array.from({ length: 7 }, () => f.local(type.i32)) as number[];
  const [pickFrom, walk] = indexed === 'src' ? [src, other] : [other, src];
  const at = (base: number) => i32.add(get(base), get(j));
  const zeroAt = (w: Width) => w.store(at(row), w.zero());
  f.body = seq(
    set(rowBytes, i32.shl(get(stride), c(2))),
    set(end, i32.shl(get(cols), c(2))), // j runs over byte offsets within a row
    set(end4, i32.and(get(end), c(-16))),
    zeroOther
      ? seq(set(row, get(other)), forRange(i, c(0), get(otherRows), c(1),
        forRange(j, c(0), get(end4), c(16), zeroAt(FOUR)),
        forRange(j, get(end4), get(end), c(4), zeroAt(ONE)),
        inc(row, get(rowBytes))))
      : [],
    set(row, get(walk)),
    forRange(i, c(0), get(nIndex), c(1),
      set(picked, i32.add(get(pickFrom), i32.mul(i32.load(get(index)), get(rowBytes)))),
      forRange(j, c(0), get(end4), c(16), body(FOUR, at(picked), at(row))),
      forRange(j, get(end4), get(end), c(4), body(ONE, at(picked), at(row))),
      inc(row, get(rowBytes)),
      inc(index, c(4)),
    ),
  );
}

export function emitVectorModule(memoryPages: MemoryPages): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory({ module: 'env', name: 'memory', ...memoryPages, shared: memoryPages.shared ?? true });

  // ---- Elementwise ----
  elementwise(m, 'relu', [PTR, PTR], (w, [x, out], t) => seq(set(t, w.load(x)), w.store(out, w.ifPositive(get(t), get(t)))));
  // Masks computed from x, values from g: x is loaded into t only because the scalar select reads it twice.
  elementwise(m, 'reluBackward', [PTR, PTR, PTR], (w, [x, g, out], t) =>
    seq(set(t, w.load(x)), w.store(out, w.ifPositive(get(t), w.load(g)))));
  const add = elementwise(m, 'add', [PTR, PTR, PTR], (w, [a, b, out]) => w.store(out, w.add(w.load(a), w.load(b))));
  elementwise(m, 'sub', [PTR, PTR, PTR], (w, [a, b, out]) => w.store(out, w.sub(w.load(a), w.load(b))));
  elementwise(m, 'mul', [PTR, PTR, PTR], (w, [a, b, out]) => w.store(out, w.mul(w.load(a), w.load(b))));
  const scale = elementwise(m, 'scale', [PTR, F32, PTR], (w, [a, s, out]) => w.store(out, w.mul(w.load(a), s)));
  elementwise(m, 'addScaled', [PTR, PTR, F32, PTR], (w, [a, b, s, out]) => w.store(out, w.add(w.load(a), w.mul(s, w.load(b)))));
  const copy = elementwise(m, 'copy', [PTR, PTR], (w, [src, dst]) => w.store(dst, w.load(src)));

  // ---- Per-row steps of the row kernels (not exported) ----
  // out = relu(a + b)
  const addRelu = elementwise(m, 'addRelu', [PTR, PTR, PTR], (w, [a, b, out], t) =>
    seq(set(t, w.add(w.load(a), w.load(b))), w.store(out, w.ifPositive(get(t), get(t)))), false);
  // out = x > 0 ? g : 0; acc += out
  const reluBackwardAccumulate = elementwise(m, 'reluBackwardAccumulate', [PTR, PTR, PTR, PTR], (w, [x, g, out, acc], t) =>
    seq(
      set(t, w.load(x)),
      set(t, w.ifPositive(get(t), w.load(g))),
      w.store(out, get(t)),
      w.store(acc, w.add(w.load(acc), get(t))),
    ), false);
  const zero = elementwise(m, 'zero', [PTR], (w, [out]) => w.store(out, w.zero()), false);

  // ---- Row kernels: [rows, cols] row-major; bias and column sums are [cols] ----
  byRows(m, 'addRowBias', [true, false, true], ([x, bias, out], cols) => control.call(add, x, bias, out, cols));
  byRows(m, 'addRowBiasRelu', [true, false, true], ([x, bias, out], cols) => control.call(addRelu, x, bias, out, cols));
  // The sums start at 0 and take each row in turn, exactly as a float32 sum over axis 0 would.
  byRows(m, 'reluBackwardColumnSum', [true, true, true, false],
    ([x, g, out, colSum], cols) => control.call(reluBackwardAccumulate, x, g, out, colSum, cols),
    ([, , , colSum], cols) => control.call(zero, colSum, cols));
  byRows(m, 'columnSum', [true, false],
    ([x, out], cols) => control.call(add, out, x, out, cols), // out += row
    ([, out], cols) => control.call(zero, out, cols));

  // Row r scaled by s[r]: the factor moves on one float per row, the rows by a row.
  {
    const f = m.function({ name: 'scaleRows', params: [PTR, PTR, PTR, type.i32, type.i32], exported: true });
    const [x, s, out, rows, cols] = [0, 1, 2, 3, 4];
    const [r, rowBytes] = [f.local(type.i32), f.local(type.i32)];
    f.body = seq(
      set(rowBytes, i32.shl(get(cols), c(2))),
      forRange(r, c(0), get(rows), c(1),
        control.call(scale, get(x), f32.load(get(s)), get(out), get(cols)),
        inc(x, get(rowBytes)), inc(s, c(4)), inc(out, get(rowBytes)),
      ),
    );
  }

  // ---- Row gathers and scatter-adds (index: int32) ----
  byIndex(m, 'gatherRows', 'src', (w, tableAt, outAt) => w.store(outAt, w.load(tableAt)));
  // out[index[i]] = out[index[i]] + src[i]: the same float32 sum as `out[j] += src[j]`.
  const scatterAdd = (w: Width, outAt: Code, srcAt: Code) => w.store(outAt, w.add(w.load(outAt), w.load(srcAt)));
  byIndex(m, 'scatterAddRows', 'other', scatterAdd);
  byIndex(m, 'indexAddRows', 'other', scatterAdd, true);
  return m.emit();
}

const modules = new Map<string, WebAssembly.Module>(); // by page limits: they are part of the memory import
const instances = new WeakMap<WebAssembly.Memory, VectorKernels>();

/** The compiled module for memories of these limits (compiled once; the thread pool's workers get it too). */
export function vectorModule(pages: MemoryPages): WebAssembly.Module {
  return compiledOnce(modules, pages, () => emitVectorModule(pages));
}

/**
 * The kernels bound to `memory` (shared, within `pages`): instantiated once per memory. The functions are the
 * wasm exports themselves, so a call costs no more than a JS-to-wasm call.
 */
export function vectorKernels(memory: WebAssembly.Memory, pages: MemoryPages): VectorKernels {
  return instanceOver(instances, memory, () => vectorModule(pages));
}
