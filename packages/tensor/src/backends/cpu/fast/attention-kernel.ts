/**
 * Attention over a short context (../../reference/attention.ts) as WebAssembly functions over the shared
 * memory: the forward (scores, causal mask, softmax and pattern·v, per (batch, head) entry: attentionScores,
 * then exp, then attentionMix; wasm-dispatch.ts drives the three and splits each pass
 * across the threads by entries) and `attentionBackward` (dpattern, the softmax backward, dq, dk, dv in one
 * pass per entry). The pattern-only op (no v, no z) runs the same functions with the z pointers 0.
 *
 * Bit for bit the JavaScript loops with sums: 'each-term', which in turn give the op-by-op path's numbers
 * on the cpu backend. So the arithmetic is float64 wherever JS computes in float64, rounded to float32
 * where JS stores:
 *   - dot products (q·kᵀ, dz·vᵀ) are float64 sums in ascending order, as JS adds them (summing one dot in
 *     SIMD lanes would reorder it): four keys' sums run side by side instead, in f64x2 lanes;
 *   - weighted sums of rows (pattern·v, dscores·k, …) run four columns at a time, as two f64x2 halves, and
 *     round each partial sum to float32 as the JS loop's float32 output does;
 *   - exp has Math.exp's bits, so the softmax is the one JS computes: the forward runs in two passes,
 *     scores − max into a float64 buffer, then (after an exp over it: the cross-entropy module's fdlibm exp,
 *     fdlibm.ts, split across the threads) pattern and z. A wasm call into JS per exp would cost ≈ 35 ns
 *     here, 1.6 ms for the paper’s 46k scores; a JS loop of Math.exp on the caller ≈ 0.3 ms.
 * Rows are d floats with d a multiple of 4 (the caller checks).
 *
 * Arguments (pointers are byte addresses of contiguous float32 arrays; exps is float64 memory of
 * entries·qPos·pos values, dots of pos + 4, scratch of qPos·pos + pos + 4; scale is √d rounded to float32):
 *   attentionScores(q, k, exps, dots, entries, qPos, pos, d, causal, scale), then exps = exp(exps), then
 *   attentionMix(exps, v, z, pattern, entries, qPos, pos, d)
 *     (z = 0: the pattern alone; v is then not read)
 *   attentionBackward(q, k, v, pattern, dz, dq, dk, dv, scratch, entries, qPos, pos, d, scale, dpattern)
 *     (dpattern: a gradient of the pattern from elsewhere, laid out as the pattern, added to dz·vᵀ; 0 for none.
 *      dz = 0: no z, the pattern-only backward: dpattern, which must then be given, is the whole gradient of
 *      the pattern, as it stands; v and dv are not touched)
 */
import type { MemoryPages } from './wasm-arena.js';
import { compiledOnce, instanceOver } from './instances.js';
import {
  type Code, ModuleBuilder, control, f32, f32x4, f64, f64x2, forRange, i32, local, seq, select, type, v128,
} from './wasm-emitter.js';

export interface AttentionKernels {
  attentionScores(
    q: number, k: number, exps: number, dots: number, entries: number, qPos: number, pos: number, d: number, causal: number, scale: number,
  ): void;
  attentionMix(exps: number, v: number, z: number, pattern: number, entries: number, qPos: number, pos: number, d: number): void;
  attentionBackward(
    q: number, k: number, v: number, pattern: number, dz: number, dq: number, dk: number, dv: number, scratch: number,
    entries: number, qPos: number, pos: number, d: number, scale: number, dpattern: number,
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

  // dots(a, rows, n, rowBytes, out): out[j] = Σ_c a[c]·rows[j, c] for j < n, float64 sums in ascending c.
  // Each sum is a chain of dependent adds (their order is fixed), so four run side by side: keys j … j + 3
  // in the lanes of two f64x2 accumulators (a key past n − 1 repeats the last one; its sum is written to
  // out[j + 3] at most and ignored: out has room for n rounded up to 4). Four columns per turn
  // (rowBytes % 16 = 0): one f32x4 load per key, interleaved pairwise into (key, key′) lanes.
  const dots = (() => {
    const f = m.function({ name: 'dots', params: [I32, I32, I32, I32, I32] });
    const [a, rows, n, rowBytes, out] = [0, 1, 2, 3, 4];
    const [j, col, last, r0, r1, r2, r3] = Array.from({ length: 7 }, () => f.local(I32)) as number[];
    const [s01, s23, x0, x1, lo01, hi01, lo23, hi23, am] = Array.from({ length: 9 }, () => f.local(type.v128)) as number[];
    const rowOf = (r: number, offset: number) =>
      set(r, i32.add(get(rows), i32.mul(i32.min_s(i32.add(get(j), c(offset)), get(last)), get(rowBytes))));
    // Lane pair m (of the four columns) of two keys' interleaved columns.
    const pair = (lo: number, hi: number, col4: number) => {
      const v = col4 < 2 ? get(lo) : get(hi);
      return f64x2.promote_low_f32x4(col4 % 2 === 0 ? v : v128.shuffle32(v, v, [2, 3, 2, 3]));
    };
    const term = (col4: number) => seq(
      set(am, f64x2.splat(loadF64(i32.add(get(a), get(col)), 4 * col4))),
      set(s01, f64x2.add(get(s01), f64x2.mul(get(am), pair(lo01, hi01, col4)))),
      set(s23, f64x2.add(get(s23), f64x2.mul(get(am), pair(lo23, hi23, col4)))),
    );
    const interleave = (ra: number, rb: number, lo: number, hi: number) => seq(
      set(x0, v128.load(i32.add(get(ra), get(col)))),
      set(x1, v128.load(i32.add(get(rb), get(col)))),
      set(lo, v128.shuffle32(get(x0), get(x1), [0, 4, 1, 5])), // columns 0, 1 of both keys
      set(hi, v128.shuffle32(get(x0), get(x1), [2, 6, 3, 7])), // columns 2, 3
    );
    f.body = seq(
      set(last, i32.sub(get(n), c(1))),
      forRange(j, c(0), get(n), c(4),
        rowOf(r0, 0), rowOf(r1, 1), rowOf(r2, 2), rowOf(r3, 3),
        set(s01, v128.zero()),
        set(s23, v128.zero()),
        forRange(col, c(0), get(rowBytes), c(16),
          interleave(r0, r1, lo01, hi01),
          interleave(r2, r3, lo23, hi23),
          term(0), term(1), term(2), term(3),
        ),
        v128.store(i32.add(get(out), i32.shl(get(j), c(3))), get(s01)),
        v128.store(i32.add(get(out), i32.shl(get(j), c(3))), get(s23), 16),
      ),
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
    // One row (dk and dv when one query attends): f32(w·x) is the float32 product itself (the float64
    // product of two float32 values is exact, so rounding it once is rounding the float32 product).
    const single = seq(
      set(wv, f32x4.splat(f32.load(get(w)))),
      forRange(col, c(0), get(rowBytes), c(16),
        v128.store(i32.add(get(out), get(col)), f32x4.mul(get(wv), v128.load(i32.add(get(rows), get(col)))))),
    );
    const several = forRange(col, c(0), get(rowBytes), c(16),
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
    f.body = control.if(i32.eq(get(n), c(1)), single, several);
    return f.index;
  })();

  // ---- Forward, in two passes around the host's exp ----
  // attentionScores: exps[row, j] = score − max over the row's keys, as float64 (the argument of exp).
  {
    const f = m.function({ name: 'attentionScores', params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, F64], exported: true });
    const [q, k, exps, dotsOut, entries, qPos, pos, d, causal, scale] = Array.from({ length: 10 }, (_, i) => i) as number[];
    const [t, i, j, rowBytes, kv, qRow, eRow, seen] = Array.from({ length: 8 }, () => f.local(I32)) as number[];
    const max = f.local(F64);
    const sj = f.local(type.f32);
    const eAt = i32.add(get(eRow), i32.shl(get(j), c(3))); // exps[row, j]
    f.body = seq(
      set(rowBytes, i32.shl(get(d), c(2))),
      forRange(t, c(0), get(entries), c(1),
        set(kv, i32.mul(i32.mul(get(t), get(pos)), get(rowBytes))),
        forRange(i, c(0), get(qPos), c(1),
          set(qRow, i32.add(i32.mul(get(t), get(qPos)), get(i))), // the query's row index
          set(eRow, i32.add(get(exps), i32.shl(i32.mul(get(qRow), get(pos)), c(3)))),
          set(seen, i32.sub(i32.add(get(i), get(pos)), get(qPos))), // the last key this query sees
          set(max, f64.const(-Infinity)),
          // scores = f32(f32(q·k_j) / √d), + the mask term
          control.call(dots, i32.add(get(q), i32.mul(get(qRow), get(rowBytes))), i32.add(get(k), get(kv)), get(pos), get(rowBytes), get(dotsOut)),
          forRange(j, c(0), get(pos), c(1),
            set(sj, f64.demote_to_f32(f64.div(roundF32(f64.load(i32.add(get(dotsOut), i32.shl(get(j), c(3))))), get(scale)))),
            control.if(get(causal),
              set(sj, f32.add(get(sj), select(f32.const(-Infinity), f32.const(0), i32.gt_s(get(j), get(seen)))))),
            f64.store(eAt, f64.promote_f32(get(sj))),
            set(max, f64.max(get(max), f64.promote_f32(get(sj)))),
          ),
          // max-subtracted in float64, as the backend's softmax (nothing to subtract when all are −∞ or NaN)
          control.if(i32.or(f64.eq(get(max), f64.const(-Infinity)), f64.ne(get(max), get(max))), set(max, f64.const(0))),
          forRange(j, c(0), get(pos), c(1), f64.store(eAt, f64.sub(f64.load(eAt), get(max)))),
        ),
      ),
    );
  }

  // attentionMix: with exps[row, j] now exp(score − max), pattern = f32(e / Σ e) and z row = pattern row · v
  // (where there is a z: z ≠ 0).
  {
    const f = m.function({ name: 'attentionMix', params: [I32, I32, I32, I32, I32, I32, I32, I32], exported: true });
    const [exps, v, z, pattern, entries, qPos, pos, d] = Array.from({ length: 8 }, (_, i) => i) as number[];
    const [t, i, j, rowBytes, row, eRow, pRow] = Array.from({ length: 7 }, () => f.local(I32)) as number[];
    const sum = f.local(F64);
    const eAt = i32.add(get(eRow), i32.shl(get(j), c(3)));
    f.body = seq(
      set(rowBytes, i32.shl(get(d), c(2))),
      forRange(t, c(0), get(entries), c(1),
        forRange(i, c(0), get(qPos), c(1),
          set(row, i32.add(i32.mul(get(t), get(qPos)), get(i))),
          set(eRow, i32.add(get(exps), i32.shl(i32.mul(get(row), get(pos)), c(3)))),
          set(pRow, i32.add(get(pattern), i32.shl(i32.mul(get(row), get(pos)), c(2)))),
          set(sum, f64.const(0)),
          forRange(j, c(0), get(pos), c(1), set(sum, f64.add(get(sum), f64.load(eAt)))),
          forRange(j, c(0), get(pos), c(1),
            f32.store(i32.add(get(pRow), i32.shl(get(j), c(2))), f64.demote_to_f32(f64.div(f64.load(eAt), get(sum))))),
          control.if(get(z),
            control.call(weightedRows, get(pRow), c(4), i32.add(get(v), i32.mul(i32.mul(get(t), get(pos)), get(rowBytes))), get(pos),
              i32.add(get(z), i32.mul(get(row), get(rowBytes))), get(rowBytes))),
        ),
      ),
    );
  }

  // ---- Backward ----
  {
    const f = m.function({
      name: 'attentionBackward', params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F64, I32], exported: true,
    });
    const [q, k, v, pattern, dz, dq, dk, dv, scratch, entries, qPos, pos, d, scale, extra] = Array.from({ length: 15 }, (_, i) => i) as number[];
    const [t, i, j, rowBytes, kv, qz, pb, dsAt, dpat, qRowBytes] = Array.from({ length: 10 }, () => f.local(I32)) as number[];
    const [s, dp] = [f.local(F64), f.local(F64)];
    const pAt = i32.add(get(pb), i32.shl(i32.add(i32.mul(get(i), get(pos)), get(j)), c(2))); // pattern[i, j]
    const dpAt = i32.add(get(dpat), i32.shl(get(j), c(3))); // dpattern[j], f64
    const extraAt = loadF64(i32.add(get(extra), i32.sub(pAt, get(pattern)))); // extra[i, j], as f64
    f.body = seq(
      set(rowBytes, i32.shl(get(d), c(2))),
      set(dpat, i32.add(get(scratch), i32.shl(i32.mul(get(qPos), get(pos)), c(3)))), // after the dscores
      forRange(t, c(0), get(entries), c(1),
        set(kv, i32.mul(i32.mul(get(t), get(pos)), get(rowBytes))),
        set(qz, i32.mul(i32.mul(get(t), get(qPos)), get(rowBytes))),
        set(pb, i32.add(get(pattern), i32.shl(i32.mul(i32.mul(get(t), get(qPos)), get(pos)), c(2)))),
        forRange(i, c(0), get(qPos), c(1),
          // dpattern = f32(dz·v_j) (+ extra), or extra alone without a z; s = f32(Σ_j f32(dpattern ⊙ pattern))
          set(s, f64.const(0)),
          control.if(get(dz),
            control.call(dots, i32.add(i32.add(get(dz), get(qz)), i32.mul(get(i), get(rowBytes))), i32.add(get(v), get(kv)), get(pos), get(rowBytes), get(dpat))),
          forRange(j, c(0), get(pos), c(1),
            control.if(get(dz),
              seq(
                set(dp, roundF32(f64.load(dpAt))),
                // + the pattern's gradient from elsewhere, where there is one (extra ≠ 0), as autograd adds it
                control.if(get(extra), set(dp, roundF32(f64.add(get(dp), extraAt)))),
              ),
              set(dp, extraAt)), // no z: the given gradient itself (a float32, exact in f64)
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
        // dq = dscores·k (rows i), dk = dscoresᵀ·q and, with a z, dv = patternᵀ·dz (rows j)
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
          control.if(get(dz), control.call(weightedRows,
            i32.add(get(pb), i32.shl(get(j), c(2))), get(qRowBytes),
            i32.add(get(dz), get(qz)), get(qPos),
            i32.add(i32.add(get(dv), get(kv)), i32.mul(get(j), get(rowBytes))), get(rowBytes))),
        ),
      ),
    );
  }
  return m.emit();
}

const modules = new Map<string, WebAssembly.Module>();

/** The compiled module for memories of these limits (compiled once; the thread pool's workers get it too). */
export function attentionModule(pages: MemoryPages): WebAssembly.Module {
  return compiledOnce(modules, pages, () => emitAttentionModule(pages));
}

const instances = new WeakMap<WebAssembly.Memory, AttentionKernels>();

/** The kernels instantiated over `memory` (compiled once per memory). */
export function attentionKernels(memory: WebAssembly.Memory, pages: MemoryPages): AttentionKernels {
  return instanceOver(instances, memory, () => attentionModule(pages));
}
