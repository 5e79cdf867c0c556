/**
 * The fast float32 matmul: copies A and B into the shared wasm memory, writes one task record per thread,
 * runs `gemm` on them (the calling thread takes the first), and copies C back out.
 *
 * Memory map of one call (all from the arena, reset per call):
 *   [offsets: nBatch × (aOffset, bOffset)] [A] [B] [C] then per task: [record] [packed A] [packed B] [tile]
 */
import type { MatmulProblem } from '../matmul.js';
import { planMatmul } from '../matmul.js';
import { DEFAULT_SHAPE, TASK, emitMatmulModule, scratchBytes } from './matmul-kernel.js';
import { getThreads, relaxedSimdAllowed } from './settings.js';
import { hasRelaxedSimd } from './simd-features.js';
import { ThreadPool } from './thread-pool.js';
import { WasmArena } from './wasm-arena.js';
import { type WorkBox, splitWork } from './work-split.js';

const INITIAL_PAGES = 64; // 4 MiB
const MAX_PAGES = 16384; // 1 GiB

interface Engine {
  arena: WasmArena;
  gemm: (task: number) => void;
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
    const gemm = instance.exports['gemm'] as (task: number) => void;
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
    e.pool = new ThreadPool(e.module, e.arena.memory, threads - 1);
  }
  return e.pool;
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
  const { M, K, N, nBatch, aOffsets, bOffsets } = planMatmul(p);
  if (out.length === 0) return true;
  if (K === 0) {
    out.fill(0);
    return true;
  }
  const e = getEngine();
  const pool = threads > 1 ? poolFor(e, threads) : undefined;
  const workers = pool ? pool.readyWorkers().slice(0, threads - 1) : [];
  const boxes = splitWork(nBatch, M, N, K, 1 + workers.length, DEFAULT_SHAPE);

  const arena = e.arena;
  arena.reset();
  const offsets = arena.alloc(8 * nBatch);
  const aPtr = arena.alloc(4 * p.a.length);
  const bPtr = arena.alloc(4 * p.b.length);
  const cPtr = arena.alloc(4 * out.length);
  const scratch = scratchBytes(DEFAULT_SHAPE);
  const tasks = boxes.map(() => ({
    record: arena.alloc(TASK.BYTES),
    packA: arena.alloc(scratch.packA),
    packB: arena.alloc(scratch.packB),
    tile: arena.alloc(scratch.tile),
  }));
  if (!arena.fits()) return false;
  arena.commit();

  const { f32, i32 } = arena;
  f32.set(p.a, aPtr / 4);
  f32.set(p.b, bPtr / 4);
  for (let t = 0; t < nBatch; t++) {
    i32[offsets / 4 + 2 * t] = aOffsets[t]!;
    i32[offsets / 4 + 2 * t + 1] = bOffsets[t]!;
  }
  const common = {
    aBase: aPtr, bBase: bPtr, cBase: cPtr, offsets, M, N, K, transA: +p.transA, transB: +p.transB,
  };
  tasks.forEach((t, i) => writeTask(i32, t.record, { ...common, ...boxes[i]!, packA: t.packA, packB: t.packB, tile: t.tile }));

  const records = tasks.map((t) => t.record);
  if (records.length === 1) e.gemm(records[0]!);
  else pool!.run(records, workers, e.gemm);

  out.set(f32.subarray(cPtr / 4, cPtr / 4 + out.length));
  return true;
}

type TaskFields = { [F in Exclude<keyof typeof TASK, 'BYTES'>]: number };

function writeTask(i32: Int32Array, at: number, fields: TaskFields & WorkBox): void {
  for (const [name, offset] of Object.entries(TASK)) {
    if (name !== 'BYTES') i32[(at + offset) / 4] = fields[name as keyof TaskFields];
  }
}
