/**
 * Cross-entropy of logit rows (the loss of the training step) as one WebAssembly function per logits dtype,
 * for buffers of a captured tape: the loop of the reference crossEntropyRowsInto (../../reference/
 * cross-entropy.ts), bit for bit, with its Math.exp and Math.log replaced by fdlibm.ts's wasm versions of the
 * same algorithm (which give the same bits). Per row r of x [rows, classes]:
 *
 *   max    = max_j x[r, j]            (0 if that is −∞ or NaN)                 two at a time
 *   e[j]   = exp(x[r, j] − max)       into a float64 scratch row [classes]    eight at a time (four
 *                                                                              exps interleaved)
 *   sum    = ((0 + e[0]) + e[1]) + …  in order, as the reference adds          one lane after the other
 *   loss   = −((x[r, t] − max) − log(sum))                                      scalar
 *   dloss[r, j] = e[j] / sum, then dloss[r, t] = e[t] / sum − 1  (rounded to the logits' dtype)
 *
 * The division e[j]/sum is a true division (not a product with 1/sum), as in the reference. Only the sum is
 * sequential. The pass that finds the max also finds the least value: when every x − max lies in [−708, 0]
 * (no NaN, no ±∞, no gap wider than 708: the usual row), the exps skip fdlibm's out-of-range cases
 * altogether; any other row takes the exp that handles every double.

 *   crossEntropyRowsF32(x, targets, losses, dloss, scratch, rowStart, rowEnd, classes, withDerivative)
 *   crossEntropyRowsF64(…the same…)
 *
 * x and dloss are float32 (F32) or float64 (F64) [rows, classes], targets int32 [rows], losses float64
 * [rows], scratch a float64 row [classes] (crossEntropyScratchBytes); pointers are byte addresses. Rows
 * rowStart ≤ r < rowEnd are computed, so a caller may split the rows between threads (each with a scratch
 * row of its own). dloss is written only if
 * withDerivative is 1. A target outside 0 … classes − 1 (which the op rejects before any kernel runs) gives a
 * NaN loss and no −1, rather than reading or writing another row.
 *
 * The module also exports `exp(src, dst, n)` and `expNonPositive(src, dst, n)` (float64 arrays) and
 * `log(x)`, so their bits can be tested against Math.exp and Math.log directly.
 */
import type { MemoryPages } from './wasm-arena.js';
import { type ExpRange, emitLog, expF64x2 } from './fdlibm.js';
import { compiledOnce, instanceOver } from './instances.js';
import {
  type Code, type FunctionBuilder, ModuleBuilder, control, f32, f32x4, f64, f64x2, forRange, i32, local, seq, type, v128,
} from './wasm-emitter.js';

type Ptr = number;

export interface CrossEntropyKernels {
  crossEntropyRowsF32(x: Ptr, targets: Ptr, losses: Ptr, dloss: Ptr, scratch: Ptr, rowStart: number, rowEnd: number, classes: number, withDerivative: number): void;
  crossEntropyRowsF64(x: Ptr, targets: Ptr, losses: Ptr, dloss: Ptr, scratch: Ptr, rowStart: number, rowEnd: number, classes: number, withDerivative: number): void;
  /** dst[i] = exp(src[i]), float64, i < n. */
  exp(src: Ptr, dst: Ptr, n: number): void;
  /** The same for −708 ≤ src[i] ≤ 0 only (the exp of the kernel's usual rows). */
  expNonPositive(src: Ptr, dst: Ptr, n: number): void;
  log(x: number): number;
}

const { get, set } = local;
const c = i32.const;

/** How the logits' dtype is read and written: as float64, one value or two lanes at a time. */
interface Element {
  name: 'F32' | 'F64';
  bytes: number;
  loadOne(addr: Code): Code;
  loadTwo(addr: Code): Code;
  storeOne(addr: Code, value: Code): Code;
  storeTwo(addr: Code, value: Code): Code;
}

const FLOAT32: Element = {
  name: 'F32',
  bytes: 4,
  loadOne: (addr) => f64.promote_f32(f32.load(addr)),
  loadTwo: (addr) => f64x2.promote_low_f32x4(v128.load64_zero(addr)),
  storeOne: (addr, value) => f32.store(addr, f64.demote_to_f32(value)),
  storeTwo: (addr, value) => v128.store64_low(addr, f32x4.demote_f64x2_zero(value)),
};

const FLOAT64: Element = {
  name: 'F64',
  bytes: 8,
  loadOne: (addr) => f64.load(addr),
  loadTwo: (addr) => v128.load(addr),
  storeOne: (addr, value) => f64.store(addr, value),
  storeTwo: (addr, value) => v128.store(addr, value),
};

const PARAMS = [type.i32, type.i32, type.i32, type.i32, type.i32, type.i32, type.i32, type.i32, type.i32];
const [X, TARGETS, LOSSES, DLOSS, SCRATCH, ROW_START, ROW_END, CLASSES, WITH_DERIVATIVE] = PARAMS.map((_, i) => i) as number[];

/** Byte address base + index·bytes. */
const at = (base: Code, index: Code, bytes: number): Code => i32.add(base, i32.mul(index, c(bytes)));

function emitRows(m: ModuleBuilder, el: Element, log: number): void {
  const f = m.function({ name: `crossEntropyRows${el.name}`, params: PARAMS, exported: true });
  const [r, j, octets, quads, pairs, row, dRow, t, targetOk, unusual] = Array.from({ length: 10 }, () => f.local(type.i32));
  const [max, min, sum] = [f.local(type.f64), f.local(type.f64), f.local(type.f64)];
  const [two, maxTwo, nan, least] = Array.from({ length: 4 }, () => f.local(type.v128));
  const es = Array.from({ length: 4 }, () => f.local(type.v128)); // exps of up to 8 classes
  const [e, e2] = [es[0]!, es[1]!];
  const { constants, exp, expN } = expF64x2(f);
  const odd = i32.lt_s(get(pairs), get(CLASSES)); // one class left after the pairs
  const x = (index: Code) => at(get(row), index, el.bytes);
  const scratch = (index: Code) => at(get(SCRATCH), index, 8);
  const addToSum = (value: Code) => set(sum, f64.add(get(sum), value));

  // e = exp(x − max) into the scratch row, summed in order: 8 at a time (four exps interleaved), then 4, 2, 1.
  /** exp of the `lanes` (8 or 4) classes from j on, stored and added to the sum in order. */
  const group = (lanes: number, range: ExpRange) => {
    const vs = es.slice(0, lanes / 2);
    return seq(
      expN(vs.map((_, o) => f64x2.sub(el.loadTwo(x(i32.add(get(j), c(2 * o)))), get(maxTwo))), vs, range),
      ...vs.map((v, o) => v128.store(scratch(i32.add(get(j), c(2 * o))), get(v))),
      ...vs.flatMap((v) => [addToSum(f64x2.extract_lane(get(v), 0)), addToSum(f64x2.extract_lane(get(v), 1))]),
    );
  };
  const exps = (range: ExpRange) => seq(
    forRange(j, c(0), get(octets), c(8), group(8, range)),
    control.if(i32.lt_s(get(octets), get(quads)), seq(set(j, get(octets)), group(4, range))),
    control.if(i32.lt_s(get(quads), get(pairs)), seq(
      set(e, exp(f64x2.sub(el.loadTwo(x(get(quads))), get(maxTwo)), range)),
      v128.store(scratch(get(quads)), get(e)),
      addToSum(f64x2.extract_lane(get(e), 0)),
      addToSum(f64x2.extract_lane(get(e), 1)),
    )),
    control.if(odd, seq(
      set(e, exp(f64x2.splat(f64.sub(el.loadOne(x(get(pairs))), get(max))), range)),
      f64.store(scratch(get(pairs)), f64x2.extract_lane(get(e), 0)),
      addToSum(f64x2.extract_lane(get(e), 0)),
    )),
  );

  const rowBody = seq(
    set(row, at(get(X), i32.mul(get(r), get(CLASSES)), el.bytes)),
    // max = Math.max over the row, then 0 if that is −∞ or NaN. f64x2.max would be exact in any order but
    // costs a long dependent sequence per pair; pmax is one instruction and exact except that it skips NaN
    // (seen separately here) and may keep −0 where Math.max gives +0. No output can tell those two zeros
    // apart: x − (±0) is x for x ≠ 0, and exp(±0) = 1; (x_t − max) − log Σ is −log Σ unless Σ = 1, which
    // needs a single zero in the row, whose sign pmax keeps.
    // The row's least value comes along: it tells whether every x − max lies in [−708, 0].
    set(two, f64x2.const(-Infinity)),
    set(e2, f64x2.const(-Infinity)), // a second running max: two independent chains
    set(least, f64x2.const(Infinity)),
    set(nan, v128.zero()),
    forRange(j, c(0), get(quads), c(4),
      set(e, el.loadTwo(x(get(j)))),
      set(two, f64x2.pmax(get(two), get(e))),
      set(least, f64x2.pmin(get(least), get(e))),
      set(nan, v128.or(get(nan), f64x2.ne(get(e), get(e)))),
      set(e, el.loadTwo(x(i32.add(get(j), c(2))))),
      set(e2, f64x2.pmax(get(e2), get(e))),
      set(least, f64x2.pmin(get(least), get(e))),
      set(nan, v128.or(get(nan), f64x2.ne(get(e), get(e)))),
    ),
    control.if(i32.lt_s(get(quads), get(pairs)), seq(
      set(e, el.loadTwo(x(get(quads)))),
      set(two, f64x2.pmax(get(two), get(e))),
      set(least, f64x2.pmin(get(least), get(e))),
      set(nan, v128.or(get(nan), f64x2.ne(get(e), get(e)))),
    )),
    set(two, f64x2.pmax(get(two), get(e2))),
    set(max, f64.max(f64x2.extract_lane(get(two), 0), f64x2.extract_lane(get(two), 1))),
    set(min, f64.min(f64x2.extract_lane(get(least), 0), f64x2.extract_lane(get(least), 1))),
    control.if(odd, seq(
      set(max, f64.max(get(max), el.loadOne(x(get(pairs))))), // NaN propagates: seen below
      set(min, f64.min(get(min), el.loadOne(x(get(pairs))))),
    )),
    set(unusual, i32.or(v128.any_true(get(nan)), i32.or(f64.eq(get(max), f64.const(-Infinity)), f64.ne(get(max), get(max))))),
    control.if(get(unusual), set(max, f64.const(0))),
    // A usual row (no NaN, a finite max, every x − max ≥ −708: false for −∞, +∞ or NaN) takes the exp that
    // is exact on [−708, 0] and skips the checks for the rest; any other row takes the general one.
    set(unusual, i32.or(get(unusual), i32.eqz(f64.ge(f64.sub(get(min), get(max)), f64.const(-708))))),
    set(maxTwo, f64x2.splat(get(max))),
    set(sum, f64.const(0)),
    control.if(get(unusual), exps('any'), exps('nonPositive')),
    // loss = −((x_t − max) − log Σ)
    set(t, i32.load(at(get(TARGETS), get(r), 4))),
    set(targetOk, i32.lt_u(get(t), get(CLASSES))),
    f64.store(at(get(LOSSES), get(r), 8), control.ifElseValue(type.f64, get(targetOk),
      f64.neg(f64.sub(f64.sub(el.loadOne(x(get(t))), get(max)), control.call(log, get(sum)))),
      f64.const(NaN))),
    // dloss = e / Σ − one-hot(t)
    control.if(get(WITH_DERIVATIVE), seq(
      set(dRow, at(get(DLOSS), i32.mul(get(r), get(CLASSES)), el.bytes)),
      set(two, f64x2.splat(get(sum))),
      forRange(j, c(0), get(pairs), c(2),
        el.storeTwo(at(get(dRow), get(j), el.bytes), f64x2.div(v128.load(scratch(get(j))), get(two)))),
      control.if(odd, el.storeOne(at(get(dRow), get(pairs), el.bytes), f64.div(f64.load(scratch(get(pairs))), get(sum)))),
      control.if(get(targetOk),
        el.storeOne(at(get(dRow), get(t), el.bytes), f64.sub(f64.div(f64.load(scratch(get(t))), get(sum)), f64.const(1)))),
    )),
  );
  f.body = seq(
    constants,
    set(octets, i32.and(get(CLASSES), c(-8))), // classes in groups of 8, then perhaps 4, 2 and 1
    set(quads, i32.and(get(CLASSES), c(-4))),
    set(pairs, i32.and(get(CLASSES), c(-2))),
    forRange(r, get(ROW_START), get(ROW_END), c(1), rowBody),
  );
}

/**
 * exp(src[i]) for i < n, as the kernel computes them (8, then 4, 2, 1 at a time), with the exp for `range`:
 * for testing exp against Math.exp.
 */
function emitExpArray(m: ModuleBuilder, name: string, range: ExpRange): void {
  const f: FunctionBuilder = m.function({ name, params: [type.i32, type.i32, type.i32], exported: true });
  const [SRC, DST, N] = [0, 1, 2];
  const i = f.local(type.i32);
  const es = Array.from({ length: 4 }, () => f.local(type.v128));
  const e = es[0]!;
  const { constants, exp, expN } = expF64x2(f);
  const src = (index: Code) => at(get(SRC), index, 8);
  const dst = (index: Code) => at(get(DST), index, 8);
  /** exp of the `lanes` (8 or 4) values from i on. */
  const group = (lanes: number) => {
    const vs = es.slice(0, lanes / 2);
    return seq(
      expN(vs.map((_, o) => v128.load(src(i32.add(get(i), c(2 * o))))), vs, range),
      ...vs.map((v, o) => v128.store(dst(i32.add(get(i), c(2 * o))), get(v))),
    );
  };
  f.body = seq(
    constants,
    forRange(i, c(0), i32.and(get(N), c(-8)), c(8), group(8)),
    control.if(i32.and(get(N), c(4)), seq(set(i, i32.and(get(N), c(-8))), group(4))),
    control.if(i32.and(get(N), c(2)), seq(
      set(i, i32.and(get(N), c(-4))),
      v128.store(dst(get(i)), exp(v128.load(src(get(i))), range)),
    )),
    control.if(i32.and(get(N), c(1)), seq(
      set(e, exp(f64x2.splat(f64.load(at(get(SRC), i32.sub(get(N), c(1)), 8))), range)),
      f64.store(at(get(DST), i32.sub(get(N), c(1)), 8), f64x2.extract_lane(get(e), 0)),
    )),
  );
}

export function emitCrossEntropyModule(memoryPages: MemoryPages): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory({ module: 'env', name: 'memory', ...memoryPages, shared: memoryPages.shared ?? true });
  const log = emitLog(m, true);
  emitRows(m, FLOAT32, log);
  emitRows(m, FLOAT64, log);
  emitExpArray(m, 'exp', 'any');
  emitExpArray(m, 'expNonPositive', 'nonPositive');
  return m.emit();
}

/** Bytes of scratch memory one call of the row kernel needs: a float64 row of exponentials. */
export function crossEntropyScratchBytes(classes: number): number {
  return 8 * classes;
}

const modules = new Map<string, WebAssembly.Module>();

/** The compiled module for memories of these limits (compiled once; the thread pool's workers get it too). */
export function crossEntropyModule(pages: MemoryPages): WebAssembly.Module {
  return compiledOnce(modules, pages, () => emitCrossEntropyModule(pages));
}

const instances = new WeakMap<WebAssembly.Memory, CrossEntropyKernels>();

/** The kernels instantiated over `memory` (compiled once per memory). */
export function crossEntropyKernels(memory: WebAssembly.Memory, pages: MemoryPages): CrossEntropyKernels {
  return instanceOver(instances, memory, () => crossEntropyModule(pages));
}
