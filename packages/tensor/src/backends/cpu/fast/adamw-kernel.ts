/**
 * The AdamW update of float32 parameters as one WebAssembly SIMD function, in place on p, m and v:
 *
 *   adamw(p, g, m, v, n, decay, stepSize, bc2Sqrt, beta1, beta2, eps)      pointers: byte addresses
 *
 * It is @grok/autograd's fused ADAMW formula (optim/adamw.ts) as the cpu runs it (reference/fused.ts): every
 * element read as a float64, the formula evaluated in float64 in the order JavaScript evaluates it, each
 * result rounded to float32 once where it is stored:
 *
 *   m1    = beta1·m + (1 − beta1)·g
 *   v1    = beta2·v + ((1 − beta2)·g)·g
 *   denom = sqrt(v1) / bc2Sqrt + eps
 *   p     = p·decay − stepSize·(m1 / denom);  m = m1;  v = v1
 *
 * Float64 addition, multiplication, division and the square root are correctly rounded in wasm as in
 * JavaScript, and (1 − beta1) is the same float64 whether it is computed once or per element, so the
 * results are bit for bit the JavaScript loop's. Two elements per f64x2 operation: four float32 lanes are
 * loaded, promoted in two halves, and the two halves' results demoted and stored as four lanes again; the
 * last n % 4 elements go one by one. The pieces of a split (parallel.ts) are ranges of elements.
 */
import type { MemoryPages } from './wasm-arena.js';
import { type Code, ModuleBuilder, f32, f64, f64x2, forRange, i32, local, seq, type, v128 } from './wasm-emitter.js';
import { compiledOnce, instanceOver } from './instances.js';

export interface AdamWKernels {
  adamw(p: number, g: number, m: number, v: number, n: number,
    decay: number, stepSize: number, bc2Sqrt: number, beta1: number, beta2: number, eps: number): void;
}

/** The float64 arithmetic at two widths: two lanes (f64x2), and one for the tail. */
interface Width {
  add(x: Code, y: Code): Code;
  sub(x: Code, y: Code): Code;
  mul(x: Code, y: Code): Code;
  div(x: Code, y: Code): Code;
  sqrt(x: Code): Code;
}
const TWO: Width = { add: f64x2.add, sub: f64x2.sub, mul: f64x2.mul, div: f64x2.div, sqrt: f64x2.sqrt };
const ONE: Width = { add: f64.add, sub: f64.sub, mul: f64.mul, div: f64.div, sqrt: f64.sqrt };

interface Scalars {
  decay: Code; stepSize: Code; bc2Sqrt: Code; beta1: Code; beta2: Code; eps: Code; oneMinusBeta1: Code; oneMinusBeta2: Code;
}

/** The formula: m1 and v1 into their locals, and the new p as the returned expression. */
function update(w: Width, k: Scalars, p: Code, g: number, m: Code, v: Code, m1: number, v1: number): { set: Code; newP: Code } {
  const get = local.get;
  const set = seq(
    local.set(m1, w.add(w.mul(k.beta1, m), w.mul(k.oneMinusBeta1, get(g)))),
    local.set(v1, w.add(w.mul(k.beta2, v), w.mul(w.mul(k.oneMinusBeta2, get(g)), get(g)))),
  );
  const denom = w.add(w.div(w.sqrt(get(v1)), k.bc2Sqrt), k.eps);
  return { set, newP: w.sub(w.mul(p, k.decay), w.mul(k.stepSize, w.div(get(m1), denom))) };
}

export function emitAdamWModule(memoryPages: MemoryPages): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory({ module: 'env', name: 'memory', ...memoryPages, shared: memoryPages.shared ?? true });
  const F64 = type.f64;
  const f = m.function({ name: 'adamw', params: [type.i32, type.i32, type.i32, type.i32, type.i32, F64, F64, F64, F64, F64, F64], exported: true });
  const [P, G, M, V, N, DECAY, STEP, BC2, B1, B2, EPS] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const { get, set } = local;
  const [i, end, end4] = [f.local(type.i32), f.local(type.i32), f.local(type.i32)];
  const [omb1, omb2] = [f.local(F64), f.local(F64)];
  const scalar: Scalars = {
    decay: get(DECAY), stepSize: get(STEP), bc2Sqrt: get(BC2), beta1: get(B1), beta2: get(B2), eps: get(EPS),
    oneMinusBeta1: get(omb1), oneMinusBeta2: get(omb2),
  };
  // The scalars splatted once into two-lane locals.
  const splats = [DECAY, STEP, BC2, B1, B2, EPS, omb1, omb2].map((s) => ({ from: s, to: f.local(type.v128) }));
  const lane = (s: number) => get(splats.find((x) => x.from === s)!.to);
  const pair: Scalars = {
    decay: lane(DECAY), stepSize: lane(STEP), bc2Sqrt: lane(BC2), beta1: lane(B1), beta2: lane(B2), eps: lane(EPS),
    oneMinusBeta1: lane(omb1), oneMinusBeta2: lane(omb2),
  };
  const at = (base: number) => i32.add(get(base), get(i));

  // Four elements: x4 holds four float32 lanes; its halves are promoted to two float64 lanes each.
  const [P4, G4, M4, V4] = [f.local(type.v128), f.local(type.v128), f.local(type.v128), f.local(type.v128)];
  const halves = [0, 1].map(() => ({ g: f.local(type.v128), m1: f.local(type.v128), v1: f.local(type.v128), p1: f.local(type.v128) }));
  const half = (x4: number, h: number) => f64x2.promote_low_f32x4(h === 0 ? get(x4) : v128.shuffle32(get(x4), get(x4), [2, 3, 2, 3]));
  const four = seq(
    set(P4, v128.load(at(P))), set(G4, v128.load(at(G))), set(M4, v128.load(at(M))), set(V4, v128.load(at(V))),
    ...halves.map((h, k) => {
      const u = update(TWO, pair, half(P4, k), h.g, half(M4, k), half(V4, k), h.m1, h.v1);
      return seq(set(h.g, half(G4, k)), u.set, set(h.p1, u.newP));
    }),
    // Demoted, each half fills the low two lanes: put the halves side by side again.
    ...([['p1', P], ['m1', M], ['v1', V]] as const).map(([r, ptr]) =>
      v128.store(at(ptr), v128.shuffle32(f64x2.demote_zero_f32x4(get(halves[0]![r])), f64x2.demote_zero_f32x4(get(halves[1]![r])), [0, 1, 4, 5]))),
  );

  const [g1, m1, v1] = [f.local(F64), f.local(F64), f.local(F64)];
  const u1 = update(ONE, scalar, f64.promote_f32(f32.load(at(P))), g1, f64.promote_f32(f32.load(at(M))), f64.promote_f32(f32.load(at(V))), m1, v1);
  const one = seq(
    set(g1, f64.promote_f32(f32.load(at(G)))),
    u1.set,
    f32.store(at(P), f64.demote_to_f32(u1.newP)),
    f32.store(at(M), f64.demote_to_f32(get(m1))),
    f32.store(at(V), f64.demote_to_f32(get(v1))),
  );

  f.body = seq(
    set(omb1, f64.sub(f64.const(1), get(B1))),
    set(omb2, f64.sub(f64.const(1), get(B2))),
    ...splats.map((s) => set(s.to, f64x2.splat(get(s.from)))),
    set(end, i32.shl(get(N), i32.const(2))), // i runs over byte offsets of the float32 arrays
    set(end4, i32.and(get(end), i32.const(-16))),
    forRange(i, i32.const(0), get(end4), i32.const(16), four),
    forRange(i, get(end4), get(end), i32.const(4), one),
  );
  return m.emit();
}

const modules = new Map<string, WebAssembly.Module>();
const instances = new WeakMap<WebAssembly.Memory, AdamWKernels>();

/** The compiled module for memories of these limits (compiled once; the thread pool's workers get it too). */
export function adamwModule(pages: MemoryPages): WebAssembly.Module {
  return compiledOnce(modules, pages, () => emitAdamWModule(pages));
}

/** The kernel instantiated over `memory` (once per memory). */
export function adamwKernels(memory: WebAssembly.Memory, pages: MemoryPages): AdamWKernels {
  return instanceOver(instances, memory, () => adamwModule(pages));
}
