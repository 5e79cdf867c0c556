/**
 * exp and log in WebAssembly, bit for bit V8's Math.exp and Math.log.
 *
 * V8 computes Math.exp and Math.log with its port of fdlibm (src/base/ieee754.cc: __ieee754_exp and
 * __ieee754_log), which uses only IEEE double +, −, ×, ÷ (nothing fused) and bit manipulation. WebAssembly's
 * f64 arithmetic is exactly IEEE double, so the same steps in the same order, with the same constants, give
 * the same bits. This file writes those steps again as wasm:
 *
 *   exp, two lanes at a time (f64x2): every lane takes fdlibm's main path, and the few inputs fdlibm
 *        answers otherwise (x = 1, overflow, underflow, subnormal results) are redone afterwards, by code
 *        skipped when a vector holds none of them.
 *   log, one value, with fdlibm's branches as they are (it runs once per row, where speed does not matter).
 *
 * Why that exp is still fdlibm's, case by case (x reduced as x = k·ln2 + r, |r| ≤ ½ln2):
 *   - ½ln2 < |x| < 1.5ln2: fdlibm takes k = ±1 and hi = x ∓ ln2HI, lo = ±ln2LO directly; the general
 *     k = trunc(x/ln2 ± ½) is ±1 on that whole range (its bounds are fdlibm's high-word tests), and
 *     x − k·ln2HI, k·ln2LO are then the same two numbers.
 *   - |x| ≤ ½ln2 (by fdlibm's high-word test): k is forced to 0, so hi = x, lo = 0, r = x, and the main
 *     formula 1 − ((lo − r·c/(2 − c)) − hi) equals fdlibm's k = 0 formula 1 − (r·c/(c − 2) − r) exactly
 *     (negating a divisor and subtracting from 0 are exact).
 *   - |x| < 2⁻²⁸: fdlibm returns 1 + x; the main formula with r·c/(2 − c) replaced by 0 is 1 − ((0 − 0) − x),
 *     the same number (for x = ±0 too).
 *   - the scaling y·2ᵏ: fdlibm multiplies once (or via 2ᵏ⁺¹⁰⁰⁰·2⁻¹⁰⁰⁰ or 2·2¹⁰²³ near the ends). Here one
 *     product where that is exact (|x| ≤ 708), else y·2ᵃ·2ᵇ with a = k >> 1, b = k − a: y·2ᵃ is exact, so
 *     both round y·2ᵏ once, the same way.
 * The tests (test/cross-entropy-kernel.test.ts) compare the bits with Math.exp and Math.log on every branch's
 * edges, random values of every magnitude and random bit patterns.
 */
import {
  type Code, type FunctionBuilder, type ModuleBuilder, control, f64, f64x2, i32, i32x4, i64, i64x2, local, seq, type, v128,
} from './wasm-emitter.js';

const { get, set } = local;

/** The double whose high and low 32-bit words these are (fdlibm writes its constants this way). */
export function fromWords(high: number, low: number): number {
  const words = new Uint32Array([low >>> 0, high >>> 0]); // little-endian: the low word first
  return new Float64Array(words.buffer)[0]!;
}

// ---- exp's constants (fdlibm e_exp.c) ----
const EXP = {
  overflow: fromWords(0x40862e42, 0xfefa39ef), // above: +∞
  underflow: fromWords(0xc0874910, 0xd52d3051), // below: +0
  ln2Hi: fromWords(0x3fe62e42, 0xfee00000), // ln2 = ln2Hi + ln2Lo; k·ln2Hi is exact for the k that occur
  ln2Lo: fromWords(0x3dea39ef, 0x35793c76),
  invLn2: fromWords(0x3ff71547, 0x652b82fe),
  P1: fromWords(0x3fc55555, 0x5555553e),
  P2: fromWords(0xbf66c16c, 0x16bebd93),
  P3: fromWords(0x3f11566a, 0xaf25de2c),
  P4: fromWords(0xbebbbd41, 0xc5d26bf1),
  P5: fromWords(0x3e663769, 0x72bea4d0),
  e: fromWords(0x4005bf0a, 0x8b145769), // exp(1), which fdlibm returns as a constant
  /** The least |x| that fdlibm reduces (its test: high word of |x| > 0x3fd62e42, i.e. |x| > ½ln2). */
  reduceFrom: fromWords(0x3fd62e43, 0),
  /** Below this |x| (2⁻²⁸) fdlibm returns 1 + x. */
  tiny: fromWords(0x3e300000, 0),
};

/**
 * exp of the two lanes of an f64x2, bit for bit Math.exp of each lane, emitted into function `f`.
 *   constants   code that puts the constants into locals; it must run once, at the top of the function,
 *               before any exp (a v128.const is rebuilt from immediates at each use: loops read locals).
 *   exp(x, range)   code that evaluates x once and leaves exp(x) on the stack.
 *   expN([x, y, …], [ex, ey, …], range)  code that sets local ex to exp(x), ey to exp(y), … (up to four),
 *               the computations interleaved step by step: each is one long chain of dependent operations
 *               (≈ 90 cycles), so several side by side keep the core busy where one leaves it waiting
 *               (four measured ≈ 1.7× faster than two here).
 * `range` is 'any' (every double, NaN and ±∞ included) or 'nonPositive', code that is exact only for
 * −708 ≤ x ≤ 0 (the cross-entropy kernel's x − max, when it has checked its row) and skips the rest.
 *
 * Every lane takes fdlibm's main path (which gives fdlibm's 1 + x for |x| < 2⁻²⁸ too, see there), scaling
 * y by 2ᵏ in one product (exact for |x| ≤ 708). The lanes that need more (x = 1; |x| > 708: subnormal
 * results, overflow, underflow) are then redone, by code that is skipped when no lane is one of those. NaN
 * needs nothing: the main path keeps it NaN. The scratch locals are shared: uses must not nest.
 */
export interface ExpF64x2 {
  constants: Code;
  exp(x: Code, range?: ExpRange): Code;
  expN(xs: readonly Code[], into: readonly number[], range?: ExpRange): Code;
}
export type ExpRange = 'any' | 'nonPositive';

const EXP_CONSTANTS = {
  ...EXP, one: 1, two: 2, half: 0.5, minusHalf: -0.5, infinity: Infinity, zero: 0,
  sign: -0, // only the sign bit set
  // Adding 1.5·2⁵² + 1023 to an integer-valued k (|k| < 2³⁰) is exact and leaves k + 1023 in the low word.
  biasedIntegerShift: 1.5 * 2 ** 52 + 1023,
  ordinaryBelow: 708, // for |x| up to here, 2ᵏ is a normal number and y·2ᵏ neither overflows nor underflows
};
type Name = keyof typeof EXP_CONSTANTS;
const MAX_INTERLEAVED = 4;

export function expF64x2(f: FunctionBuilder): ExpF64x2 {
  const names = Object.keys(EXP_CONSTANTS) as Name[];
  const slot = Object.fromEntries(names.map((name) => [name, f.local(type.v128)])) as Record<Name, number>;
  const K = (name: Name) => get(slot[name]);
  const constants = seq(...names.map((name) => set(slot[name], f64x2.const(EXP_CONSTANTS[name]))));
  const { add, sub, mul, div } = f64x2;
  // 2ⁿ from n + 1023 (< 2¹¹) in the low word of each 64-bit lane, shifted into the exponent bits.
  const twoToThe = (biased: Code) => i64x2.shl(biased, i32.const(52));

  /** One exp's locals: the input, |input|, k + 1023 (integer, low words), and the working values. */
  const locals = () => {
    const [x, abs, kb, t, hi, lo, r, rr, y, out] = Array.from({ length: 10 }, () => f.local(type.v128));
    return { x: x!, abs: abs!, kb: kb!, t: t!, hi: hi!, lo: lo!, r: r!, rr: rr!, y: y!, out: out! };
  };
  type Locals = ReturnType<typeof locals>;

  /** fdlibm's main path as separate statements (so two can be interleaved), ending with out = y·2ᵏ. */
  const mainPath = ({ x: xv, abs, kb, t, hi, lo, r, rr, y, out }: Locals, x: Code, range: ExpRange): Code[] => [
    set(xv, x),
    set(abs, f64x2.abs(get(xv))),
    // k = trunc(x/ln2 ± ½) (the sign of x's), as a float; 0 where |x| ≤ ½ln2 (masking gives +0). For x ≤ 0
    // the ½ is −½ (x = +0 would take +½, but its k is masked to 0 either way).
    set(t, f64x2.trunc(add(mul(get(xv), K('invLn2')),
      range === 'nonPositive' ? K('minusHalf') : v128.or(K('half'), v128.and(get(xv), K('sign')))))),
    set(t, v128.and(f64x2.ge(get(abs), K('reduceFrom')), get(t))),
    set(kb, add(get(t), K('biasedIntegerShift'))),
    // x = hi − lo with hi = x − k·ln2Hi, lo = k·ln2Lo; then fdlibm's rational approximation of exp(r),
    // c = r − r²·(P1 + r²·(P2 + r²·(P3 + r²·(P4 + r²·P5)))), one Horner step at a time.
    set(hi, sub(get(xv), mul(get(t), K('ln2Hi')))),
    set(lo, mul(get(t), K('ln2Lo'))),
    set(r, sub(get(hi), get(lo))),
    set(rr, mul(get(r), get(r))),
    set(y, add(K('P4'), mul(get(rr), K('P5')))),
    set(y, add(K('P3'), mul(get(rr), get(y)))),
    set(y, add(K('P2'), mul(get(rr), get(y)))),
    set(y, add(K('P1'), mul(get(rr), get(y)))),
    set(y, sub(get(r), mul(get(rr), get(y)))), // c
    // y = 1 − ((lo − q) − hi), q = r·c/(2 − c). Where |x| < 2⁻²⁸ fdlibm returns 1 + x instead, which is
    // what this gives with q = 0 (k = 0 there, so lo = 0 and hi = x): q is masked to +0 in those lanes.
    set(y, div(mul(get(r), get(y)), sub(K('two'), get(y)))),
    set(y, v128.and(f64x2.ge(get(abs), K('tiny')), get(y))),
    set(y, sub(K('one'), sub(sub(get(lo), get(y)), get(hi)))),
    // exp = y·2ᵏ: one exact product where 2ᵏ is normal and the result is too, as for |x| ≤ 708.
    set(out, mul(get(y), twoToThe(get(kb)))),
  ];
  const where = (out: number, cond: Code, value: Code) => set(out, v128.bitselect(value, get(out), cond));
  /** A mask of the lanes that need more than the main path. */
  const special = ({ x, abs }: Locals): Code => v128.or(f64x2.gt(get(abs), K('ordinaryBelow')), f64x2.eq(get(x), K('one')));
  /** The general scaling, and the inputs fdlibm answers before (or instead of) the main path. */
  const fixUps = ({ x, kb, t, y, out }: Locals): Code => {
    return seq(
      // y·2ᵏ as (y·2ᵃ)·2ᵇ, a = k >> 1, b = k − a (in the low words): the first product exact, the second
      // rounding once, as fdlibm's scalings near the ends of the range round y·2ᵏ once.
      set(t, i32x4.shr_s(i32x4.sub(get(kb), i32x4.splat(i32.const(1023))), i32.const(1))), // a
      set(out, mul(mul(get(y), twoToThe(i32x4.add(get(t), i32x4.splat(i32.const(1023))))), twoToThe(i32x4.sub(get(kb), get(t))))),
      where(out, f64x2.eq(get(x), K('one')), K('e')),
      where(out, f64x2.gt(get(x), K('overflow')), K('infinity')),
      where(out, f64x2.lt(get(x), K('underflow')), K('zero')), // and −∞
    );
  };
  const sets = Array.from({ length: MAX_INTERLEAVED }, locals);
  const first = sets[0]!;
  return {
    constants,
    exp: (x, range = 'any') => seq(
      ...mainPath(first, x, range),
      range === 'any' ? control.if(v128.any_true(special(first)), fixUps(first)) : [],
      get(first.out),
    ),
    expN: (xs, into, range = 'any') => {
      if (xs.length !== into.length || xs.length > MAX_INTERLEAVED) throw new Error(`expN: ${xs.length} inputs, ${into.length} outputs`);
      const used = sets.slice(0, xs.length);
      const paths = xs.map((x, i) => mainPath(used[i]!, x, range));
      return seq(
        ...paths[0]!.flatMap((_, step) => paths.map((path) => path[step]!)), // step by step, one of each
        range === 'any' ? control.if(v128.any_true(used.map(special).reduce(v128.or)), seq(...used.map(fixUps))) : [],
        ...into.map((e, i) => set(e, get(used[i]!.out))),
      );
    },
  };
}

// ---- log's constants (fdlibm e_log.c) ----
const LOG = {
  ln2Hi: fromWords(0x3fe62e42, 0xfee00000),
  ln2Lo: fromWords(0x3dea39ef, 0x35793c76),
  two54: fromWords(0x43500000, 0),
  Lg1: fromWords(0x3fe55555, 0x55555593),
  Lg2: fromWords(0x3fd99999, 0x9997fa04),
  Lg3: fromWords(0x3fd24924, 0x94229359),
  Lg4: fromWords(0x3fcc71c5, 0x1d8e78af),
  Lg5: fromWords(0x3fc74664, 0x96cb03de),
  Lg6: fromWords(0x3fc39a09, 0xd078c69f),
  Lg7: fromWords(0x3fc2f112, 0xdf3e5244),
};

/** The high and low 32-bit words of an f64, and the f64 with its high word replaced. */
const highWord = (x: Code): Code => i32.wrap_i64(i64.shr_u(i64.reinterpret_f64(x), i64.const(32)));
const lowWord = (x: Code): Code => i32.wrap_i64(i64.reinterpret_f64(x));
const withHighWord = (x: Code, high: Code): Code =>
  f64.reinterpret_i64(i64.or(i64.shl(i64.extend_i32_u(high), i64.const(32)), i64.extend_i32_u(lowWord(x))));

/**
 * Adds `log(x: f64) → f64` to the module, bit for bit Math.log: fdlibm's steps and branches as they are.
 * Returns its function index.
 */
export function emitLog(m: ModuleBuilder, exported = false): number {
  const f = m.function({ name: 'log', params: [type.f64], results: [type.f64], exported });
  const X = 0;
  const [hx, k, i, j] = [f.local(type.i32), f.local(type.i32), f.local(type.i32), f.local(type.i32)];
  const [fr, s, z, w, R, hfsq, dk] = Array.from({ length: 7 }, () => f.local(type.f64));
  const c = i32.const;
  const K = f64.const;
  const { add, sub, mul, div } = f64;
  const ret = control.return;
  const kIsZero = i32.eqz(get(k));
  f.body = seq(
    set(hx, highWord(get(X))),
    set(k, c(0)),
    control.if(i32.lt_s(get(hx), c(0x00100000)), seq( // x < 2⁻¹⁰²²: zero, negative or subnormal
      control.if(i32.eqz(i32.or(i32.and(get(hx), c(0x7fffffff)), lowWord(get(X)))), ret(K(-Infinity))),
      control.if(i32.lt_s(get(hx), c(0)), ret(K(NaN))),
      set(k, c(-54)),
      set(X, mul(get(X), K(LOG.two54))), // scale a subnormal up
      set(hx, highWord(get(X))),
    )),
    control.if(i32.ge_s(get(hx), c(0x7ff00000)), ret(add(get(X), get(X)))), // +∞ or NaN
    // x = 2ᵏ·(1 + f) with √2/2 < 1 + f < √2.
    set(k, i32.add(get(k), i32.sub(i32.shr_s(get(hx), c(20)), c(1023)))),
    set(hx, i32.and(get(hx), c(0x000fffff))),
    set(i, i32.and(i32.add(get(hx), c(0x95f64)), c(0x100000))),
    set(X, withHighWord(get(X), i32.or(get(hx), i32.xor(get(i), c(0x3ff00000))))), // normalise x or x/2
    set(k, i32.add(get(k), i32.shr_s(get(i), c(20)))),
    set(fr, sub(get(X), K(1))),
    set(dk, f64.convert_i32_s(get(k))),
    control.if(i32.lt_s(i32.and(c(0x000fffff), i32.add(c(2), get(hx))), c(3)), seq( // |f| < 2⁻²⁰
      control.if(f64.eq(get(fr), K(0)), seq(
        control.if(kIsZero, ret(K(0))),
        ret(add(mul(get(dk), K(LOG.ln2Hi)), mul(get(dk), K(LOG.ln2Lo)))),
      )),
      set(R, mul(mul(get(fr), get(fr)), sub(K(0.5), mul(K(0.33333333333333333), get(fr))))),
      control.if(kIsZero, ret(sub(get(fr), get(R)))),
      ret(sub(mul(get(dk), K(LOG.ln2Hi)), sub(sub(get(R), mul(get(dk), K(LOG.ln2Lo))), get(fr)))),
    )),
    set(s, div(get(fr), add(K(2), get(fr)))),
    set(z, mul(get(s), get(s))),
    set(i, i32.sub(get(hx), c(0x6147a))),
    set(w, mul(get(z), get(z))),
    set(j, i32.sub(c(0x6b851), get(hx))),
    // R = t2 + t1, the polynomial split over even and odd powers of w.
    set(R, add(
      mul(get(z), add(K(LOG.Lg1), mul(get(w), add(K(LOG.Lg3), mul(get(w), add(K(LOG.Lg5), mul(get(w), K(LOG.Lg7)))))))),
      mul(get(w), add(K(LOG.Lg2), mul(get(w), add(K(LOG.Lg4), mul(get(w), K(LOG.Lg6)))))),
    )),
    set(i, i32.or(get(i), get(j))),
    control.if(i32.gt_s(get(i), c(0)), seq(
      set(hfsq, mul(mul(K(0.5), get(fr)), get(fr))),
      control.if(kIsZero, ret(sub(get(fr), sub(get(hfsq), mul(get(s), add(get(hfsq), get(R))))))),
      ret(sub(mul(get(dk), K(LOG.ln2Hi)),
        sub(sub(get(hfsq), add(mul(get(s), add(get(hfsq), get(R))), mul(get(dk), K(LOG.ln2Lo)))), get(fr)))),
    )),
    control.if(kIsZero, ret(sub(get(fr), mul(get(s), sub(get(fr), get(R)))))),
    ret(sub(mul(get(dk), K(LOG.ln2Hi)), sub(sub(mul(get(s), sub(get(fr), get(R))), mul(get(dk), K(LOG.ln2Lo))), get(fr)))),
  );
  return f.index;
}
