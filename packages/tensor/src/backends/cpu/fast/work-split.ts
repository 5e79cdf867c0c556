/**
 * How a batched matmul is cut into tasks for the threads (the task kinds are in matmul-kernel.ts).
 *
 * Three ways to cut, chosen by what each one costs on top of the arithmetic:
 *   - along M (rows of C): every task needs all of op(B). When B is the same for every task and its packed
 *     panels fit in cache, one PACK_B task packs it once for all, and the GEMM tasks can be small and shrink
 *     towards the end (guided self-scheduling): a thread that loses its core to another process only delays a
 *     small task, the threads end together, and the caller copies finished rows out while the others still
 *     compute. Otherwise each task packs B again, and there are only two per thread.
 *   - along N (columns): every task packs all of op(A) again; used when N is the larger side.
 *   - along K: every task computes a whole partial C over its slice of K, and REDUCE tasks add the partials.
 *     It costs 2·M·N extra floats per part (written, then read), against K·N or K·M of repacking for the
 *     other two: the choice for weight gradients, [128, 3830]·[3830, 512].
 * Every element of C is computed with the same arithmetic in the same order whatever the thread count: the
 * K split depends on the shape only, and its partials are added in a fixed order. So results are bitwise the
 * same at 1, 2 or 3 threads.
 */
import { type KernelShape, packedBBytes, roundUp } from './matmul-kernel.js';

export interface WorkBox {
  batchStart: number; batchEnd: number;
  rowStart: number; rowEnd: number;
  colStart: number; colEnd: number;
  kStart: number; kEnd: number;
  /** With a K split: the partial C this box writes (0 … kParts − 1). */
  part: number;
}

export interface WorkPlan {
  /** The GEMM tasks. */
  boxes: WorkBox[];
  /** Parts of the K split (1: none). */
  kParts: number;
  /** Whether a PACK_B task packs op(B) once for all GEMM tasks. */
  shareB: boolean;
  /** With a K split: the REDUCE tasks' row ranges of C. */
  reduceRows: [number, number][];
}

/** Below this many FLOPs per task (≈ 0.06 ms of work), waking a sleeping worker (30–110 µs) costs more than it saves. */
export const MIN_FLOPS_PER_TASK = 3_000_000;
/** Tasks per thread when each task repacks an operand, and for batch tasks sharing one packed op(B). */
export const TASKS_PER_THREAD = { repacking: 2, sharedB: 8 } as const;
/** The shared packed op(B) is used up to this size (bytes): it is read by every task, so it should stay in L2. */
export const SHARED_B_MAX_BYTES = 1 << 20;
/** K split: only for K at least this deep, into this many parts (6 shares evenly between 1, 2 and 3 threads). */
export const K_SPLIT_MIN_DEPTH = 1024;
export const K_SPLIT_PARTS = 6;
/** REDUCE tasks: about this many floats (read) each. */
const REDUCE_FLOATS_PER_TASK = 1 << 18;
/** Tasks of one job, at most (the pool's table holds 256; guided row tasks stay far below: ≈ 2·threads·ln(M/32)). */
const MAX_TASKS_PER_JOB = 128;

/**
 * The number of K parts for this shape (1: no K split). Thread count does not enter, so the rounding of the
 * result does not depend on it: split when K is deep and C is small enough that the partials (2·M·N floats per
 * part) cost less than repacking an operand (K·min(M, N) floats per extra task).
 */
export function kSplitParts(nBatch: number, M: number, N: number, K: number): number {
  if (nBatch !== 1 || K < K_SPLIT_MIN_DEPTH || 2 * M * N > K * Math.min(M, N)) return 1;
  return Math.min(K_SPLIT_PARTS, Math.floor(K / 256));
}

/**
 * The tasks for `threads` threads. `bShared`: every batch entry reads the same B (so one packed copy serves
 * all tasks).
 */
export function planWork(
  nBatch: number, M: number, N: number, K: number, threads: number, shape: KernelShape, bShared: boolean,
): WorkPlan {
  const whole: WorkBox = { batchStart: 0, batchEnd: nBatch, rowStart: 0, rowEnd: M, colStart: 0, colEnd: N, kStart: 0, kEnd: K, part: 0 };
  const flops = 2 * nBatch * M * N * K;
  const maxTasks = Math.max(1, Math.floor(flops / MIN_FLOPS_PER_TASK));

  const kParts = kSplitParts(nBatch, M, N, K);
  if (kParts > 1) {
    const boxes = ranges(K, kParts, 1).map(([kStart, kEnd], part) => ({ ...whole, kStart, kEnd, part }));
    const reduceTasks = Math.min(2 * threads, 32, Math.max(1, Math.round((kParts * M * N) / REDUCE_FLOATS_PER_TASK)));
    return { boxes, kParts, shareB: false, reduceRows: ranges(M, reduceTasks, 4) };
  }

  // op(B) can be packed once when every task reads all of it: a split along rows or batch entries.
  const canShare = threads > 1 && bShared && (M >= N || nBatch > 1) && packedBBytes(K, N, shape) <= SHARED_B_MAX_BYTES;
  const tasks = (perThread: number) => (threads === 1 ? 1 : Math.min(threads * perThread, maxTasks, MAX_TASKS_PER_JOB));
  let parts = tasks(canShare ? TASKS_PER_THREAD.sharedB : TASKS_PER_THREAD.repacking);
  const axis = nBatch >= parts ? 'batch' : M >= N ? 'rows' : 'cols';
  if (axis === 'cols') parts = tasks(TASKS_PER_THREAD.repacking);
  if (parts <= 1) return { boxes: [whole], kParts: 1, shareB: false, reduceRows: [] };
  // With the packed B shared, a task costs nothing beyond its arithmetic, so rows go out in shrinking tasks
  // (guided self-scheduling): large ones first, small ones last, so the threads finish within a small task of
  // each other (with equal tasks the last one ran alone for up to a task's length: 0.3 ms of a 5.7 ms call).
  const minRows = roundUp(Math.max(8 * shape.MR, Math.ceil(MIN_FLOPS_PER_TASK / (2 * nBatch * N * K))), shape.MR);
  const rowRanges = canShare && axis === 'rows' ? guidedRanges(M, threads, shape.MR, minRows) : ranges(M, parts, shape.MR);
  const boxes =
    axis === 'batch' ? ranges(nBatch, parts, 1).map(([batchStart, batchEnd]) => ({ ...whole, batchStart, batchEnd }))
    : axis === 'rows' ? rowRanges.map(([rowStart, rowEnd]) => ({ ...whole, rowStart, rowEnd }))
    : ranges(N, parts, shape.NR).map(([colStart, colEnd]) => ({ ...whole, colStart, colEnd }));
  return { boxes, kParts: 1, shareB: canShare && axis !== 'cols', reduceRows: [] };
}

/** [start, end) pairs covering 0..n, each a 1/(2·threads) share of what is left, at least `min`, aligned. */
function guidedRanges(n: number, threads: number, align: number, min: number): [number, number][] {
  const out: [number, number][] = [];
  for (let start = 0; start < n; ) {
    let end = Math.min(n, start + Math.max(min, roundUp(Math.ceil((n - start) / (2 * threads)), align)));
    if (n - end < min) end = n; // no sliver at the end
    out.push([start, end]);
    start = end;
  }
  return out;
}

/** [start, end) pairs covering 0..n in at most `parts` near-equal pieces, each boundary a multiple of `align`. */
function ranges(n: number, parts: number, align: number): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  for (let p = 1; p <= parts && start < n; p++) {
    const end = p === parts ? n : Math.min(n, roundUp(Math.round((p * n) / parts), align));
    if (end > start) out.push([start, end]);
    start = end;
  }
  return out;
}
