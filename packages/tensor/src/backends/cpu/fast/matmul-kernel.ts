/**
 * Emits the float32 matmul as a WebAssembly SIMD module: C = op(A) · op(B), batched, over a shared memory.
 *
 * The structure is the classic GotoBLAS/BLIS one:
 *   for each NC-wide column block, for each KC-deep slice of K:
 *     pack B[k0:k0+KC, j0:j0+NC] into NR-wide panels, laid out [panel][k][NR]   (lives in L2/L3)
 *     for each MC-tall row block:
 *       pack A[i0:i0+MC, k0:k0+KC] into MR-tall panels, laid out [panel][k][MR] (lives in L2)
 *       for each (NR panel, MR panel): the micro-kernel adds an MR×NR tile of C over the KC slice
 * The micro-kernel keeps the whole MR×NR tile in f32x4 registers; per k it loads NR/4 vectors of B, broadcasts
 * MR scalars of A (v128.load32_splat) and does MR·NR/4 multiply-adds. Packing makes both reads unit-stride
 * with constant offsets, and is where the transpose flags are absorbed: the kernel itself never sees them.
 * Panels are zero-padded (rows, columns, and K up to a multiple of the unroll), so the kernel has no edge
 * cases; edge tiles of C go through a small scratch tile.
 *
 * One exported function, `gemm(task, scratch)`, reads a task record and a scratch record from memory (see TASK
 * and SCRATCH), so the calling thread and the workers run the very same code on different tasks. A job (one
 * matmul) is a few tasks of three kinds, which the driver (fast-matmul.ts) orders with counters:
 *   GEMM    one box of C (batch entries × rows × columns) over the K range [kStart, kEnd), with the loops above.
 *           Its B blocks are packed into the thread's scratch, or, when the job packed op(B) once for every
 *           task (packedB ≠ 0), read from that shared copy.
 *   PACK_B  packs op(B)'s column blocks [colStart, colEnd), all of K, into packedB: the shared copy above.
 *           Layout: column block j0 starts at element j0·packedDepth, and its KC slice k0 at k0·roundUp(nc, NR)
 *           within it, each slice being the [panel][k][NR] block that GEMM would have packed itself.
 *   REDUCE  C rows [rowStart, rowEnd) = Σ_p partial_p over the same rows, p = 0 … parts−1 in that order: the
 *           final add of a K split, where GEMM task p wrote op(A)[:, K_p] · op(B)[K_p, :] into partial p.
 */
import type { MemoryPages } from './wasm-arena.js';
import { type Code, ModuleBuilder, control, f32, f32x4, forRange, i32, local, seq, type, v128 } from './wasm-emitter.js';

export interface KernelShape {
  /** Rows of the register tile. */
  MR: number;
  /** Columns of the register tile (a multiple of 4: one f32x4 per 4 columns). */
  NR: number;
  /** Unroll of the k loop; packed K is padded to a multiple of it. */
  UNROLL: number;
  /** Cache blocking: rows of A per packed block, depth per slice, columns of B per packed block. */
  MC: number;
  KC: number;
  NC: number;
  /**
   * How a row's scalar of A becomes a vector: 'load' is one v128.load32_splat per row (vbroadcastss from
   * memory); 'shuffle' loads four rows' scalars as one vector and splats each with a shuffle (vpshufd).
   */
  broadcast?: 'load' | 'shuffle';
}

// Why 4×8, load-splat, no unroll (V8 11.3 on x64; details and numbers in the tensor README, "The kernel"):
// TurboFan schedules every load of the loop body before the arithmetic, so all MR broadcasts and NR/4 B vectors
// are live at once next to the MR·NR/4 accumulators, and V8 allocates 15 xmm registers (xmm0–14). 4×8 needs
// 8 + 2 + 4 = 14 and does not spill; 5×8 (17), 6×8 (20) and any unroll spill accumulators through the stack,
// halving the speed. 5×8 with shuffle broadcasts fits (10 + 2 + 2 + 1 = 15), but its four vpshufd per k share
// ports with the FMAs: +5 % at [3830,128]·[128,512], −7 % at K = 512, so it stays an option.
export const DEFAULT_SHAPE: KernelShape = { MR: 4, NR: 8, UNROLL: 1, MC: 128, KC: 256, NC: 512, broadcast: 'load' };

/** Task kinds (TASK.kind); see the file comment. */
export const KIND = { GEMM: 0, PACK_B: 1, REDUCE: 2 } as const;

/** The task record's i32 fields, by byte offset. Pointers are byte addresses in the shared memory. */
export const TASK = {
  kind: 0,
  aBase: 4, bBase: 8, cBase: 12,
  /** Pointer to [aOffset, bOffset] element offsets per batch entry (int32 pairs). */
  offsets: 16,
  batchStart: 20, batchEnd: 24,
  M: 28, N: 32, K: 36, transA: 40, transB: 44,
  rowStart: 48, rowEnd: 52, colStart: 56, colEnd: 60, kStart: 64, kEnd: 68,
  /** The job's shared packed op(B) (0: each GEMM task packs its own), and its depth padded per slice. */
  packedB: 72, packedDepth: 76,
  /** REDUCE: `parts` partial C's, the first at `partials`, each `partStride` bytes after the previous. */
  partials: 80, parts: 84, partStride: 88,
  BYTES: 92,
} as const;

/** The scratch record of one thread: where its packed A block, packed B block and edge tile live. */
export const SCRATCH = { packA: 0, packB: 4, tile: 8, BYTES: 12 } as const;

/** Scratch bytes one thread needs. */
export function scratchBytes(s: KernelShape) {
  const kcp = roundUp(s.KC, s.UNROLL);
  return {
    packA: roundUp(s.MC, s.MR) * kcp * 4,
    packB: roundUp(s.NC, s.NR) * kcp * 4,
    tile: s.MR * s.NR * 4,
  };
}

export const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/** Elements of op(B) packed for all of K (the GEMM loops' slices of KC, each padded to the unroll): K rounded up. */
export function packedDepth(K: number, s: KernelShape): number {
  const last = K % s.KC || s.KC;
  return K - last + roundUp(last, s.UNROLL);
}

/** Bytes of the shared packed op(B) of a K×N operand. */
export function packedBBytes(K: number, N: number, s: KernelShape): number {
  return packedDepth(K, s) * roundUp(N, s.NR) * 4;
}

export interface KernelOptions {
  shape?: KernelShape;
  /** Use f32x4.relaxed_madd (FMA on x86 with FMA3) instead of mul + add. */
  relaxed: boolean;
  /** Memory limits, in 64 KiB pages. */
  memoryPages: MemoryPages;
}

export function emitMatmulModule(options: KernelOptions): Uint8Array {
  const s = options.shape ?? DEFAULT_SHAPE;
  if (s.NR % 4 !== 0) throw new Error(`matmul kernel: NR must be a multiple of 4, got ${s.NR}`);
  // The shared packed B puts slice k0 at k0 · (panel width): every slice before the last must be unpadded.
  if (s.KC % s.UNROLL !== 0 || s.NC % s.NR !== 0) throw new Error('matmul kernel: KC must divide by UNROLL, NC by NR');
  const m = new ModuleBuilder();
  m.importMemory({ module: 'env', name: 'memory', ...options.memoryPages, shared: options.memoryPages.shared ?? true });
  const micro = emitMicroKernel(m, s, options.relaxed);
  const packA = emitPack(m, 'packA', s.MR);
  const packB = s.NR === s.MR ? packA : emitPack(m, 'packB', s.NR);
  const macro = emitMacroKernel(m, s, micro);
  const reduce = emitReduce(m);
  emitGemm(m, s, packA, packB, macro, reduce);
  return m.emit();
}

const { get, set } = local;
const c = i32.const;
const inc = (x: number, by: Code) => set(x, i32.add(get(x), by));

/**
 * micro(a, b, c, ldcBytes, kDepth, accumulate): the MR×NR tile at c (rows ldcBytes apart) becomes
 * (accumulate ? tile : 0) + Apanel · Bpanel, where Apanel is [kDepth][MR] at a and Bpanel is [kDepth][NR] at b.
 * kDepth is a positive multiple of UNROLL.
 */
function emitMicroKernel(m: ModuleBuilder, s: KernelShape, relaxed: boolean): number {
  const { MR, NR, UNROLL } = s;
  const VR = NR / 4; // f32x4 vectors per tile row
  const f = m.function({ name: 'micro', params: [type.i32, type.i32, type.i32, type.i32, type.i32, type.i32] });
  const [a, b, cp, ldc, k, accumulate] = [0, 1, 2, 3, 4, 5];
  const acc = Array.from({ length: MR }, () => Array.from({ length: VR }, () => f.local(type.v128)));
  const bv = Array.from({ length: VR }, () => f.local(type.v128));
  const av = f.local(type.v128);
  const tileAddr = (r: number) => i32.add(get(cp), i32.mul(get(ldc), c(r)));
  const eachAcc = (fn: (r: number, q: number) => Code) => seq(...acc.flatMap((row, r) => row.map((_, q) => fn(r, q))));

  const madd = (r: number, q: number): Code =>
    relaxed
      ? set(acc[r]![q]!, f32x4.relaxed_madd(get(av), get(bv[q]!), get(acc[r]![q]!)))
      : set(acc[r]![q]!, f32x4.add(get(acc[r]![q]!), f32x4.mul(get(av), get(bv[q]!))));

  // One step of k: NR/4 loads of B, then for each row one broadcast of A and NR/4 multiply-adds. The
  // pointers advance every step: with offsets growing through the unroll instead, V8 keeps one
  // register per distinct offset and spills.
  // 'shuffle': rows 4g … 4g+3 come in as one vector, each row's lane splatted by a shuffle (a lone last row
  // is a load32_splat). Shuffles are pure, so TurboFan places each right before its multiply-adds.
  const groups = s.broadcast === 'shuffle' ? Array.from({ length: Math.ceil(MR / 4) }, () => f.local(type.v128)) : [];
  const lone = (g: number) => 4 * g + 1 === MR;
  const broadcast = (r: number): Code => {
    if (s.broadcast !== 'shuffle') return v128.load32_splat(get(a), 4 * r);
    const g = groups[r >> 2]!;
    return lone(r >> 2) ? get(g) : v128.shuffle32(get(g), get(g), [r % 4, r % 4, r % 4, r % 4]);
  };
  const step = (): Code =>
    seq(
      ...bv.map((bq, q) => set(bq, v128.load(get(b), 16 * q))),
      ...groups.map((g, i) => set(g, lone(i) ? v128.load32_splat(get(a), 16 * i) : v128.load(get(a), 16 * i))),
      ...acc.map((_, r) => seq(set(av, broadcast(r)), ...bv.map((_, q) => madd(r, q)))),
      inc(a, c(MR * 4)),
      inc(b, c(NR * 4)),
    );

  f.body = seq(
    control.if(
      get(accumulate),
      eachAcc((r, q) => set(acc[r]![q]!, v128.load(tileAddr(r), 16 * q))),
      eachAcc((r, q) => set(acc[r]![q]!, v128.zero())),
    ),
    control.loop(
      ...Array.from({ length: UNROLL }, step),
      set(k, i32.sub(get(k), c(UNROLL))),
      control.br_if(0, get(k)),
    ),
    eachAcc((r, q) => v128.store(tileAddr(r), get(acc[r]![q]!), 16 * q)),
  );
  return f.index;
}

/**
 * pack(dst, src, strideOuter, strideDepth, n, depth, depthPad): copies an n×depth block (element (o, k) at
 * src + 4·(o·strideOuter + k·strideDepth)) into W-wide panels laid out [panel][k][W], zero-padding the last
 * panel to W and every panel's depth to depthPad. Strides are in elements; this is where transposes vanish.
 */
function emitPack(m: ModuleBuilder, name: string, W: number): number {
  const f = m.function({ name, params: [type.i32, type.i32, type.i32, type.i32, type.i32, type.i32, type.i32] });
  const [dst, src, so, sd, n, depth, depthPad] = [0, 1, 2, 3, 4, 5, 6];
  const [p0, w, x, k, sp, dp, depth4, so1, so2, so3] = Array.from({ length: 10 }, () => f.local(type.i32)) as number[] as [
    number, number, number, number, number, number, number, number, number, number,
  ];
  const [r0, r1, r2, r3, t0, t1, t2, t3] = Array.from({ length: 8 }, () => f.local(type.v128)) as number[] as [
    number, number, number, number, number, number, number, number,
  ];
  const srcStepBytes = i32.mul(get(sd), c(4));
  const dstStepBytes = c(4 * W);

  // Unit stride along the panel (B not transposed, A transposed): copy W floats per k as W/4 vectors.
  const contiguous = seq(
    set(sp, i32.add(get(src), i32.mul(get(p0), c(4)))),
    set(dp, get(dst)),
    forRange(k, c(0), get(depth), c(1),
      ...Array.from({ length: W / 4 }, (_, q) => v128.store(get(dp), v128.load(get(sp), 16 * q), 16 * q)),
      inc(sp, srcStepBytes),
      inc(dp, dstStepBytes),
    ),
  );
  // Unit stride along k (A not transposed, B transposed): read 4 rows × 4 k as four vectors, transpose the
  // 4×4 block with shuffles, store it as 4 k-rows of the panel; the depth % 4 tail goes element by element.
  const transposed = seq(
    set(depth4, i32.and(get(depth), c(-4))),
    set(so1, i32.mul(get(so), c(4))),
    set(so2, i32.mul(get(so), c(8))),
    set(so3, i32.mul(get(so), c(12))),
    ...Array.from({ length: W / 4 }, (_, g) =>
      seq(
        set(sp, i32.add(get(src), i32.mul(i32.mul(i32.add(get(p0), c(4 * g)), get(so)), c(4)))),
        set(dp, i32.add(get(dst), c(16 * g))),
        forRange(k, c(0), get(depth4), c(4),
          set(r0, v128.load(get(sp))),
          set(r1, v128.load(i32.add(get(sp), get(so1)))),
          set(r2, v128.load(i32.add(get(sp), get(so2)))),
          set(r3, v128.load(i32.add(get(sp), get(so3)))),
          set(t0, v128.shuffle32(get(r0), get(r1), [0, 4, 1, 5])), // r0k0 r1k0 r0k1 r1k1
          set(t1, v128.shuffle32(get(r2), get(r3), [0, 4, 1, 5])), // r2k0 r3k0 r2k1 r3k1
          set(t2, v128.shuffle32(get(r0), get(r1), [2, 6, 3, 7])), // r0k2 r1k2 r0k3 r1k3
          set(t3, v128.shuffle32(get(r2), get(r3), [2, 6, 3, 7])), // r2k2 r3k2 r2k3 r3k3
          v128.store(get(dp), v128.shuffle32(get(t0), get(t1), [0, 1, 4, 5]), 0), // k0: r0 r1 r2 r3
          v128.store(get(dp), v128.shuffle32(get(t0), get(t1), [2, 3, 6, 7]), 4 * W),
          v128.store(get(dp), v128.shuffle32(get(t2), get(t3), [0, 1, 4, 5]), 8 * W),
          v128.store(get(dp), v128.shuffle32(get(t2), get(t3), [2, 3, 6, 7]), 12 * W),
          inc(sp, c(16)),
          inc(dp, c(16 * W)),
        ),
      ),
    ),
    forRange(x, c(0), c(W), c(1),
      set(sp, i32.add(get(src), i32.mul(i32.add(i32.mul(i32.add(get(p0), get(x)), get(so)), get(depth4)), c(4)))),
      set(dp, i32.add(get(dst), i32.mul(i32.add(i32.mul(get(depth4), c(W)), get(x)), c(4)))),
      forRange(k, get(depth4), get(depth), c(1), f32.store(get(dp), f32.load(get(sp))), inc(sp, c(4)), inc(dp, dstStepBytes)),
    ),
  );
  // Any strides, and the ragged last panel: one column x of the panel at a time, zeros past n.
  const gathered = forRange(x, c(0), c(W), c(1),
    set(dp, i32.add(get(dst), i32.mul(get(x), c(4)))),
    control.if(
      i32.lt_s(get(x), get(w)),
      seq(
        set(sp, i32.add(get(src), i32.mul(i32.mul(i32.add(get(p0), get(x)), get(so)), c(4)))),
        forRange(k, c(0), get(depth), c(1), f32.store(get(dp), f32.load(get(sp))), inc(sp, srcStepBytes), inc(dp, dstStepBytes)),
      ),
      forRange(k, c(0), get(depth), c(1), f32.store(get(dp), f32.const(0)), inc(dp, dstStepBytes)),
    ),
  );
  const W4 = W % 4 === 0;
  f.body = forRange(p0, c(0), get(n), c(W),
    set(w, i32.min_s(c(W), i32.sub(get(n), get(p0)))),
    W4
      ? control.if(
          i32.and(i32.eq(get(so), c(1)), i32.eq(get(w), c(W))),
          contiguous,
          control.if(i32.and(i32.eq(get(sd), c(1)), i32.eq(get(w), c(W))), transposed, gathered),
        )
      : gathered,
    // Zero the depth padding: rows depth..depthPad of this panel.
    set(dp, i32.add(get(dst), i32.mul(get(depth), c(4 * W)))),
    forRange(k, get(depth), get(depthPad), c(1),
      ...Array.from({ length: W }, (_, q) => f32.store(get(dp), f32.const(0), 4 * q)),
      inc(dp, dstStepBytes),
    ),
    inc(dst, i32.mul(get(depthPad), c(4 * W))),
  );
  return f.index;
}

/**
 * macro(a, b, c, ldc, mc, nc, kDepth, accumulate, tile): C[0:mc, 0:nc] (+)= Apacked · Bpacked, tile by tile.
 * ldc is in elements. Ragged tiles at the bottom/right edge run on the scratch tile and are copied.
 */
function emitMacroKernel(m: ModuleBuilder, s: KernelShape, micro: number): number {
  const { MR, NR } = s;
  const f = m.function({ name: 'macro', params: Array<typeof type.i32>(9).fill(type.i32) });
  const [a, b, cp, ldc, mc, nc, kd, accumulate, tile] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [i, j, mr, nr, ap, bp, cij, r, x] = Array.from({ length: 9 }, () => f.local(type.i32)) as number[] as [
    number, number, number, number, number, number, number, number, number,
  ];
  const ldcBytes = i32.mul(get(ldc), c(4));
  // for r < mr, x < nr: body(C address, tile address)
  const eachValid = (body: (cAddr: Code, tAddr: Code) => Code) =>
    forRange(r, c(0), get(mr), c(1),
      forRange(x, c(0), get(nr), c(1),
        body(
          i32.add(get(cij), i32.mul(i32.add(i32.mul(get(r), get(ldc)), get(x)), c(4))),
          i32.add(get(tile), i32.mul(i32.add(i32.mul(get(r), c(NR)), get(x)), c(4))),
        ),
      ),
    );
  const edgeTile = seq(
    control.if(
      get(accumulate),
      seq(
        ...Array.from({ length: MR * NR }, (_, q) => f32.store(get(tile), f32.const(0), 4 * q)),
        eachValid((cAddr, tAddr) => f32.store(tAddr, f32.load(cAddr))),
      ),
    ),
    control.call(micro, get(ap), get(bp), get(tile), c(NR * 4), get(kd), get(accumulate)),
    eachValid((cAddr, tAddr) => f32.store(cAddr, f32.load(tAddr))),
  );
  f.body = forRange(j, c(0), get(nc), c(NR),
    set(nr, i32.min_s(c(NR), i32.sub(get(nc), get(j)))),
    set(bp, i32.add(get(b), i32.mul(i32.mul(get(j), get(kd)), c(4)))),
    forRange(i, c(0), get(mc), c(MR),
      set(mr, i32.min_s(c(MR), i32.sub(get(mc), get(i)))),
      set(ap, i32.add(get(a), i32.mul(i32.mul(get(i), get(kd)), c(4)))),
      set(cij, i32.add(get(cp), i32.mul(i32.add(i32.mul(get(i), get(ldc)), get(j)), c(4)))),
      control.if(
        i32.and(i32.eq(get(mr), c(MR)), i32.eq(get(nr), c(NR))),
        control.call(micro, get(ap), get(bp), get(cij), ldcBytes, get(kd), get(accumulate)),
        edgeTile,
      ),
    ),
  );
  return f.index;
}

/**
 * reduce(dst, src, stride, parts, count): dst[i] = src_0[i] + src_1[i] + … + src_{parts−1}[i] for i < count, where
 * src_p = src + p·stride (bytes). Left to right, so the rounding does not depend on who runs which rows.
 */
function emitReduce(m: ModuleBuilder): number {
  const f = m.function({ name: 'reduce', params: [type.i32, type.i32, type.i32, type.i32, type.i32] });
  const [dst, src, stride, parts, count] = [0, 1, 2, 3, 4];
  const [i, p, sp, end4] = [f.local(type.i32), f.local(type.i32), f.local(type.i32), f.local(type.i32)];
  const sum = f.local(type.v128);
  const one = f.local(type.f32);
  const at = (base: number, index: Code) => i32.add(get(base), i32.mul(index, c(4)));
  f.body = seq(
    set(end4, i32.and(get(count), c(-4))),
    forRange(i, c(0), get(end4), c(4),
      set(sp, at(src, get(i))),
      set(sum, v128.load(get(sp))),
      forRange(p, c(1), get(parts), c(1), inc(sp, get(stride)), set(sum, f32x4.add(get(sum), v128.load(get(sp))))),
      v128.store(at(dst, get(i)), get(sum)),
    ),
    forRange(i, get(end4), get(count), c(1),
      set(sp, at(src, get(i))),
      set(one, f32.load(get(sp))),
      forRange(p, c(1), get(parts), c(1), inc(sp, get(stride)), set(one, f32.add(get(one), f32.load(get(sp))))),
      f32.store(at(dst, get(i)), get(one)),
    ),
  );
  return f.index;
}

/** gemm(task, scratch): runs one task record, of any kind (see the file comment). */
function emitGemm(m: ModuleBuilder, s: KernelShape, packA: number, packB: number, macro: number, reduce: number): void {
  const f = m.function({ name: 'gemm', params: [type.i32, type.i32], exported: true });
  const [task, scratch] = [0, 1];
  const field = (offset: number) => i32.load(get(task), offset);
  const L = () => f.local(type.i32);
  const [M, N, K, rowEnd, colEnd, kEnd, pa, pb, tile, packed, depth] = Array.from({ length: 11 }, L);
  const [rsA, csA, rsB, csB] = [L(), L(), L(), L()];
  const [t, batchEnd, aPtr, bPtr, cPtr, j0, k0, i0, nc, ncp, kc, kcp, mc, pbk] = Array.from({ length: 14 }, L);
  const bytes = (elements: Code) => i32.mul(elements, c(4));
  const offsetOf = (entry: number) => i32.load(i32.add(field(TASK.offsets), i32.mul(get(t), c(8))), entry * 4);
  const columnBlock = seq(
    set(nc, i32.min_s(c(s.NC), i32.sub(get(colEnd), get(j0)))),
    set(ncp, i32.mul(i32.div_u(i32.add(get(nc), c(s.NR - 1)), c(s.NR)), c(s.NR))),
  );
  const slice = seq(
    set(kc, i32.min_s(c(s.KC), i32.sub(get(kEnd), get(k0)))),
    set(kcp, i32.mul(i32.div_u(i32.add(get(kc), c(s.UNROLL - 1)), c(s.UNROLL)), c(s.UNROLL))),
  );
  // Where slice k0 of column block j0 lives in the shared packed B.
  const sharedSlice = i32.add(get(packed), bytes(i32.add(i32.mul(get(j0), get(depth)), i32.mul(get(k0), get(ncp)))));
  const packBlockOfB = (dst: Code) =>
    control.call(packB, dst,
      i32.add(get(bPtr), bytes(i32.add(i32.mul(get(k0), get(rsB)), i32.mul(get(j0), get(csB))))),
      get(csB), get(rsB), get(nc), get(kc), get(kcp));
  const entryPointers = seq(
    set(aPtr, i32.add(field(TASK.aBase), bytes(offsetOf(0)))),
    set(bPtr, i32.add(field(TASK.bBase), bytes(offsetOf(1)))),
    set(cPtr, i32.add(field(TASK.cBase), bytes(i32.mul(get(t), i32.mul(get(M), get(N)))))),
  );

  const gemmBox = forRange(t, field(TASK.batchStart), get(batchEnd), c(1),
    entryPointers,
    forRange(j0, field(TASK.colStart), get(colEnd), c(s.NC),
      columnBlock,
      forRange(k0, field(TASK.kStart), get(kEnd), c(s.KC),
        slice,
        control.if(get(packed), set(pbk, sharedSlice), seq(packBlockOfB(get(pb)), set(pbk, get(pb)))),
        forRange(i0, field(TASK.rowStart), get(rowEnd), c(s.MC),
          set(mc, i32.min_s(c(s.MC), i32.sub(get(rowEnd), get(i0)))),
          control.call(packA, get(pa),
            i32.add(get(aPtr), bytes(i32.add(i32.mul(get(i0), get(rsA)), i32.mul(get(k0), get(csA))))),
            get(rsA), get(csA), get(mc), get(kc), get(kcp)),
          control.call(macro, get(pa), get(pbk),
            i32.add(get(cPtr), bytes(i32.add(i32.mul(get(i0), get(N)), get(j0)))),
            get(N), get(mc), get(nc), get(kcp), i32.ne(get(k0), field(TASK.kStart)), get(tile)),
        ),
      ),
    ),
  );
  // PACK_B reads batch entry batchStart's B (the driver packs once only when every entry shares it).
  const packAllOfB = seq(
    set(t, field(TASK.batchStart)),
    entryPointers,
    forRange(j0, field(TASK.colStart), get(colEnd), c(s.NC),
      columnBlock,
      forRange(k0, c(0), get(kEnd), c(s.KC), slice, packBlockOfB(sharedSlice)),
    ),
  );
  const reduceRows = control.call(reduce,
    i32.add(field(TASK.cBase), bytes(i32.mul(field(TASK.rowStart), get(N)))),
    i32.add(field(TASK.partials), bytes(i32.mul(field(TASK.rowStart), get(N)))),
    field(TASK.partStride), field(TASK.parts),
    i32.mul(i32.sub(get(rowEnd), field(TASK.rowStart)), get(N)));

  f.body = seq(
    set(M, field(TASK.M)), set(N, field(TASK.N)), set(K, field(TASK.K)),
    set(rowEnd, field(TASK.rowEnd)), set(colEnd, field(TASK.colEnd)), set(kEnd, field(TASK.kEnd)),
    set(batchEnd, field(TASK.batchEnd)),
    set(packed, field(TASK.packedB)), set(depth, field(TASK.packedDepth)),
    set(pa, i32.load(get(scratch), SCRATCH.packA)),
    set(pb, i32.load(get(scratch), SCRATCH.packB)),
    set(tile, i32.load(get(scratch), SCRATCH.tile)),
    // Element (i, k) of op(A) is at a + rsA·i + csA·k; element (k, j) of op(B) at b + rsB·k + csB·j.
    control.if(field(TASK.transA), seq(set(rsA, c(1)), set(csA, get(M))), seq(set(rsA, get(K)), set(csA, c(1)))),
    control.if(field(TASK.transB), seq(set(rsB, c(1)), set(csB, get(K))), seq(set(rsB, get(N)), set(csB, c(1)))),
    control.if(i32.eq(field(TASK.kind), c(KIND.GEMM)), gemmBox,
      control.if(i32.eq(field(TASK.kind), c(KIND.PACK_B)), packAllOfB, reduceRows)),
  );
}
