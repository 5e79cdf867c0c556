/**
 * Matmul GFLOP/s at the paper model's shapes (batch 3,830, d_model 128, d_mlp 512): the forward products,
 * and the transposed ones the backward pass runs (Aᵀ·B for weight gradients, A·Bᵀ for input gradients),
 * for the reference TypeScript loop and the WebAssembly SIMD fast path at 1 and N threads.
 */
import { availableParallelism } from 'node:os';
import { type NDArray, matmul, randn, setFastPath, setThreads, startThreads } from '@grok/tensor';

export type MatmulRow = {
  suite: 'matmul';
  impl: 'grok' | 'grok-reference';
  threads: number;
  /** 'MxK·KxN' as the product is read, then ' Aᵀ' / ' Bᵀ' when that operand is stored transposed. */
  shape: string;
  gflops: number;
  /** Best time of one call, in milliseconds. */
  ms: number;
  /** For the fast path: the time of the copies in and out of wasm memory alone, as a share of `ms`. */
  copyShare?: number;
};

interface Case {
  M: number; K: number; N: number;
  transA?: boolean; transB?: boolean;
}

export const MODEL_SHAPES: readonly Case[] = [
  { M: 3830, K: 128, N: 512 }, // MLP in:  x · W_in
  { M: 3830, K: 512, N: 128 }, // MLP out: h · W_out
  { M: 3830, K: 128, N: 128 }, // attention projections, unembed-sized
  { M: 128, K: 3830, N: 512 }, // a weight gradient, read as stored
  { M: 128, K: 3830, N: 512, transA: true }, // dW_in = xᵀ · dh   (x stored 3830×128)
  { M: 512, K: 3830, N: 128, transA: true }, // dW_out = hᵀ · dy  (h stored 3830×512)
  { M: 128, K: 3830, N: 128, transA: true }, // dW_Q and friends
  { M: 3830, K: 512, N: 128, transB: true }, // dx = dh · W_inᵀ   (W_in stored 128×512)
  { M: 3830, K: 128, N: 512, transB: true }, // dh = dy · W_outᵀ  (W_out stored 512×128)
];

export const shapeName = ({ M, K, N, transA, transB }: Case) =>
  `${M}x${K}·${K}x${N}${transA ? ' Aᵀ' : ''}${transB ? ' Bᵀ' : ''}`;

function operands({ M, K, N, transA, transB }: Case): [NDArray, NDArray] {
  const a = randn(transA ? [K, M] : [M, K], { seed: 1 });
  const b = randn(transB ? [N, K] : [K, N], { seed: 2 });
  return [a, b];
}

/** Best wall time of `reps` calls, in ms. */
function best(reps: number, fn: () => void): number {
  let min = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

/** The copies the fast path makes (A and B in, C out), timed alone on a shared buffer of the same sizes. */
function copyTime(a: NDArray, b: NDArray, outSize: number, reps: number): number {
  const wasmLike = new Float32Array(new SharedArrayBuffer(4 * (a.size + b.size + outSize)));
  const out = new Float32Array(outSize);
  const aData = a.data as Float32Array;
  const bData = b.data as Float32Array;
  return best(reps, () => {
    wasmLike.set(aData, 0);
    wasmLike.set(bData, a.size);
    out.set(wasmLike.subarray(a.size + b.size));
  });
}

/**
 * `shapes` (names as `shapeName` writes them) runs only those, fast path only: the peers' shapes, when the
 * matmul suite itself was not asked for.
 */
export async function runMatmulBench({ quick = false, shapes: only }: { quick?: boolean; shapes?: readonly string[] } = {}): Promise<MatmulRow[]> {
  const cores = availableParallelism();
  const threadCounts = [...new Set([1, cores])];
  const fastReps = quick ? 2 : 12;
  const refReps = quick ? 1 : 2;
  const shapes = only ? MODEL_SHAPES.filter((c) => only.includes(shapeName(c))) : quick ? MODEL_SHAPES.slice(0, 2) : MODEL_SHAPES;
  const rows: MatmulRow[] = [];
  for (const c of shapes) {
    const [a, b] = operands(c);
    const flops = 2 * c.M * c.N * c.K;
    const run = () => matmul(a, b, { transA: !!c.transA, transB: !!c.transB });
    const gflops = (ms: number) => flops / ms / 1e6;

    if (!only) {
      setFastPath(false);
      const refMs = best(refReps, run);
      rows.push({ suite: 'matmul', impl: 'grok-reference', threads: 1, shape: shapeName(c), gflops: gflops(refMs), ms: refMs });
      setFastPath(true);
    }

    const copyMs = copyTime(a, b, c.M * c.N, fastReps);
    for (const threads of threadCounts) {
      setThreads(threads);
      await startThreads();
      run(); // warm-up: compiles and tiers up the kernel, grows the memory
      const ms = best(fastReps, run);
      rows.push({ suite: 'matmul', impl: 'grok', threads, shape: shapeName(c), gflops: gflops(ms), ms, copyShare: copyMs / ms });
    }
  }
  setThreads(cores);
  return rows;
}
