/**
 * The float32 embedding bag and its two adjoints (see ../../reference/embedding-bag.ts, whose loops these
 * compute bit for bit) as WebAssembly SIMD over the shared memory, for buffers of a captured tape.
 *
 *   embeddingBag(table, index, weight, out, B, R, D)           out[b] = Σ_r weight[b, r] · table[index[b, r]]
 *   embeddingBagWeightGrad(table, index, g, out, B, R, D)      out[b, r] = table[index[b, r]] · g[b]
 *   embeddingBagTableGrad(index, weight, g, out, B, R, D, n0, n1)   rows n0 … n1 − 1 of out: zeroed, then
 *                                                 out[index[b, r]] += weight[b, r] · g[b] where index[b, r] is one of them
 *
 * Pointers are byte addresses; B, R, D count elements. Every loop walks a row 16 floats at a time, as four
 * f32x4 vectors, and the last D mod 16 columns one at a time (the same operations in one lane). Products
 * and sums are separate float32 operations (no fused multiply-add), so each rounds exactly as Math.fround
 * does in the reference loop.
 *   - The forward keeps 16 columns of out[b] in four accumulators while it runs over the R rows, so each
 *     output element sees its R terms in order, as the reference adds them.
 *   - The weight gradient keeps four accumulators whose lane l of vector q holds the partial sum s[4q + l]
 *     of the reference, then adds them in the reference's order.
 *   - The table gradient is a read-modify-write of the looked-up rows, (b, r) in order. Rows repeat, so
 *     threads split it by ranges of destination rows: each walks every (b, r) and takes those of its rows.
 */
import type { MemoryPages } from './wasm-arena.js';
import { type Code, ModuleBuilder, control, f32, f32x4, forRange, i32, local, seq, type, v128 } from './wasm-emitter.js';
import { compiledOnce, instanceOver } from './instances.js';

export interface EmbeddingBagKernels {
  embeddingBag(table: number, index: number, weight: number, out: number, B: number, R: number, D: number): void;
  embeddingBagWeightGrad(table: number, index: number, g: number, out: number, B: number, R: number, D: number): void;
  embeddingBagTableGrad(index: number, weight: number, g: number, out: number, B: number, R: number, D: number, rowStart: number, rowEnd: number): void;
}

/** Columns a loop step covers: four f32x4 vectors. */
export const EMBEDDING_BAG_STEP = 16;

const PARAMS = Array<typeof type.i32>(7).fill(type.i32);
const { get, set } = local;
const c = i32.const;
/** Byte address base + 4·index. */
const at = (base: Code, index: Code): Code => i32.add(base, i32.mul(index, c(4)));

export function emitEmbeddingBagModule(memoryPages: MemoryPages): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory({ module: 'env', name: 'memory', ...memoryPages, shared: memoryPages.shared ?? true });

  // out[b, d0:d0+16] = Σ_r w[b, r] · table[index[b, r], d0:d0+16], the four vectors held across r.
  {
    const f = m.function({ name: 'embeddingBag', params: PARAMS, exported: true });
    const [TABLE, INDEX, WEIGHT, OUT, B, R, D] = [0, 1, 2, 3, 4, 5, 6];
    const [b, r, d0, bag, row, o, D16] = Array.from({ length: 7 }, () => f.local(type.i32)) as number[] as [number, number, number, number, number, number, number];
    const acc = Array.from({ length: 4 }, () => f.local(type.v128));
    const w = f.local(type.v128);
    const s = f.local(type.f32);
    const rowOf = (k: Code) => at(get(TABLE), i32.add(i32.mul(i32.load(at(get(INDEX), k)), get(D)), get(d0))); // table[index[k], d0]
    f.body = seq(
      set(D16, i32.and(get(D), c(-EMBEDDING_BAG_STEP))),
      forRange(b, c(0), get(B), c(1),
        set(bag, i32.mul(get(b), get(R))), // first (index, weight) entry of this bag
        set(o, at(get(OUT), i32.mul(get(b), get(D)))),
        forRange(d0, c(0), get(D16), c(EMBEDDING_BAG_STEP),
          ...acc.map((a) => set(a, v128.zero())),
          forRange(r, c(0), get(R), c(1),
            set(w, v128.load32_splat(at(get(WEIGHT), i32.add(get(bag), get(r))))),
            set(row, rowOf(i32.add(get(bag), get(r)))),
            ...acc.map((a, q) => set(a, f32x4.add(get(a), f32x4.mul(get(w), v128.load(get(row), 16 * q))))),
          ),
          ...acc.map((a, q) => v128.store(at(get(o), get(d0)), get(a), 16 * q)),
        ),
        forRange(d0, get(D16), get(D), c(1), // the last columns, one at a time
          set(s, f32.const(0)),
          forRange(r, c(0), get(R), c(1),
            set(s, f32.add(get(s), f32.mul(f32.load(at(get(WEIGHT), i32.add(get(bag), get(r)))), f32.load(rowOf(i32.add(get(bag), get(r)))))))),
          f32.store(at(get(o), get(d0)), get(s)),
        ),
      ),
    );
  }

  // out[b, r] = table[index[b, r]] · g[b]: 16 partial sums in four vectors, then the reference's order.
  {
    const f = m.function({ name: 'embeddingBagWeightGrad', params: PARAMS, exported: true });
    const [TABLE, INDEX, G, OUT, B, R, D] = [0, 1, 2, 3, 4, 5, 6];
    const [b, r, d0, k, row, gRow, D16] = Array.from({ length: 7 }, () => f.local(type.i32)) as number[] as [number, number, number, number, number, number, number];
    const acc = Array.from({ length: 4 }, () => f.local(type.v128));
    const v = f.local(type.v128);
    const lane = (l: number) => f32x4.extract_lane(get(v), l);
    // Column D16 + j of the last (fewer than 16) joins partial sum s[j]: lane j mod 4 of acc[j / 4].
    const tailTerm = (j: number) => {
      const a = acc[j >> 2]!;
      const term = f32.mul(f32.load(get(row), 4 * j), f32.load(get(gRow), 4 * j));
      return control.if(i32.lt_s(i32.add(get(D16), c(j)), get(D)),
        set(a, f32x4.replace_lane(get(a), j & 3, f32.add(f32x4.extract_lane(get(a), j & 3), term))));
    };
    f.body = seq(
      set(D16, i32.and(get(D), c(-EMBEDDING_BAG_STEP))),
      forRange(b, c(0), get(B), c(1),
        set(gRow, at(get(G), i32.mul(get(b), get(D)))),
        forRange(r, c(0), get(R), c(1),
          set(k, i32.add(i32.mul(get(b), get(R)), get(r))),
          set(row, at(get(TABLE), i32.mul(i32.load(at(get(INDEX), get(k))), get(D)))),
          ...acc.map((a) => set(a, v128.zero())),
          forRange(d0, c(0), get(D16), c(EMBEDDING_BAG_STEP),
            ...acc.map((a, q) => set(a, f32x4.add(get(a), f32x4.mul(v128.load(get(row), 16 * q), v128.load(get(gRow), 16 * q))))),
            set(row, i32.add(get(row), c(4 * EMBEDDING_BAG_STEP))),
            set(gRow, i32.add(get(gRow), c(4 * EMBEDDING_BAG_STEP))),
          ),
          ...Array.from({ length: EMBEDDING_BAG_STEP - 1 }, (_, j) => tailTerm(j)),
          set(gRow, i32.sub(get(gRow), i32.mul(get(D16), c(4)))), // back to the start of g[b] for the next r
          // v[l] = ((s[l] + s[l+4]) + s[l+8]) + s[l+12]; dot = ((v0 + v1) + v2) + v3
          set(v, f32x4.add(f32x4.add(f32x4.add(get(acc[0]!), get(acc[1]!)), get(acc[2]!)), get(acc[3]!))),
          f32.store(at(get(OUT), get(k)), f32.add(f32.add(f32.add(lane(0), lane(1)), lane(2)), lane(3))),
        ),
      ),
    );
  }

  // Rows [rowStart, rowEnd) of out: zeroed, then out[index[b, r]] += w[b, r] · g[b] for the (b, r), in order,
  // whose index falls in the range (a thread that owns a range of rows walks every (b, r)).
  {
    const f = m.function({ name: 'embeddingBagTableGrad', params: [...PARAMS, type.i32, type.i32], exported: true });
    const [INDEX, WEIGHT, G, OUT, B, R, D, ROW_START, ROW_END] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    const [b, r, d0, k, n, row, gRow, end, D16, end16] = Array.from({ length: 10 }, () => f.local(type.i32)) as number[] as [
      number, number, number, number, number, number, number, number, number, number,
    ];
    const w = f.local(type.v128);
    f.body = seq(
      set(D16, i32.and(get(D), c(-EMBEDDING_BAG_STEP))),
      // Zero this thread's rows (16 bytes at a time, then the last floats alone: never past `end`).
      set(row, at(get(OUT), i32.mul(get(ROW_START), get(D)))),
      set(end, at(get(OUT), i32.mul(get(ROW_END), get(D)))),
      set(end16, i32.sub(get(end), i32.and(i32.sub(get(end), get(row)), c(15)))),
      forRange(row, get(row), get(end16), c(16), v128.store(get(row), v128.zero())),
      forRange(row, get(end16), get(end), c(4), f32.store(get(row), f32.const(0))),
      forRange(b, c(0), get(B), c(1),
        set(gRow, at(get(G), i32.mul(get(b), get(D)))),
        forRange(r, c(0), get(R), c(1),
          set(k, i32.add(i32.mul(get(b), get(R)), get(r))),
          set(n, i32.load(at(get(INDEX), get(k)))),
          control.if(i32.and(i32.ge_s(get(n), get(ROW_START)), i32.lt_s(get(n), get(ROW_END))), seq(
            set(w, v128.load32_splat(at(get(WEIGHT), get(k)))),
            set(row, at(get(OUT), i32.mul(get(n), get(D)))),
            forRange(d0, c(0), get(D16), c(EMBEDDING_BAG_STEP),
              ...Array.from({ length: 4 }, (_, q) =>
                v128.store(get(row), f32x4.add(v128.load(get(row), 16 * q), f32x4.mul(get(w), v128.load(at(get(gRow), get(d0)), 16 * q))), 16 * q)),
              set(row, i32.add(get(row), c(4 * EMBEDDING_BAG_STEP))),
            ),
            forRange(d0, get(D16), get(D), c(1), // the last columns, one at a time
              f32.store(get(row), f32.add(f32.load(get(row)), f32.mul(f32x4.extract_lane(get(w), 0), f32.load(at(get(gRow), get(d0)))))),
              set(row, i32.add(get(row), c(4))),
            ),
          )),
        ),
      ),
    );
  }
  return m.emit();
}

const modules = new Map<string, WebAssembly.Module>();

/** The compiled module for memories of these limits (compiled once; the thread pool's workers get it too). */
export function embeddingBagModule(pages: MemoryPages): WebAssembly.Module {
  return compiledOnce(modules, pages, () => emitEmbeddingBagModule(pages));
}

const instances = new WeakMap<WebAssembly.Memory, EmbeddingBagKernels>();

/** The kernels instantiated over `memory` (compiled once per memory). */
export function embeddingBagKernels(memory: WebAssembly.Memory, pages: MemoryPages): EmbeddingBagKernels {
  return instanceOver(instances, memory, () => embeddingBagModule(pages));
}
