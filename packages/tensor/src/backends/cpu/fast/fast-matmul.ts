/**
 * The fast float32 matmul: copies A and B into the shared wasm memory, writes one task record per box of C,
 * runs `gemm` on them from the calling thread and the ready workers, and copies C back out.
 *
 * Memory map of one call (all from the arena, reset per call):
 *   [offsets: nBatch × (aOffset, bOffset)] [A] [B] [C] [task records] then per thread: [scratch record]
 *   [packed A] [packed B] [tile]
 */
import type { TypedArray } from '../../../dtype.js';
import type { MatmulProblem } from '../../reference/matmul.js';
import { planMatmul } from '../../reference/matmul.js';
import { DEFAULT_SHAPE, SCRATCH, TASK, emitMatmulModule, scratchBytes } from './matmul-kernel.js';
import { getThreads, relaxedSimdAllowed } from './settings.js';
import { hasRelaxedSimd } from './simd-features.js';
import { ThreadPool } from './thread-pool.js';
import { WasmArena } from './wasm-arena.js';
import { splitWork } from './work-split.js';

const INITIAL_PAGES = 64; // 4 MiB
const MAX_PAGES = 16384; // 1 GiB
/** Boxes per thread: more lets idle threads take up a busy core's share, but each box repacks its panels. */
const BOXES_PER_THREAD = 2;

type Gemm = (task: number, scratch: number) => void;

interface Engine {
  arena: WasmArena;
  gemm: Gemm;
  pool: ThreadPool | undefined;
  module: WebAssembly.Module;
  relaxed: boolean;
}

let engine: Engine | undefined;

/** Compiles the kernel and makes the memory on first use. */
function getEngine(): Engine {
  if (!engine) {
    const relaxed = relaxedSimdAllowed() && hasRelaxedSimd();
    const memoryPages = { initial: INITIAL_PAGES, maximum: MAX_PAGES };
    const module = new WebAssembly.Module(emitMatmulModule({ relaxed, memoryPages }));
    const memory = new WebAssembly.Memory({ ...memoryPages, shared: true });
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    const gemm = instance.exports['gemm'] as Gemm;
    engine = { arena: new WasmArena(memory, MAX_PAGES), gemm, pool: undefined, module, relaxed };
  }
  return engine;
}

/** Whether the kernel in use fuses multiply and add (relaxed SIMD); compiles it if needed. */
export function fastMatmulUsesRelaxedSimd(): boolean {
  return getEngine().relaxed;
}

/** The pool with at least threads − 1 workers, started on first need (and restarted larger if asked). */
function poolFor(e: Engine, threads: number): ThreadPool {
  if (!e.pool || e.pool.size < threads - 1) {
    void e.pool?.terminate();
    e.pool = new ThreadPool(e.module, e.arena.memory, threads - 1, TASK.BYTES);
  }
  return e.pool;
}

/** What the workers have done so far (for tests): tasks completed, and jobs rerun here after a failure. */
export function threadPoolStats(): { workers: number; tasksRunByWorkers: number; failedJobs: number } {
  const pool = engine?.pool;
  if (!pool) return { workers: 0, tasksRunByWorkers: 0, failedJobs: 0 };
  return { workers: pool.readyWorkers().length, tasksRunByWorkers: pool.tasksRunByWorkers(), ...pool.stats };
}

/**
 * Starts the workers for `threads` (default: the current setting) and resolves once all can take work.
 * Optional: without it the first calls simply run on the calling thread while the workers start.
 */
export async function startThreads(threads = getThreads()): Promise<void> {
  if (threads > 1) await poolFor(getEngine(), threads).ready;
}

/**
 * out = op(a) · op(b) for float32 data, batched with broadcasting. Returns false (computing nothing) when the
 * problem does not fit in the wasm memory; the caller then uses the reference kernel.
 */
export function fastMatmulInto(p: MatmulProblem, out: Float32Array, threads = getThreads()): boolean {
  const { M, K, N, nBatch, aOffsets, bOffsets } = foldBatchIntoRows(p);
  if (out.length === 0) return true;
  if (K === 0) {
    out.fill(0);
    return true;
  }
  const e = getEngine();
  const pool = threads > 1 ? poolFor(e, threads) : undefined;
  const workers = pool ? pool.readyWorkers().slice(0, threads - 1) : [];
  const nThreads = 1 + workers.length;
  const boxes = splitWork(nBatch, M, N, K, nThreads === 1 ? 1 : nThreads * BOXES_PER_THREAD, DEFAULT_SHAPE);

  const arena = e.arena;
  arena.reset();
  // Operands that already live in this memory (a captured tape's buffers) are read and written in place.
  const aAt = arena.addressOf(p.a as Float32Array);
  const bAt = arena.addressOf(p.b as Float32Array);
  const cAt = arena.addressOf(out);
  const offsets = arena.alloc(8 * nBatch);
  const aPtr = aAt ?? arena.alloc(4 * p.a.length);
  const bPtr = bAt ?? arena.alloc(4 * p.b.length);
  const cPtr = cAt ?? arena.alloc(4 * out.length);
  const tasks = arena.alloc(TASK.BYTES * boxes.length);
  const sizes = scratchBytes(DEFAULT_SHAPE);
  const scratch = Array.from({ length: nThreads }, () => ({
    record: arena.alloc(SCRATCH.BYTES),
    packA: arena.alloc(sizes.packA),
    packB: arena.alloc(sizes.packB),
    tile: arena.alloc(sizes.tile),
  }));
  if (!arena.fits()) return false;
  arena.commit();

  const { f32, i32 } = arena;
  if (aAt === null) f32.set(p.a, aPtr / 4);
  if (bAt === null) f32.set(p.b, bPtr / 4);
  for (let t = 0; t < nBatch; t++) {
    i32[offsets / 4 + 2 * t] = aOffsets[t]!;
    i32[offsets / 4 + 2 * t + 1] = bOffsets[t]!;
  }
  const common = { aBase: aPtr, bBase: bPtr, cBase: cPtr, offsets, M, N, K, transA: +p.transA, transB: +p.transB };
  boxes.forEach((box, i) => writeRecord(i32, tasks + i * TASK.BYTES, TASK, { ...common, ...box }));
  for (const s of scratch) writeRecord(i32, s.record, SCRATCH, s);

  if (boxes.length === 1) e.gemm(tasks, scratch[0]!.record);
  else pool!.run({ tasks, count: boxes.length }, workers, scratch.map((s) => s.record), e.gemm);

  if (cAt === null) out.set(f32.subarray(cPtr / 4, cPtr / 4 + out.length));
  return true;
}

/**
 * A zeroed typed array of `length` elements in the persistent region of the shared wasm memory (see
 * WasmArena.reserve), or null when the memory is full. The buffers of captured tapes come from here.
 */
export function allocateInWasmMemory(dtype: 'float32' | 'float64' | 'int32', length: number): TypedArray | null {
  const arena = getEngine().arena;
  const kind = dtype === 'float64' ? Float64Array : dtype === 'int32' ? Int32Array : Float32Array;
  const at = arena.reserve(Math.max(1, length) * kind.BYTES_PER_ELEMENT);
  return at === null ? null : (new kind(arena.memory.buffer as ArrayBuffer, at, length) as TypedArray);
}

/** A typed array over `length` elements of the wasm memory at byte address `at` (memory reserved before). */
export function wasmView(dtype: 'float32' | 'float64' | 'int32', at: number, length: number): TypedArray {
  const kind = dtype === 'float64' ? Float64Array : dtype === 'int32' ? Int32Array : Float32Array;
  return new kind(getEngine().arena.memory.buffer as ArrayBuffer, at, length) as TypedArray;
}

/** Gives back the persistent memory from byte address `at` up (everything reserved since must be dead). */
export function releaseWasmMemory(at: number): void {
  getEngine().arena.release(at);
}

/** The shared memory and its page limits (the vector kernels instantiate over the same memory). */
export function wasmMemory(): { memory: WebAssembly.Memory; pages: { initial: number; maximum: number } } {
  return { memory: getEngine().arena.memory, pages: { initial: INITIAL_PAGES, maximum: MAX_PAGES } };
}

/** Whether `view` lies in the shared wasm memory (so wasm kernels can take its address). */
export function wasmAddressOf(view: ArrayBufferView): number | null {
  return engine ? engine.arena.addressOf(view) : null;
}

/**
 * planMatmul, except that [..., M, K] · [K, N] (B shared by every batch entry, A not transposed) becomes one
 * [batch·M, K] · [K, N]: the rows of consecutive entries are consecutive in A and in C, and B is packed once
 * instead of once per entry (a Linear layer on [batch, positions, d] would otherwise repack its weight 3830×).
 */
function foldBatchIntoRows(p: MatmulProblem) {
  const plan = planMatmul(p);
  const { M, K, nBatch, aOffsets, bOffsets } = plan;
  const shared = bOffsets.every((o) => o === 0);
  const consecutive = aOffsets.every((o, t) => o === t * M * K);
  if (p.transA || nBatch <= 1 || !shared || !consecutive) return plan;
  return { ...plan, M: nBatch * M, nBatch: 1, aOffsets: [0], bOffsets: [0] };
}

/** Writes the i32 fields named in `layout` (name → byte offset; BYTES is the size) from `values`. */
function writeRecord<L extends { BYTES: number }>(
  i32: Int32Array, at: number, layout: L, values: { [F in Exclude<keyof L, 'BYTES'>]: number },
): void {
  for (const [name, offset] of Object.entries(layout)) {
    if (name !== 'BYTES') i32[(at + (offset as number)) / 4] = values[name as Exclude<keyof L, 'BYTES'>];
  }
}
