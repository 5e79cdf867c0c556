/**
 * Memory-bound kernels split across the threads: one kernel call cut into pieces along one axis, each piece
 * a call of the same wasm kernel with other arguments, run as one job of the thread pool (thread-pool.ts).
 *
 *   const run = parallelKernel('vector.add', n, (start, end) => [a + 4 * start, b + 4 * start, out + 4 * start, end - start]);
 *   run(); // out = a + b, on every thread the setting allows
 *
 * `units` is the length of the axis that is split (elements, rows, columns) and `piece(start, end)` gives
 * the kernel's arguments for units start … end − 1. The split must not change any result: pieces write
 * disjoint outputs, and every output is computed by the same arithmetic in the same order as in the whole
 * call (so a sum over rows is split by columns, never by rows). Then a split call is bit for bit the whole one.
 *
 * Each call checks the thread setting (setThreads / GROK_THREADS): at one thread, below MIN_SPLIT_ELEMENTS,
 * while no worker is ready, or, below MIN_WAKE_ELEMENTS, while none is awake (polling after its last job;
 * see ThreadPool.awakeWorkers), the kernel runs as one call on this thread. The pieces for each thread count
 * are worked out once: a captured tape binds its kernels once and replays them every step.
 */
import { getThreads } from './settings.js';
import { kernelOnThisThread, poolWorkers } from './fast-matmul.js';
import { type Job, ThreadPool } from './thread-pool.js';

/**
 * Below this many elements a kernel stays on the calling thread. Measured here (an add over data in cache, 1
 * against 2 threads in one process): at 50k and 100k elements the split and the whole call take the same
 * time (0.006 and 0.02 ms), at 200k the split is ≈ 25 % faster; a woken worker (30–110 µs) makes small
 * splits slower, and data that is not in cache (as in a training step) makes large ones gain more.
 */
export const MIN_SPLIT_ELEMENTS = 100_000;
/**
 * From this many elements on, a call wakes sleeping workers; below, it uses only workers that are awake
 * (polling after a job), else it runs whole here. Waking takes 30–110 µs on a quiet machine, and on a loaded
 * one the woken worker can take the caller's core for the whole job (ThreadPool.awakeWorkers): measured with
 * the caches flushed before each call, a split that woke the worker ran 1.4–5× slower than one thread for
 * every kernel of 0.1–0.8 ms (add, bias add, ReLU backward, gathers, column sums).
 */
export const MIN_WAKE_ELEMENTS = 1_000_000;
/** Pieces per thread: more than one, so that a thread that loses its core to another process holds up less. */
export const PIECES_PER_THREAD = 2;
/** No piece smaller than this many elements (each costs a task claim and a JS-to-wasm call). */
const MIN_PIECE_ELEMENTS = 16_384;

export interface SplitOptions {
  /** Elements per unit of the split axis (1 for elements, `cols` for rows, `rows` for columns). */
  unitElements?: number;
  /** Piece boundaries fall on multiples of this many units (16 floats: a cache line, so no two threads write one). */
  align?: number;
}

/** A bound kernel call that splits itself across the threads; see the file comment. */
export function parallelKernel(
  kernel: string, units: number, piece: (start: number, end: number) => number[], options: SplitOptions = {},
): () => void {
  const { unitElements = 1, align = 1 } = options;
  const here = kernelOnThisThread(kernel);
  const wake = units * unitElements >= MIN_WAKE_ELEMENTS;
  const whole = piece(0, units);
  const jobs = new Map<number, Job | null>(); // by thread count
  return () => {
    const threads = getThreads();
    let job = jobs.get(threads);
    if (job === undefined) {
      job = splitJob(kernel, units, piece, threads, unitElements, align);
      jobs.set(threads, job);
    }
    const pool = job && poolWorkers(threads);
    const workers = !pool ? [] : wake ? pool.workers : pool.pool.awakeWorkers(pool.workers);
    if (workers.length > 0) pool!.pool.run(job!, workers);
    else here(...whole);
  };
}

/** The pool job for `threads` threads, or null when the call should stay whole. */
function splitJob(
  kernel: string, units: number, piece: (start: number, end: number) => number[],
  threads: number, unitElements: number, align: number,
): Job | null {
  const elements = units * unitElements;
  if (threads <= 1 || elements < MIN_SPLIT_ELEMENTS) return null;
  const pieces = Math.min(threads * PIECES_PER_THREAD, Math.floor(elements / MIN_PIECE_ELEMENTS));
  const ranges = splitRange(units, pieces, align);
  if (ranges.length <= 1) return null;
  return { kernel, ...ThreadPool.tasks(ranges.map(([start, end]) => piece(start, end))) };
}

/** [start, end) pairs covering 0 … n in at most `parts` near-equal pieces, inner boundaries multiples of `align`. */
export function splitRange(n: number, parts: number, align: number): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  for (let p = 1; p <= parts && start < n; p++) {
    const end = p === parts ? n : Math.min(n, Math.ceil((p * n) / parts / align) * align);
    if (end > start) out.push([start, end]);
    start = end;
  }
  return out;
}
