/**
 * Attention over a short context (../../reference/attention.ts) as two WebAssembly functions over the shared
 * memory: `attention` (scores, causal mask, softmax and pattern·v in one pass per (batch, head) entry) and
 * `attentionBackward` (dpattern, the softmax backward, dq, dk, dv in one pass per entry).
 *
 * Bit for bit the JavaScript loops with sums: 'each-term', which in turn give the op-by-op path's numbers
 * on the cpu backend. So the arithmetic is float64 wherever JS computes in float64, rounded to float32
 * where JS stores:
 *   - dot products (q·kᵀ, dz·vᵀ) are scalar float64 sums in ascending order (a SIMD sum would reorder them);
 *   - weighted sums of rows (pattern·v, dscores·k, …) run four columns at a time, as two f64x2 halves, and
 *     round each partial sum to float32 as the JS loop's float32 output does;
 *   - exp is the host's Math.exp, imported, so the softmax is the one JS computes.
 * Rows are d floats with d a multiple of 4 (the caller checks).
 *
 * Arguments (pointers are byte addresses of contiguous float32 arrays; scratch is float64 memory of
 * qPos·pos + pos values; scale is √d rounded to float32):
 *   attention(q, k, v, z, pattern, scratch, entries, qPos, pos, d, causal, scale)
 *   attentionBackward(q, k, v, pattern, dz, dq, dk, dv, scratch, entries, qPos, pos, d, scale)
 */
import type { MemoryPages } from './wasm-arena.js';
import {
  type Code, ModuleBuilder, control, f32, f32x4, f64, f64x2, forRange, i32, local, seq, select, type, v128,
} from './wasm-emitter.js';

export interface AttentionKernels {
  attention(
    q: number, k: number, v: number, z: number, pattern: number, scratch: number,
    entries: number, qPos: number, pos: number, d: number, causal: number, scale: number,
  ): void;
  attentionBackward(
    q: number, k: number, v: number, pattern: number, dz: number, dq: number, dk: number, dv: number, scratch: number,
    entries: number, qPos: number, pos: number, d: number, scale: number,
  ): void;
}

const { get, set } = local;
const c = i32.const;
const I32 = type.i32;
const F64 = type.f64;
/** An f32 in memory as an f64 (exact). */
const loadF64 = (addr: Code, offset = 0): Code => f64.promote_f32(f32.load(addr, offset));
/** x rounded to float32 and back: what storing into a Float32Array and reading it again gives. */
const roundF32 = (x: Code): Code => f64.promote_f32(f64.demote_to_f32(x));

export function emitAttentionModule(memoryPages: MemoryPages): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory({ module: 'env', name: 'memory', ...memoryPages, shared: memoryPages.shared ?? true });
  const exp = m.importFunction({ module: 'env', name: 'exp', params: [F64], results: [F64] });

  // dot(a, b, rowBytes) → Σ_c a[c]·b[c] in float64, c ascending, four terms per turn (rowBytes % 16 = 0).
  const dot = (() => {
    const f = m.function({ name: 'dot', params: [I32, I32, I32], results: [F64] });
    const [a, b, rowBytes] = [0, 1, 2];
    const [at, s] = [f.local(I32), f.local(F64)];
    const term = (offset: number) =>
      set(s, f64.add(get(s), f64.mul(loadF64(i32.add(get(a), get(at)), offset), loadF64(i32.add(get(b), get(at)), offset))));
    f.body = seq(
      set(s, f64.const(0)),
      forRange(at, c(0), get(rowBytes), c(16), term(0), term(4), term(8), term(12)),
      get(s),
    );
    return f.index;
  })();

  // weightedRows(w, wStride, rows, n, out, rowBytes): out[:] = Σ_m w[m]·rows[m, :] over m < n (n ≥ 1), the
  // weights f32 wStride bytes apart, each partial sum rounded to float32 (as the JS loop's output stores it).
  const weightedRows = (() => {
    const f = m.function({ name: 'weightedRows', params: [I32, I32, I32, I32, I32, I32] });
    const [w, wStride, rows, n, out, rowBytes] = [0, 1, 2, 3, 4, 5];
    const [col, mm, wAt, rowAt] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
    const [x, wv, lo, hi] = [f.local(type.v128), f.local(type.v128), f.local(type.v128), f.local(type.v128)];
    const low = (v: Code) => f64x2.promote_low_f32x4(v);
    const high = (v: Code) => f64x2.promote_low_f32x4(v128.shuffle32(v, v, [2, 3, 2, 3]));
    const rounded = (v: Code) => low(f32x4.demote_f64x2_zero(v)); // both lanes rounded to f32, as f64 again
    const loadTerm = seq(
      set(wv, f64x2.splat(loadF64(get(wAt)))),
      set(x, v128.load(i32.add(get(rowAt), get(col)))),
    );
    f.body = forRange(col, c(0), get(rowBytes), c(16),
      set(wAt, get(w)),
      set(rowAt, get(rows)),
      loadTerm,
      set(lo, f64x2.mul(get(wv), low(get(x)))),
      set(hi, f64x2.mul(get(wv), high(get(x)))),
      forRange(mm, c(1), get(n), c(1),
        set(wAt, i32.add(get(wAt), get(wStride))),
        set(rowAt, i32.add(get(rowAt), get(rowBytes))),
        loadTerm,
        set(lo, f64x2.add(rounded(get(lo)), f64x2.mul(get(wv), low(get(x))))),
        set(hi, f64x2.add(rounded(get(hi)), f64x2.mul(get(wv), high(get(x))))),
      ),
      v128.store(i32.add(get(out), get(col)), v128.shuffle32(f32x4.demote_f64x2_zero(get(lo)), f32x4.demote_f64x2_zero(get(hi)), [0, 1, 4, 5])),
    );
    return f.index;
  })();

  // ---- Forward ----
  {
    const f = m.function({ name: 'attention', params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F64], exported: true });
    const [q, k, v, z, pattern, scratch, entries, qPos, pos, d, causal, scale] = Array.from({ length: 12 }, (_, i) => i) as number[];
    const [t, i, j, rowBytes, kv, qRow, pRow, seen] = Array.from({ length: 8 }, () => f.local(I32)) as number[];
    const [max, sum, e] = [f.local(F64), f.local(F64), f.local(F64)];
    const sj = f.local(type.f32);
    const pAt = i32.add(get(pRow), i32.shl(get(j), c(2))); // pattern[row, j]
    const eAt = i32.add(get(scratch), i32.shl(get(j), c(3))); // scratch[j], f64
    f.body = seq(
      set(rowBytes, i32.shl(get(d), c(2))),
      forRange(t, c(0), get(entries), c(1),
        set(kv, i32.mul(i32.mul(get(t), get(pos)), get(rowBytes))),
        forRange(i, c(0), get(qPos), c(1),
          set(qRow, i32.add(i32.mul(get(t), get(qPos)), get(i))), // the query's row index, for q, z and pattern
          set(pRow, i32.add(get(pattern), i32.shl(i32.mul(get(qRow), get(pos)), c(2)))),
          set(qRow, i32.mul(get(qRow), get(rowBytes))),
          set(seen, i32.sub(i32.add(get(i), get(pos)), get(qPos))), // the last key this query sees
          set(max, f64.const(-Infinity)),
          // scores = f32(f32(q·k_j) / √d), + the mask term, kept in the pattern row for now
          forRange(j, c(0), get(pos), c(1),
            set(sj, f64.demote_to_f32(f64.div(
              roundF32(control.call(dot, i32.add(get(q), get(qRow)), i32.add(i32.add(get(k), get(kv)), i32.mul(get(j), get(rowBytes))), get(rowBytes))),
              get(scale),
            ))),
            control.if(get(causal),
              set(sj, f32.add(get(sj), select(f32.const(-Infinity), f32.const(0), i32.gt_s(get(j), get(seen)))))),
            f32.store(pAt, get(sj)),
            set(max, f64.max(get(max), f64.promote_f32(get(sj)))),
          ),
          // softmax, as the backend's: max-subtracted in float64, exp of each key once
          control.if(i32.or(f64.eq(get(max), f64.const(-Infinity)), f64.ne(get(max), get(max))), set(max, f64.const(0))),
          set(sum, f64.const(0)),
          forRange(j, c(0), get(pos), c(1),
            set(e, control.call(exp, f64.sub(loadF64(pAt), get(max)))),
            f64.store(eAt, get(e)),
            set(sum, f64.add(get(sum), get(e))),
          ),
          forRange(j, c(0), get(pos), c(1), f32.store(pAt, f64.demote_to_f32(f64.div(f64.load(eAt), get(sum))))),
          // z row = pattern row · v
          control.call(weightedRows, get(pRow), c(4), i32.add(get(v), get(kv)), get(pos), i32.add(get(z), get(qRow)), get(rowBytes)),
        ),
      ),
    );
  }

  // ---- Backward ----
  {
    const f = m.function({
      name: 'attentionBackward', params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F64], exported: true,
    });
    const [q, k, v, pattern, dz, dq, dk, dv, scratch, entries, qPos, pos, d, scale] = Array.from({ length: 14 }, (_, i) => i) as number[];
    const [t, i, j, rowBytes, kv, qz, pb, dsAt, dpat, qRowBytes] = Array.from({ length: 10 }, () => f.local(I32)) as number[];
    const [s, dp] = [f.local(F64), f.local(F64)];
    const pAt = i32.add(get(pb), i32.shl(i32.add(i32.mul(get(i), get(pos)), get(j)), c(2))); // pattern[i, j]
    const dpAt = i32.add(get(dpat), i32.shl(get(j), c(3))); // dpattern[j], f64
    f.body = seq(
      set(rowBytes, i32.shl(get(d), c(2))),
      set(dpat, i32.add(get(scratch), i32.shl(i32.mul(get(qPos), get(pos)), c(3)))), // after the dscores
      forRange(t, c(0), get(entries), c(1),
        set(kv, i32.mul(i32.mul(get(t), get(pos)), get(rowBytes))),
        set(qz, i32.mul(i32.mul(get(t), get(qPos)), get(rowBytes))),
        set(pb, i32.add(get(pattern), i32.shl(i32.mul(i32.mul(get(t), get(qPos)), get(pos)), c(2)))),
        forRange(i, c(0), get(qPos), c(1),
          // dpattern = f32(dz·v_j); s = f32(Σ_j f32(dpattern ⊙ pattern))
          set(s, f64.const(0)),
          forRange(j, c(0), get(pos), c(1),
            set(dp, roundF32(control.call(dot,
              i32.add(i32.add(get(dz), get(qz)), i32.mul(get(i), get(rowBytes))),
              i32.add(i32.add(get(v), get(kv)), i32.mul(get(j), get(rowBytes))),
              get(rowBytes)))),
            f64.store(dpAt, get(dp)),
            set(s, f64.add(get(s), roundF32(f64.mul(get(dp), loadF64(pAt))))),
          ),
          set(s, roundF32(get(s))),
          // dscores / √d = f32(f32(pattern · f32(dpattern − s)) / √d), stored as f32 weights in the scratch
          forRange(j, c(0), get(pos), c(1),
            set(dsAt, i32.add(get(scratch), i32.shl(i32.add(i32.mul(get(i), get(pos)), get(j)), c(2)))),
            f32.store(get(dsAt), f64.demote_to_f32(f64.div(
              roundF32(f64.mul(loadF64(pAt), roundF32(f64.sub(f64.load(dpAt), get(s))))),
              get(scale),
            ))),
          ),
        ),
        // dq = dscores·k (rows i), dk = dscoresᵀ·q and dv = patternᵀ·dz (rows j)
        forRange(i, c(0), get(qPos), c(1),
          control.call(weightedRows,
            i32.add(get(scratch), i32.shl(i32.mul(get(i), get(pos)), c(2))), c(4),
            i32.add(get(k), get(kv)), get(pos),
            i32.add(i32.add(get(dq), get(qz)), i32.mul(get(i), get(rowBytes))), get(rowBytes)),
        ),
        set(qRowBytes, i32.shl(get(pos), c(2))), // the stride between one key's weights of successive queries
        forRange(j, c(0), get(pos), c(1),
          control.call(weightedRows,
            i32.add(get(scratch), i32.shl(get(j), c(2))), get(qRowBytes),
            i32.add(get(q), get(qz)), get(qPos),
            i32.add(i32.add(get(dk), get(kv)), i32.mul(get(j), get(rowBytes))), get(rowBytes)),
          control.call(weightedRows,
            i32.add(get(pb), i32.shl(get(j), c(2))), get(qRowBytes),
            i32.add(get(dz), get(qz)), get(qPos),
            i32.add(i32.add(get(dv), get(kv)), i32.mul(get(j), get(rowBytes))), get(rowBytes)),
        ),
      ),
    );
  }
  return m.emit();
}

const instances = new WeakMap<WebAssembly.Memory, AttentionKernels>();

/** The kernels instantiated over `memory` (compiled once per memory), with Math.exp as their exp. */
export function attentionKernels(memory: WebAssembly.Memory, pages: MemoryPages): AttentionKernels {
  let kernels = instances.get(memory);
  if (!kernels) {
    const module = new WebAssembly.Module(emitAttentionModule(pages));
    kernels = new WebAssembly.Instance(module, { env: { memory, exp: Math.exp } }).exports as unknown as AttentionKernels;
    instances.set(memory, kernels);
  }
  return kernels;
}
