/**
 * Sums over the rows of a float32 [rows, cols] matrix (a bias's gradient) as one WebAssembly SIMD function,
 * for buffers of a captured tape: out[c] = f32(Σ_r x[r, c]) with the sum in float64, row by row, exactly as
 * the reference loop (../../reference/reduce.ts, sumColumnsInto) adds — so bit for bit its result.
 * Four columns at a time: one f32x4 load, promoted to two f64x2 halves, added into a float64 accumulator row.
 *
 *   columnSum(x, out, acc, rows, cols, stride)   acc: a float64 [cols] scratch row (bytes), zeroed here;
 *                                                stride: floats from one row of x to the next (≥ cols)
 *
 * The stride lets threads split the sum by columns (parallel.ts): columns c0 … c1 − 1 of a [rows, n] matrix
 * are columnSum(x + 4·c0, out + 4·c0, acc + 8·c0, rows, c1 − c0, n). Each column still adds its rows in
 * order, so a split sum is bit for bit the whole one (a split by rows would change the order of the adds).
 */
import type { MemoryPages } from './wasm-arena.js';
import { type Code, ModuleBuilder, f32, f64, f64x2, forRange, i32, local, seq, type, v128 } from './wasm-emitter.js';
import { compiledOnce, instanceOver } from './instances.js';

export interface ColumnSumKernels {
  columnSum(x: number, out: number, acc: number, rows: number, cols: number, stride: number): void;
}

export function emitColumnSumModule(memoryPages: MemoryPages): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory({ module: 'env', name: 'memory', ...memoryPages, shared: memoryPages.shared ?? true });
  const f = m.function({ name: 'columnSum', params: [type.i32, type.i32, type.i32, type.i32, type.i32, type.i32], exported: true });
  const [X, OUT, ACC, ROWS, COLS, STRIDE] = [0, 1, 2, 3, 4, 5];
  const [r, c, row, vec4] = [f.local(type.i32), f.local(type.i32), f.local(type.i32), f.local(type.i32)];
  const v = f.local(type.v128);
  const get = local.get;
  const f32At = (base: Code, i: Code) => i32.add(base, i32.mul(i, i32.const(4)));
  const f64At = (i: Code) => i32.add(get(ACC), i32.mul(i, i32.const(8)));
  f.body = seq(
    // vec4 = cols rounded down to a multiple of 4: those columns go four at a time, the rest one by one.
    local.set(vec4, i32.and(get(COLS), i32.const(-4))),
    forRange(c, i32.const(0), get(COLS), i32.const(1), f64.store(f64At(get(c)), f64.const(0))),
    forRange(r, i32.const(0), get(ROWS), i32.const(1),
      local.set(row, f32At(get(X), i32.mul(get(r), get(STRIDE)))),
      forRange(c, i32.const(0), get(vec4), i32.const(4),
        local.set(v, v128.load(f32At(get(row), get(c)))),
        v128.store(f64At(get(c)), f64x2.add(v128.load(f64At(get(c))), f64x2.promote_low_f32x4(get(v)))),
        v128.store(f64At(get(c)), f64x2.add(v128.load(f64At(get(c)), 16), f64x2.promote_low_f32x4(v128.shuffle32(get(v), get(v), [2, 3, 2, 3]))), 16),
      ),
      forRange(c, get(vec4), get(COLS), i32.const(1),
        f64.store(f64At(get(c)), f64.add(f64.load(f64At(get(c))), f64.promote_f32(f32.load(f32At(get(row), get(c)))))),
      ),
    ),
    forRange(c, i32.const(0), get(COLS), i32.const(1), f32.store(f32At(get(OUT), get(c)), f64.demote_to_f32(f64.load(f64At(get(c)))))),
  );
  return m.emit();
}

const modules = new Map<string, WebAssembly.Module>(); // by page limits: they are part of the memory import
const instances = new WeakMap<WebAssembly.Memory, ColumnSumKernels>();

/** The compiled module for memories of these limits (compiled once; the thread pool's workers get it too). */
export function columnSumModule(pages: MemoryPages): WebAssembly.Module {
  return compiledOnce(modules, pages, () => emitColumnSumModule(pages));
}

/** The kernel instantiated over `memory` (once per memory). */
export function columnSumKernels(memory: WebAssembly.Memory, pages: MemoryPages): ColumnSumKernels {
  return instanceOver(instances, memory, () => columnSumModule(pages));
}
