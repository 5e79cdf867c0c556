/**
 * Matmul GFLOP/s at the paper model's shapes (batch 3,830, d_model 128, d_mlp 512): the forward products,
 * and the transposed ones the backward pass runs (Aᵀ·B for weight gradients, A·Bᵀ for input gradients),
 * for the reference TypeScript loop and the WebAssembly SIMD fast path at 1 and N threads; and, for the fast
 * path, the same product with its operands already in wasm memory (as a captured step has them), which gives
 * what the copies in and out cost.
 */
import { availableParallelism } from 'node:os';
import {
  type NDArray, allocateInWasmMemory, getBackend, matmul, randn, releaseWasmMemory, setFastPath, setThreads, startThreads,
} from '@grok/tensor';

export type MatmulRow = {
  suite: 'matmul';
  impl: 'grok' | 'grok-reference';
  threads: number;
  /** 'MxK·KxN' as the product is read, then ' Aᵀ' / ' Bᵀ' when that operand is stored transposed. */
  shape: string;
  gflops: number;
  /** Best time of one call, in milliseconds. */
  ms: number;
  /**
   * For the fast path: what `matmul` spends besides the kernel, as a share of `ms`: copying A and B into wasm
   * memory and C out, and allocating the output. 1 − (best time of the same product with every operand already
   * in wasm memory) / ms. (With threads, most of the copying overlaps the arithmetic.)
   */
  copyShare?: number;
  /** For the fast path: GFLOP/s with the operands already in wasm memory. */
  residentGflops?: number;
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

/**
 * The same product with nothing to copy: A and B copied once into the wasm memory (allocateInWasmMemory),
 * and the matmul captured on a tape (as compileStep does), so its output is placed there too; `run` replays it.
 */
function resident(a: NDArray, b: NDArray, c: Case): { run: () => void; release: () => void } {
  const backend = getBackend();
  const pin = (t: NDArray) => {
    const view = allocateInWasmMemory('float32', t.size)!;
    view.set(t.data as Float32Array);
    return backend.fromArray(view, t.shape, 'float32');
  };
  const [wa, wb] = [pin(a), pin(b)];
  backend.beginCapture!();
  matmul(wa, wb, { transA: !!c.transA, transB: !!c.transB });
  const tape = backend.endCapture!();
  return {
    run: () => tape.replay(),
    release: () => {
      tape.release();
      releaseWasmMemory((wa.data as Float32Array).byteOffset); // and wb, reserved after it
    },
  };
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

    const inWasm = resident(a, b, c);
    for (const threads of threadCounts) {
      setThreads(threads);
      await startThreads();
      run(); // warm-up: compiles and tiers up the kernel, grows the memory
      inWasm.run();
      // Interleaved, so that both see the same machine (it is shared): best of fastReps each.
      let [ms, residentMs] = [Infinity, Infinity];
      for (let r = 0; r < fastReps; r += 2) {
        ms = Math.min(ms, best(2, run));
        residentMs = Math.min(residentMs, best(2, inWasm.run));
      }
      rows.push({
        suite: 'matmul', impl: 'grok', threads, shape: shapeName(c), gflops: gflops(ms), ms,
        copyShare: Math.max(0, 1 - residentMs / ms), residentGflops: gflops(residentMs),
      });
    }
    inWasm.release();
  }
  setThreads(cores);
  return rows;
}
