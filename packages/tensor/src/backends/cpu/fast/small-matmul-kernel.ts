/**
 * Many tiny matmuls (attention's per-(example, head) products, [1, 32]·[32, 3] and [1, 3]·[3, 32] for 3830 × 4
 * batch entries) as one WebAssembly function over the shared memory: the same loops as the JavaScript
 * `smallMatmulInto` (../small-matmul.ts), written in scalar wasm, for buffers of a captured tape that already
 * live in that memory. No SIMD: with K or N of 3, the work is in walking the entries, which wasm does
 * without JavaScript's bounds checks and array lookups (≈ 10× faster here).
 *
 * Bit for bit the JavaScript loop, which computes in float64 and rounds to float32 where it stores:
 *   smallMatmul:       c = f32(a₀·b₀), then c = f32(c + a_k·b_k) for k = 1 … K − 1 (rows of B)
 *   smallMatmulTransB: c = f32(Σ_k a_k·b_k), the sum in float64 (B stored transposed: dot products)
 * The products of two float32 values are exact in float64, so both loops round exactly where JS does.
 *
 * Arguments (pointers are byte addresses; offsets are element offsets of A and B per batch entry, int32
 * pairs, as planMatmul gives them; A(i, k) = a[aOffset + i·ai + k·ak], whichever way A is stored):
 *   (a, b, c, offsets, nBatch, M, K, N, ai, ak)
 */
import type { MemoryPages } from './wasm-arena.js';
import { type Code, ModuleBuilder, control, f32, f64, forRange, i32, local, seq, type } from './wasm-emitter.js';
import { compiledOnce, instanceOver } from './instances.js';

export interface SmallMatmulKernels {
  smallMatmul(a: number, b: number, c: number, offsets: number, nBatch: number, M: number, K: number, N: number, ai: number, ak: number): void;
  smallMatmulTransB(a: number, b: number, c: number, offsets: number, nBatch: number, M: number, K: number, N: number, ai: number, ak: number): void;
}

const PARAMS = [type.i32, type.i32, type.i32, type.i32, type.i32, type.i32, type.i32, type.i32, type.i32, type.i32];
const [A, B, C, OFFSETS, NBATCH, M, K, N, AI, AK] = PARAMS.map((_, i) => i) as number[];

const get = local.get;
/** Byte address base + 4·index. */
const at = (base: Code, index: Code): Code => i32.add(base, i32.mul(index, i32.const(4)));
const loadF64 = (addr: Code): Code => f64.promote_f32(f32.load(addr));
const storeF32 = (addr: Code, x: Code): Code => f32.store(addr, f64.demote_to_f32(x));

export function emitSmallMatmulModule(memoryPages: MemoryPages): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory({ module: 'env', name: 'memory', ...memoryPages, shared: memoryPages.shared ?? true });

  // C[t, i, :] = Σ_k A(t, i, k) · B[t, k, :], accumulating in C itself.
  {
    const f = m.function({ name: 'smallMatmul', params: PARAMS, exported: true });
    const [t, i, j, k, ao, bo, o, ap, br] = Array.from({ length: 9 }, () => f.local(type.i32)) as number[];
    const aik = f.local(type.f64);
    const cj = at(get(o), get(j));
    f.body = forRange(t, i32.const(0), get(NBATCH), i32.const(1),
      local.set(ao, at(get(A), i32.load(at(get(OFFSETS), i32.mul(get(t), i32.const(2)))))),
      local.set(bo, at(get(B), i32.load(at(get(OFFSETS), i32.mul(get(t), i32.const(2))), 4))),
      forRange(i, i32.const(0), get(M), i32.const(1),
        local.set(o, at(get(C), i32.mul(i32.add(i32.mul(get(t), get(M)), get(i)), get(N)))),
        local.set(ap, at(get(ao), i32.mul(get(i), get(AI)))),
        control.if(i32.eqz(get(K)),
          forRange(j, i32.const(0), get(N), i32.const(1), f32.store(cj, f32.const(0))),
          seq(
            local.set(aik, loadF64(get(ap))),
            forRange(j, i32.const(0), get(N), i32.const(1), storeF32(cj, f64.mul(get(aik), loadF64(at(get(bo), get(j)))))),
            forRange(k, i32.const(1), get(K), i32.const(1),
              local.set(aik, loadF64(at(get(ap), i32.mul(get(k), get(AK))))),
              local.set(br, at(get(bo), i32.mul(get(k), get(N)))),
              forRange(j, i32.const(0), get(N), i32.const(1),
                storeF32(cj, f64.add(loadF64(cj), f64.mul(get(aik), loadF64(at(get(br), get(j))))))),
            ),
          ),
        ),
      ),
    );
  }

  // C[t, i, j] = Σ_k A(t, i, k) · B[t, j, k], a float64 dot product per entry.
  {
    const f = m.function({ name: 'smallMatmulTransB', params: PARAMS, exported: true });
    const [t, i, j, k, ao, bo, o, ar, bc] = Array.from({ length: 9 }, () => f.local(type.i32)) as number[];
    const s = f.local(type.f64);
    f.body = seq(
      local.set(o, get(C)),
      forRange(t, i32.const(0), get(NBATCH), i32.const(1),
        local.set(ao, at(get(A), i32.load(at(get(OFFSETS), i32.mul(get(t), i32.const(2)))))),
        local.set(bo, at(get(B), i32.load(at(get(OFFSETS), i32.mul(get(t), i32.const(2))), 4))),
        forRange(i, i32.const(0), get(M), i32.const(1),
          local.set(ar, at(get(ao), i32.mul(get(i), get(AI)))),
          forRange(j, i32.const(0), get(N), i32.const(1),
            local.set(bc, at(get(bo), i32.mul(get(j), get(K)))),
            local.set(s, f64.const(0)),
            forRange(k, i32.const(0), get(K), i32.const(1),
              local.set(s, f64.add(get(s), f64.mul(loadF64(at(get(ar), i32.mul(get(k), get(AK)))), loadF64(at(get(bc), get(k))))))),
            storeF32(get(o), get(s)),
            local.set(o, i32.add(get(o), i32.const(4))),
          ),
        ),
      ),
    );
  }
  return m.emit();
}

const modules = new Map<string, WebAssembly.Module>();
const instances = new WeakMap<WebAssembly.Memory, SmallMatmulKernels>();

/** The compiled module for memories of these limits (compiled once; the thread pool's workers get it too). */
export function smallMatmulModule(pages: MemoryPages): WebAssembly.Module {
  return compiledOnce(modules, pages, () => emitSmallMatmulModule(pages));
}

/** The kernels instantiated over `memory` (once per memory). */
export function smallMatmulKernels(memory: WebAssembly.Memory, pages: MemoryPages): SmallMatmulKernels {
  return instanceOver(instances, memory, () => smallMatmulModule(pages));
}
