/**
 * A tiny WebAssembly binary emitter: just enough of the format to write SIMD kernels from TypeScript.
 *
 * Code is written in the "folded" style of the text format: every instruction helper takes its operands as
 * already-emitted byte arrays and appends its own opcode, so `i32.add(get(x), i32.const(1))` reads like
 * `(i32.add (local.get $x) (i32.const 1))`. The module builder assembles the sections. Reference: the
 * WebAssembly core spec, "Binary Format", and the SIMD and relaxed-SIMD proposals for the 0xfd opcodes.
 */

/** Bytes of code; instruction helpers take and return these. */
export type Code = readonly number[];

export const type = { i32: 0x7f, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
export type ValType = (typeof type)[keyof typeof type];

/** Unsigned LEB128, for indices, sizes and memory offsets. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128, for i32.const immediates. */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const utf8 = (s: string) => [...new TextEncoder().encode(s)];
/** A vector: its length, then its items. */
const vec = (items: readonly Code[]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: Code) => [id, ...uleb(body.length), ...body];
export const seq = (...parts: Code[]): Code => parts.flat();

/** A memory access's alignment hint (log2 bytes) and constant byte offset. */
const memarg = (alignLog2: number, offset: number) => [alignLog2, ...uleb(offset)];
/** An opcode of the 0xfd (SIMD) prefix; its number is LEB-encoded after the prefix. */
const simd = (opcode: number) => [0xfd, ...uleb(opcode)];

// ---- Instructions (folded: operands first, then the opcode) ----

export const local = {
  get: (index: number): Code => [0x20, ...uleb(index)],
  set: (index: number, value: Code): Code => [...value, 0x21, ...uleb(index)],
  tee: (index: number, value: Code): Code => [...value, 0x22, ...uleb(index)],
};

const binary = (opcode: number) => (x: Code, y: Code): Code => [...x, ...y, opcode];

export const i32 = {
  const: (n: number): Code => [0x41, ...sleb(n | 0)],
  load: (addr: Code, offset = 0): Code => [...addr, 0x28, ...memarg(2, offset)],
  store: (addr: Code, value: Code, offset = 0): Code => [...addr, ...value, 0x36, ...memarg(2, offset)],
  eqz: (x: Code): Code => [...x, 0x45],
  eq: binary(0x46),
  ne: binary(0x47),
  lt_s: binary(0x48),
  gt_s: binary(0x4a),
  le_s: binary(0x4c),
  ge_s: binary(0x4e),
  add: binary(0x6a),
  sub: binary(0x6b),
  mul: binary(0x6c),
  div_u: binary(0x6e),
  /** Unsigned comparison (the operands read as unsigned 32-bit integers). */
  lt_u: binary(0x49),
  and: binary(0x71),
  or: binary(0x72),
  xor: binary(0x73),
  /** x << y (y taken mod 32). */
  shl: binary(0x74),
  /** x >> y, arithmetic (the sign bit is copied in). */
  shr_s: binary(0x75),
  /** The low 32 bits of an i64. */
  wrap_i64: (x: Code): Code => [...x, 0xa7],
  /** min of two side-effect-free operands (each is evaluated twice). */
  min_s: (x: Code, y: Code): Code => [...x, ...y, ...x, ...y, 0x48, 0x1b],
};

export const f32 = {
  load: (addr: Code, offset = 0): Code => [...addr, 0x2a, ...memarg(2, offset)],
  store: (addr: Code, value: Code, offset = 0): Code => [...addr, ...value, 0x38, ...memarg(2, offset)],
  const: (x: number): Code => [0x43, ...new Uint8Array(new Float32Array([x]).buffer)],
  /** Comparisons give an i32 0 or 1; any comparison with NaN is false (0). */
  gt: binary(0x5e),
  add: binary(0x92),
  sub: binary(0x93),
  mul: binary(0x94),
};

/** `cond ? ifTrue : ifFalse` without a branch (both operands are evaluated); cond is an i32. */
export const select = (ifTrue: Code, ifFalse: Code, cond: Code): Code => [...ifTrue, ...ifFalse, ...cond, 0x1b];

/** 64-bit integers: only what taking a float64 apart and putting it together needs. */
export const i64 = {
  /** A small constant (|n| < 2³¹). */
  const: (n: number): Code => [0x42, ...sleb(n | 0)],
  or: binary(0x84),
  shl: binary(0x86),
  shr_u: binary(0x88),
  /** An i32 as an i64, its bits zero-extended. */
  extend_i32_u: (x: Code): Code => [...x, 0xad],
  /** The bits of an f64. */
  reinterpret_f64: (x: Code): Code => [...x, 0xbd],
};

/** float64 scalars, and the conversions between f32 and f64 (exact one way, rounding the other). */
export const f64 = {
  const: (x: number): Code => [0x44, ...new Uint8Array(new Float64Array([x]).buffer)],
  load: (addr: Code, offset = 0): Code => [...addr, 0x2b, ...memarg(3, offset)],
  store: (addr: Code, value: Code, offset = 0): Code => [...addr, ...value, 0x39, ...memarg(3, offset)],
  /** Comparisons give an i32 0 or 1; any comparison with NaN is false (0), except ne. */
  eq: binary(0x61),
  ne: binary(0x62),
  neg: (x: Code): Code => [...x, 0x9a],
  add: binary(0xa0),
  sub: binary(0xa1),
  mul: binary(0xa2),
  div: binary(0xa3),
  /** NaN if either is NaN; min(−0, +0) = −0: the semantics of Math.min. */
  min: binary(0xa4),
  /** NaN if either is NaN; max(−0, +0) = +0: the semantics of Math.max. */
  max: binary(0xa5),
  ge: binary(0x66),
  /** An i32 as an f64 (exact). */
  convert_i32_s: (x: Code): Code => [...x, 0xb7],
  /** The f64 whose bits these are. */
  reinterpret_i64: (x: Code): Code => [...x, 0xbf],
  /** Correctly rounded, as Math.sqrt. */
  sqrt: (x: Code): Code => [...x, 0x9f],
  /** f32 → f64, exact. */
  promote_f32: (x: Code): Code => [...x, 0xbb],
  /** f64 → f32, rounded to nearest even. */
  demote_to_f32: (x: Code): Code => [...x, 0xb6],
};

/** Sixteen bytes, written out. */
const bytes = (array: ArrayBufferView): number[] => [...new Uint8Array(array.buffer, array.byteOffset, array.byteLength)];

/** Two float64 lanes, and the conversions from and to four float32 lanes. */
export const f64x2 = {
  /** A constant vector [lo, hi] (both lanes `lo` unless said). */
  const: (lo: number, hi = lo): Code => [...simd(0x0c), ...bytes(new Float64Array([lo, hi]))],
  splat: (x: Code): Code => [...x, ...simd(0x14)],
  extract_lane: (x: Code, lane: 0 | 1): Code => [...x, ...simd(0x21), lane],
  /** Lane-wise comparisons as masks: all ones where true, all zeros where false (NaN: false, except ne). */
  eq: (x: Code, y: Code): Code => [...x, ...y, ...simd(0x47)],
  ne: (x: Code, y: Code): Code => [...x, ...y, ...simd(0x48)],
  lt: (x: Code, y: Code): Code => [...x, ...y, ...simd(0x49)],
  gt: (x: Code, y: Code): Code => [...x, ...y, ...simd(0x4a)],
  ge: (x: Code, y: Code): Code => [...x, ...y, ...simd(0x4c)],
  abs: (x: Code): Code => [...x, ...simd(0xec)],
  add: (x: Code, y: Code): Code => [...x, ...y, ...simd(0xf0)],
  sub: (x: Code, y: Code): Code => [...x, ...y, ...simd(0xf1)],
  mul: (x: Code, y: Code): Code => [...x, ...y, ...simd(0xf2)],
  div: (x: Code, y: Code): Code => [...x, ...y, ...simd(0xf3)],
  /** Each lane rounded toward zero, as a float (ties, NaN and ±∞ as f64.trunc). */
  trunc: (x: Code): Code => [...x, ...simd(0x7a)],
  /** Lane-wise f64.max (NaN propagates, max(−0, +0) = +0): a sequence of several instructions on x86. */
  max: (x: Code, y: Code): Code => [...x, ...y, ...simd(0xf5)],
  /** Lane-wise y < x ? y : x, one minpd on x86 (so a NaN y keeps x). */
  pmin: (x: Code, y: Code): Code => [...x, ...y, ...simd(0xf6)],
  /** Lane-wise x < y ? y : x, one maxpd on x86 (so a NaN y, or y = ±0 against x = ∓0, keeps x). */
  pmax: (x: Code, y: Code): Code => [...x, ...y, ...simd(0xf7)],
  sqrt: (x: Code): Code => [...x, ...simd(0xef)],
  /** The low two f32 lanes of x as two f64 lanes (exact). */
  promote_low_f32x4: (x: Code): Code => [...x, ...simd(0x5f)],
  /** The two f64 lanes rounded to f32 (nearest even) in the low two f32 lanes; the high two are 0. */
  demote_zero_f32x4: (x: Code): Code => [...x, ...simd(0x5e)],
};

/** Two 64-bit integer lanes (for building float64 bit patterns). */
export const i64x2 = {
  /** Each lane shifted left by the i32 `by` (mod 64). */
  shl: (x: Code, by: Code): Code => [...x, ...by, ...simd(0xcb)],
};

/** Four 32-bit integer lanes; a shift takes an i32 count (mod 32). */
export const i32x4 = {
  /** An i32 broadcast to all four lanes. */
  splat: (x: Code): Code => [...x, ...simd(0x11)],
  /** Arithmetic shift right (the sign bit copied in). */
  shr_s: (x: Code, by: Code): Code => [...x, ...by, ...simd(0xac)],
  add: (x: Code, y: Code): Code => [...x, ...y, ...simd(0xae)],
  sub: (x: Code, y: Code): Code => [...x, ...y, ...simd(0xb1)],
};

export const v128 = {
  load: (addr: Code, offset = 0): Code => [...addr, ...simd(0x00), ...memarg(4, offset)],
  /** Loads one f32 and broadcasts it to all four lanes. */
  load32_splat: (addr: Code, offset = 0): Code => [...addr, ...simd(0x09), ...memarg(2, offset)],
  store: (addr: Code, value: Code, offset = 0): Code => [...addr, ...value, ...simd(0x0b), ...memarg(4, offset)],
  zero: (): Code => [...simd(0x0c), ...new Array<number>(16).fill(0)],
  /** Loads 8 bytes into the low half, zeroing the high half. */
  load64_zero: (addr: Code, offset = 0): Code => [...addr, ...simd(0x5d), ...memarg(3, offset)],
  /** Stores the low 8 bytes of `value`. */
  store64_low: (addr: Code, value: Code, offset = 0): Code => [...addr, ...value, ...simd(0x5b), ...memarg(3, offset), 0],
  /** Bitwise and of all 128 bits: with a comparison's lane mask it keeps the lanes where the mask is true. */
  and: (x: Code, y: Code): Code => [...x, ...y, ...simd(0x4e)],
  or: (x: Code, y: Code): Code => [...x, ...y, ...simd(0x50)],
  /** i32 1 if any bit of x is set, else 0. */
  any_true: (x: Code): Code => [...x, ...simd(0x53)],
  /** Bit by bit, `mask ? x : y`. */
  bitselect: (x: Code, y: Code, mask: Code): Code => [...x, ...y, ...mask, ...simd(0x52)],
  /** i8x16.shuffle by 32-bit lanes: lane i of the result is lane lanes[i] of (x ++ y), lanes in 0..7. */
  shuffle32: (x: Code, y: Code, lanes: readonly [number, number, number, number]): Code => [
    ...x, ...y, ...simd(0x0d), ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]),
  ],
};

export const f32x4 = {
  /** The two f64 lanes of x rounded to f32 in lanes 0 and 1; lanes 2 and 3 are zero. */
  demote_f64x2_zero: (x: Code): Code => [...x, ...simd(0x5e)],
  /** An f32 broadcast to all four lanes. */
  splat: (x: Code): Code => [...x, ...simd(0x13)],
  /** Lane-wise x > y as a mask: all ones where true, all zeros where false (so NaN lanes give zeros). */
  gt: (x: Code, y: Code): Code => [...x, ...y, ...simd(0x44)],
  add: (x: Code, y: Code): Code => [...x, ...y, ...simd(0xe4)],
  sub: (x: Code, y: Code): Code => [...x, ...y, ...simd(0xe5)],
  mul: (x: Code, y: Code): Code => [...x, ...y, ...simd(0xe6)],
  /** Lane `lane` (0–3) of x as an f32. */
  extract_lane: (x: Code, lane: number): Code => [...x, ...simd(0x1f), lane],
  /** x with lane `lane` (0–3) replaced by the f32 y. */
  replace_lane: (x: Code, lane: number, y: Code): Code => [...x, ...y, ...simd(0x20), lane],
  /** a·b + c, fused or not at the engine's choice (relaxed SIMD). */
  relaxed_madd: (a: Code, b: Code, c: Code): Code => [...a, ...b, ...c, ...simd(0x105)],
};

// ---- Control flow ----

const EMPTY_BLOCK = 0x40;
export const control = {
  block: (...body: Code[]): Code => [0x02, EMPTY_BLOCK, ...body.flat(), 0x0b],
  loop: (...body: Code[]): Code => [0x03, EMPTY_BLOCK, ...body.flat(), 0x0b],
  if: (cond: Code, then: Code, otherwise?: Code): Code =>
    otherwise ? [...cond, 0x04, EMPTY_BLOCK, ...then, 0x05, ...otherwise, 0x0b] : [...cond, 0x04, EMPTY_BLOCK, ...then, 0x0b],
  /** `cond ? then : otherwise` as a value of type `result`, evaluating only the branch taken. */
  ifElseValue: (result: ValType, cond: Code, then: Code, otherwise: Code): Code => [...cond, 0x04, result, ...then, 0x05, ...otherwise, 0x0b],
  br: (depth: number): Code => [0x0c, ...uleb(depth)],
  br_if: (depth: number, cond: Code): Code => [...cond, 0x0d, ...uleb(depth)],
  /** Returns from the function with `values` (its results). */
  return: (...values: Code[]): Code => [...values.flat(), 0x0f],
  call: (func: number, ...args: Code[]): Code => [...args.flat(), 0x10, ...uleb(func)],
};

/**
 * for (i = start; i < end; i += step) body — `end` and `step` are re-evaluated each turn, so pass locals or
 * constants. Inside `body`, branch depth 0 is the loop itself (br 0 = continue), depth 1 leaves it.
 */
export function forRange(i: number, start: Code, end: Code, step: Code, ...body: Code[]): Code {
  return seq(
    local.set(i, start),
    control.block(
      control.loop(
        control.br_if(1, i32.ge_s(local.get(i), end)),
        ...body,
        local.set(i, i32.add(local.get(i), step)),
        control.br(0),
      ),
    ),
  );
}

// ---- Module assembly ----

export interface FunctionSpec {
  name: string;
  params: readonly ValType[];
  results?: readonly ValType[];
  /** Exported under `name` when true. */
  exported?: boolean;
}

/** A function whose body is written after its index is known (so functions can call each other). */
export class FunctionBuilder {
  private readonly locals: ValType[] = [];
  body: Code = [];

  constructor(readonly spec: FunctionSpec, readonly index: number) {}

  /** A parameter's local index. */
  param(i: number): number {
    return i;
  }

  /** Declares a new local and returns its index. */
  local(t: ValType): number {
    this.locals.push(t);
    return this.spec.params.length + this.locals.length - 1;
  }

  encode(): Code {
    const decls = this.locals.map((t) => [1, t]); // one entry per local: (count 1, type)
    const body = [...vec(decls), ...this.body, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

export interface MemoryImport {
  module: string;
  name: string;
  /** In 64 KiB pages. */
  initial: number;
  maximum: number;
  shared: boolean;
}

export class ModuleBuilder {
  private readonly functions: FunctionBuilder[] = [];
  private memory?: MemoryImport;

  importMemory(m: MemoryImport): void {
    this.memory = m;
  }

  function(spec: FunctionSpec): FunctionBuilder {
    const f = new FunctionBuilder(spec, this.functions.length);
    this.functions.push(f);
    return f;
  }

  emit(): Uint8Array {
    const signature = (f: FunctionBuilder) => [0x60, ...vec(f.spec.params.map((t) => [t])), ...vec((f.spec.results ?? []).map((t) => [t]))];
    // One type per function keeps the builder simple; duplicates are legal.
    const types = section(1, vec(this.functions.map(signature)));
    const imports = this.memory ? section(2, vec([memoryImport(this.memory)])) : [];
    const funcs = section(3, vec(this.functions.map((f) => uleb(f.index))));
    const exports = section(7, vec(this.functions.filter((f) => f.spec.exported).map(exportEntry)));
    const code = section(10, vec(this.functions.map((f) => f.encode())));
    return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...types, ...imports, ...funcs, ...exports, ...code]);
  }
}

const name = (s: string) => [...uleb(utf8(s).length), ...utf8(s)];

/** An export of a function (kind 0x00) under its own name. */
const exportEntry = (f: FunctionBuilder): Code => [...name(f.spec.name), 0x00, ...uleb(f.index)];

function memoryImport(m: MemoryImport): Code {
  const flags = m.shared ? 0x03 : 0x01; // bit 0: has a maximum; bit 1: shared
  return [...name(m.module), ...name(m.name), 0x02, flags, ...uleb(m.initial), ...uleb(m.maximum)];
}
