/**
 * The fast float32 matmul: copies A and B into the shared wasm memory, writes the job's task records (see
 * work-split.ts for how C is cut, matmul-kernel.ts for the task kinds), runs them on the calling thread and the
 * ready workers, and copies C back out.
 *
 * With workers, the copies overlap the arithmetic: the caller copies the operands in pieces, in the order the
 * tasks read them, and each task waits only for its own piece (counter COPIED); then the caller computes too,
 * and between its tasks copies out the parts of C that are finished. Only the copy-in of the first piece and
 * the copy-out of the last tasks stay on the critical path.
 *
 * Operands that already live in the wasm memory (the buffers of a captured tape, capture.ts) are read and
 * written in place: no copy in or out at all for them.
 *
 * Memory map of one call (from the arena's scratch space, which every call starts again):
 *   [offsets: nBatch × (aOffset, bOffset)] [task records] [scratch record per thread]   ← one cached image
 *   [A] [B] [C] [partials, with a K split] [shared packed B] then per thread: [packed A] [packed B] [tile]
 */
import type { TypedArray } from '../../../dtype.js';
import type { MatmulProblem } from '../../reference/matmul.js';
import { planMatmul } from '../../reference/matmul.js';
import { DEFAULT_SHAPE, KIND, SCRATCH, TASK, emitMatmulModule, packedBBytes, packedDepth, scratchBytes } from './matmul-kernel.js';
import { canShareMemory, getThreads, relaxedSimdAllowed } from './settings.js';
import { hasRelaxedSimd } from './simd-features.js';
import { type Job as PoolJob, type PoolModule, type TaskDeps, ThreadPool } from './thread-pool.js';
import { columnSumKernels, columnSumModule } from './column-sum-kernel.js';
import { smallMatmulKernels, smallMatmulModule } from './small-matmul-kernel.js';
import { adamwKernels, adamwModule } from './adamw-kernel.js';
import { vectorKernels, vectorModule } from './vector-kernels.js';
import { embeddingBagKernels, embeddingBagModule } from './embedding-bag-kernel.js';
import { attentionKernels, attentionModule } from './attention-kernel.js';
import { crossEntropyKernels, crossEntropyModule } from './cross-entropy-kernel.js';
import { type MemoryPages, WasmArena } from './wasm-arena.js';
import { type WorkBox, type WorkPlan, planWork } from './work-split.js';

const INITIAL_PAGES = 64; // 4 MiB
const MAX_PAGES = 16384; // 1 GiB
/**
 * Without shared memory (a browser page that is not cross-origin isolated) the memory is made at its full size
 * and never grows: growing an unshared memory detaches its buffer, and with it every view of the captured tapes.
 */
const UNSHARED_PAGES = 4096; // 256 MiB, reserved up front (pages are only backed by RAM once touched)
const SHAPE = DEFAULT_SHAPE;

type Gemm = (task: number, scratch: number) => void;

interface Engine {
  arena: WasmArena;
  pages: MemoryPages;
  gemm: Gemm;
  pool: ThreadPool | undefined;
  module: WebAssembly.Module;
  instance: WebAssembly.Instance;
  relaxed: boolean;
}

let engine: Engine | undefined;

/** Compiles the kernel and makes the memory on first use. */
function getEngine(): Engine {
  if (!engine) {
    const relaxed = relaxedSimdAllowed() && hasRelaxedSimd();
    const shared = canShareMemory();
    const pages: MemoryPages = shared
      ? { initial: INITIAL_PAGES, maximum: MAX_PAGES, shared }
      : { initial: UNSHARED_PAGES, maximum: UNSHARED_PAGES, shared };
    const module = new WebAssembly.Module(emitMatmulModule({ relaxed, memoryPages: pages, shape: SHAPE }));
    const memory = new WebAssembly.Memory({ initial: pages.initial, maximum: pages.maximum, shared });
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    const gemm = instance.exports['gemm'] as Gemm;
    engine = { arena: new WasmArena(memory, pages.maximum), pages, gemm, pool: undefined, module, instance, relaxed };
  }
  return engine;
}

/** Whether the kernel in use fuses multiply and add (relaxed SIMD); compiles it if needed. */
export function fastMatmulUsesRelaxedSimd(): boolean {
  return getEngine().relaxed;
}

/** How many threads a kernel can really use: one where the memory cannot be shared with workers. */
function usableThreads(e: Engine, threads: number): number {
  return e.pages.shared ? threads : 1;
}

/**
 * The kernel modules the pool's workers can run, by name, each with its instance on this thread: the matmul,
 * the vector kernels of captured tapes, AdamW, the embedding bag, attention and the cross-entropy rows. A kernel module that wants threads joins this list.
 */
function poolModules(e: Engine): Record<string, PoolModule> {
  const { memory } = e.arena;
  return {
    matmul: { module: e.module, here: e.instance.exports },
    vector: { module: vectorModule(e.pages), here: vectorKernels(memory, e.pages) },
    columnSum: { module: columnSumModule(e.pages), here: columnSumKernels(memory, e.pages) },
    smallMatmul: { module: smallMatmulModule(e.pages), here: smallMatmulKernels(memory, e.pages) },
    adamw: { module: adamwModule(e.pages), here: adamwKernels(memory, e.pages) },
    embeddingBag: { module: embeddingBagModule(e.pages), here: embeddingBagKernels(memory, e.pages) },
    attention: { module: attentionModule(e.pages), here: attentionKernels(memory, e.pages) },
    crossEntropy: { module: crossEntropyModule(e.pages), here: crossEntropyKernels(memory, e.pages) },
  };
}

/** The pool with at least threads − 1 workers, started on first need (and restarted larger if asked). */
function poolFor(e: Engine, threads: number): ThreadPool {
  if (!e.pool || e.pool.size < threads - 1) {
    void e.pool?.terminate();
    e.pool = new ThreadPool(poolModules(e), e.arena.memory, threads - 1);
  }
  return e.pool;
}

let onThisThread: Map<string, (...args: number[]) => void> | undefined;

/** The calling thread's instance of a pool kernel ('vector.add'), to run it unsplit. */
export function kernelOnThisThread(kernel: string): (...args: number[]) => void {
  onThisThread ??= new Map(Object.entries(poolModules(getEngine())).flatMap(([name, m]) =>
    Object.entries(m.here as Record<string, (...args: number[]) => void>).map(([fn, f]) => [`${name}.${fn}`, f])));
  const f = onThisThread.get(kernel);
  if (!f) throw new Error(`kernelOnThisThread: no kernel '${kernel}' in the pool's modules`);
  return f;
}

/**
 * The pool and the workers a kernel may use at `threads` threads (the caller included): null where there is
 * only the caller (one thread, memory that cannot be shared, or no worker ready yet), and then the caller
 * runs the kernel by itself.
 */
export function poolWorkers(threads = getThreads()): { pool: ThreadPool; workers: number[] } | null {
  const e = getEngine();
  if (usableThreads(e, threads) <= 1) return null;
  const pool = poolFor(e, threads);
  const workers = pool.readyWorkers().slice(0, threads - 1);
  return workers.length > 0 ? { pool, workers } : null;
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
  const e = getEngine();
  if (usableThreads(e, threads) > 1) await poolFor(e, threads).ready;
}

/**
 * out = op(a) · op(b) for float32 data, batched with broadcasting. Returns false (computing nothing) when the
 * problem does not fit in the wasm memory; the caller then uses the reference kernel.
 */
export function fastMatmulInto(p: MatmulProblem, out: Float32Array, threads = getThreads()): boolean {
  if (out.length === 0) return true;
  const e = getEngine();
  const pool = usableThreads(e, threads) > 1 ? poolFor(e, threads) : undefined;
  const workers = pool ? pool.readyWorkers().slice(0, threads - 1) : [];
  const arena = e.arena;
  const inPlace = { a: arena.addressOf(p.a), b: arena.addressOf(p.b), c: arena.addressOf(out) };
  const job = jobFor(e, p, 1 + workers.length, inPlace);
  if (job === 'empty') {
    out.fill(0);
    return true;
  }
  if (!job) return false;
  arena.commit(job.top);
  const { f32, i32 } = arena;
  // Always written: other kernels use the same scratch space between our calls.
  i32.set(job.image, job.imageAt >> 2);
  const c = job.cPtr >> 2;

  if (job.threads === 1) {
    if (inPlace.a === null) f32.set(p.a, job.aPtr >> 2);
    if (inPlace.b === null) f32.set(p.b, job.bPtr >> 2);
    for (let i = 0; i < job.count; i++) e.gemm(job.records + i * TASK.BYTES, job.scratch[0]!);
    if (inPlace.c === null) out.set(f32.subarray(c, c + out.length));
    return true;
  }
  const { segments, drains } = job;
  const feed = (advance: (counter: number) => void) => {
    for (let s = 0; s < segments.length; s += 3) {
      const [from, to] = [segments[s + 1]!, segments[s + 2]!];
      if (segments[s] === 0) f32.set(p.a.subarray(from, to), (job.aPtr >> 2) + from);
      else f32.set(p.b.subarray(from, to), (job.bPtr >> 2) + from);
      advance(COPIED);
    }
  };
  const drain = (task: number) => {
    const runs = drains[task]!;
    for (let r = 0; r < runs.length; r += 2) out.set(f32.subarray(c + runs[r]!, c + runs[r + 1]!), runs[r]!);
  };
  pool!.run(job.poolJob, workers, { feed, drain });
  return true;
}

/**
 * Everything about a call that depends only on the operands' shapes and the thread count, worked out once and
 * cached: the arena layout, an image of the task and scratch records, the pool's dependency table, the copy-in
 * segments and the copy-out runs. A call at a known shape then writes one image and runs: planning it again
 * cost ≈ 0.25 ms per call at 17 tasks (the JS runs with caches full of matmul data), 4 % of a 6 ms call.
 */
interface Job {
  threads: number;
  aPtr: number; bPtr: number; cPtr: number;
  /** Task records: `count` of them from `records`. */
  records: number; count: number;
  /** Per thread: its scratch record. */
  scratch: number[];
  /** The offsets table, task records and scratch records, to be written at `imageAt`. */
  image: Int32Array; imageAt: number;
  /** The arena's top: bytes of wasm memory the job uses. */
  top: number;
  /** The pool's job: one `gemm(record, scratch)` per task record, with its dependencies. */
  poolJob: PoolJob;
  /** Copy-in, in order: (operand 0 = A / 1 = B, from, to) element ranges of the stored operand. */
  segments: Int32Array;
  /** Per task: [from, to) element ranges of C it finishes, flattened (copied out when it is done). */
  drains: Int32Array[];
}

const jobs = new Map<string, Job | 'empty' | null>();
const MAX_CACHED_JOBS = 64;

/** The byte addresses of operands that already live in the wasm memory (null: copied in, or out). */
interface InPlace {
  a: number | null; b: number | null; c: number | null;
}

function jobFor(e: Engine, p: MatmulProblem, threads: number, inPlace: InPlace): Job | 'empty' | null {
  const key = `${p.aShape}|${p.bShape}|${+p.transA}${+p.transB}|${p.a.length}|${p.b.length}|${threads}|` +
    `${e.arena.scratchBase}|${inPlace.a},${inPlace.b},${inPlace.c}`;
  let job = jobs.get(key);
  if (job === undefined) {
    if (jobs.size >= MAX_CACHED_JOBS) jobs.clear();
    job = planJob(e, p, threads, inPlace);
    jobs.set(key, job);
  }
  return job;
}

function planJob(e: Engine, p: MatmulProblem, maxThreads: number, inPlace: InPlace): Job | 'empty' | null {
  const plan = foldBatchIntoRows(p);
  const { M, K, N, nBatch, aOffsets, bOffsets } = plan;
  if (K === 0) return 'empty';
  const bShared = bOffsets.every((o) => o === bOffsets[0]);
  const work = planWork(nBatch, M, N, K, maxThreads, SHAPE, bShared);
  const tasks = taskList(work, M, N);
  const threads = tasks.length === 1 ? 1 : maxThreads;

  const arena = e.arena;
  arena.reset();
  // The records first, in one block, so that one image writes them all.
  const offsets = arena.alloc(8 * nBatch);
  const records = arena.alloc(TASK.BYTES * tasks.length);
  const scratchRecords = Array.from({ length: threads }, () => arena.alloc(SCRATCH.BYTES));
  const imageAt = offsets;
  const imageEnd = arena.alloc(0);
  const aPtr = inPlace.a ?? arena.alloc(4 * p.a.length);
  const bPtr = inPlace.b ?? arena.alloc(4 * p.b.length);
  const cPtr = inPlace.c ?? arena.alloc(4 * nBatch * M * N);
  const partStride = 4 * M * N;
  const partials = work.kParts > 1 ? arena.alloc(work.kParts * partStride) : 0;
  const packedB = work.shareB ? arena.alloc(packedBBytes(K, N, SHAPE)) : 0;
  const sizes = scratchBytes(SHAPE);
  const scratch = scratchRecords.map((record) => ({
    record, packA: arena.alloc(sizes.packA), packB: arena.alloc(sizes.packB), tile: arena.alloc(sizes.tile),
  }));
  if (!arena.fits()) return null;

  const image = new Int32Array((imageEnd - imageAt) >> 2);
  const put = (at: number, value: number) => (image[(at - imageAt) >> 2] = value);
  for (let t = 0; t < nBatch; t++) {
    put(offsets + 8 * t, aOffsets[t]!);
    put(offsets + 8 * t + 4, bOffsets[t]!);
  }
  tasks.forEach((t, i) => {
    const at = records + i * TASK.BYTES;
    const fields: Record<Exclude<keyof typeof TASK, 'BYTES'>, number> = {
      kind: t.kind, aBase: aPtr, bBase: bPtr, offsets, M, N, K, transA: +p.transA, transB: +p.transB,
      cBase: t.kind === KIND.GEMM && work.kParts > 1 ? partials + t.part * partStride : cPtr,
      batchStart: t.batchStart, batchEnd: t.batchEnd, rowStart: t.rowStart, rowEnd: t.rowEnd,
      colStart: t.colStart, colEnd: t.colEnd, kStart: t.kStart, kEnd: t.kEnd,
      packedB, packedDepth: packedDepth(K, SHAPE), partials, parts: work.kParts, partStride,
    };
    for (const [name, value] of Object.entries(fields)) put(at + TASK[name as keyof typeof fields], value);
  });
  for (const s of scratch) {
    put(s.record + SCRATCH.packA, s.packA);
    put(s.record + SCRATCH.packB, s.packB);
    put(s.record + SCRATCH.tile, s.tile);
  }

  const copies = copyPlan(tasks, plan, p, inPlace);
  const deps: TaskDeps[] = tasks.map((t, i) => {
    const copied = { counter: COPIED, need: copies.need[i]! };
    if (t.kind === KIND.PACK_B) return { gates: [copied], bump: PACKED };
    if (t.kind === KIND.REDUCE) return { gates: [{ counter: COMPUTED, need: work.boxes.length }] };
    return { gates: work.shareB ? [copied, { counter: PACKED, need: 1 }] : [copied], bump: COMPUTED };
  });
  const drains = tasks.map((t) => {
    if (inPlace.c !== null || t.kind === KIND.PACK_B || (t.kind === KIND.GEMM && work.kParts > 1)) return new Int32Array(0); // in place, or not final C yet
    const runs: number[] = [];
    for (let entry = t.batchStart; entry < t.batchEnd; entry++) {
      for (const [from, to] of rowRuns(entry * M * N, t, N)) runs.push(from, to);
    }
    return Int32Array.from(runs);
  });
  return {
    threads, aPtr, bPtr, cPtr, records, count: tasks.length, scratch: scratchRecords, image, imageAt,
    top: arena.alloc(0), drains,
    poolJob: {
      kernel: 'matmul.gemm', ...ThreadPool.tasks(tasks.map((_, i) => [records + i * TASK.BYTES])),
      table: ThreadPool.table(deps), scratch: scratchRecords,
    },
    segments: Int32Array.from(copies.segments.flatMap((s) => [s.operand === 'a' ? 0 : 1, s.from, s.to])),
  };
}

/** The pool's counters, as this driver uses them. */
const [COPIED, PACKED, COMPUTED] = [0, 1, 2];

/** One task record's variable fields. */
type Task = WorkBox & { kind: number };

/** The job's tasks, in claiming order: the shared PACK_B, the GEMM boxes, then the REDUCE tasks. */
function taskList(work: WorkPlan, M: number, N: number): Task[] {
  const whole = work.boxes[0]!;
  const full = { batchStart: 0, batchEnd: 1, rowStart: 0, rowEnd: M, colStart: 0, colEnd: N, kStart: 0, kEnd: whole.kEnd, part: 0 };
  return [
    ...(work.shareB ? [{ ...full, batchStart: whole.batchStart, kind: KIND.PACK_B }] : []),
    ...work.boxes.map((b) => ({ ...b, kind: KIND.GEMM })),
    ...work.reduceRows.map(([rowStart, rowEnd]) => ({ ...full, kEnd: 0, rowStart, rowEnd, kind: KIND.REDUCE })),
  ];
}

/** [from, to) element ranges of C (relative to `base`) covering rows × columns of box `t`, merged where contiguous. */
function rowRuns(base: number, t: WorkBox, N: number): [number, number][] {
  if (t.colStart === 0 && t.colEnd === N) return [[base + t.rowStart * N, base + t.rowEnd * N]];
  const runs: [number, number][] = [];
  for (let i = t.rowStart; i < t.rowEnd; i++) runs.push([base + i * N + t.colStart, base + i * N + t.colEnd]);
  return runs;
}

/**
 * The copy-in, cut for the tasks: each operand is copied as a growing prefix, extended task by task (in
 * claiming order) to the last element that task reads; need[i] is the number of segments task i waits for.
 * A row split of A (the common case) so becomes one segment per task; B read whole by every task is copied
 * before the first. REDUCE tasks read nothing of A or B; an operand already in wasm memory is not copied.
 */
function copyPlan(tasks: readonly Task[], plan: ReturnType<typeof planMatmul>, p: MatmulProblem, inPlace: InPlace) {
  const { M, N, K, aOffsets, bOffsets } = plan;
  const segments: { operand: 'a' | 'b'; from: number; to: number }[] = [];
  const need: number[] = [];
  let [aDone, bDone] = [0, 0];
  for (const t of tasks) {
    if (t.kind !== KIND.REDUCE) {
      let [aHi, bHi] = [0, 0];
      for (let entry = t.batchStart; entry < t.batchEnd; entry++) {
        // The last element of the box's rows × K range (A) and K range × columns (B), as stored.
        const kEnd = t.kind === KIND.PACK_B ? K : t.kEnd;
        if (t.kind === KIND.GEMM) aHi = Math.max(aHi, aOffsets[entry]! + (p.transA ? (kEnd - 1) * M + t.rowEnd : (t.rowEnd - 1) * K + kEnd));
        bHi = Math.max(bHi, bOffsets[entry]! + (p.transB ? (t.colEnd - 1) * K + kEnd : (kEnd - 1) * N + t.colEnd));
      }
      if (bHi > bDone && inPlace.b === null) segments.push({ operand: 'b', from: bDone, to: (bDone = bHi) });
      if (aHi > aDone && inPlace.a === null) segments.push({ operand: 'a', from: aDone, to: (aDone = aHi) });
    }
    need.push(segments.length);
  }
  return { segments, need };
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

/**
 * Float32 scratch arrays of these lengths in the wasm memory, valid until the next fast-path call (every call
 * starts the scratch space again), or null when they do not fit.
 */
export function scratchFloat32(lengths: readonly number[]): Float32Array[] | null {
  const arena = getEngine().arena;
  arena.reset();
  const at = lengths.map((n) => arena.alloc(4 * n));
  if (!arena.fits()) return null;
  arena.commit();
  return at.map((a, k) => new Float32Array(arena.memory.buffer as ArrayBuffer, a, lengths[k]));
}

/** The shared memory and its page limits (the vector kernels instantiate over the same memory). */
export function wasmMemory(): { memory: WebAssembly.Memory; pages: MemoryPages } {
  const e = getEngine();
  return { memory: e.arena.memory, pages: e.pages };
}

/**
 * The address of `view` if it lies in the persistent region of the wasm memory (a captured tape's buffer),
 * else null: a view of the scratch space would be overwritten by the next call that uses it.
 */
export function persistentAddressOf(view: ArrayBufferView): number | null {
  const at = wasmAddressOf(view);
  return at !== null && at + view.byteLength <= engine!.arena.scratchBase ? at : null;
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
