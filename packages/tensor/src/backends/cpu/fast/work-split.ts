/**
 * How a batched matmul is cut into per-thread tasks. Each task is a box of (batch entries × rows × columns)
 * of C and packs its own panels, so a split along rows repacks B in every task and a split along columns
 * repacks A: we cut the larger of M and N, which keeps the repeated packing the smaller one.
 */
import { roundUp } from './matmul-kernel.js';

export interface WorkBox {
  batchStart: number; batchEnd: number;
  rowStart: number; rowEnd: number;
  colStart: number; colEnd: number;
}

/** Below this many FLOPs per task (≈ 0.2 ms of work), waking a worker (25–50 µs) costs more than it saves. */
export const MIN_FLOPS_PER_TASK = 3_000_000;

export function splitWork(
  nBatch: number, M: number, N: number, K: number, threads: number, tile: { MR: number; NR: number },
): WorkBox[] {
  const whole: WorkBox = { batchStart: 0, batchEnd: nBatch, rowStart: 0, rowEnd: M, colStart: 0, colEnd: N };
  const flops = 2 * nBatch * M * N * K;
  const parts = Math.min(threads, Math.floor(flops / MIN_FLOPS_PER_TASK));
  if (parts <= 1) return [whole];
  if (nBatch >= parts) {
    return ranges(nBatch, parts, 1).map(([batchStart, batchEnd]) => ({ ...whole, batchStart, batchEnd }));
  }
  if (M >= N) return ranges(M, parts, tile.MR).map(([rowStart, rowEnd]) => ({ ...whole, rowStart, rowEnd }));
  return ranges(N, parts, tile.NR).map(([colStart, colEnd]) => ({ ...whole, colStart, colEnd }));
}

/** [start, end) pairs covering 0..n in at most `parts` near-equal pieces, each a multiple of `align`. */
function ranges(n: number, parts: number, align: number): [number, number][] {
  const size = roundUp(Math.ceil(n / parts), align);
  const out: [number, number][] = [];
  for (let start = 0; start < n; start += size) out.push([start, Math.min(n, start + size)]);
  return out;
}
