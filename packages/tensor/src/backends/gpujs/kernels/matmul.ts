/**
 * Batched matmul: a [...batchA, M, K] · b [...batchB, K, N] → [...batch, M, N], transposes read in place.
 *
 * One thread per output element C(i, j), a dot product over k. The output is 2-D, [N, batch·M] in GPU.js's
 * [width, height] order, so thread.x = j and thread.y = (batch t, row i): in webasm mode this runs about
 * twice as fast as a flat output, because the four SIMD lanes then share i (one broadcast load of A(i, k))
 * and read four neighbouring B(k, j). The transpose flags only change the two strides of each operand:
 *   A(i, k) = a[i·K + k]   or, stored [K, M], a[k·M + i]
 *   B(k, j) = b[k·N + j]   or, stored [N, K], b[j·K + k]
 */
import { type Shape, broadcastShapes, broadcastStrides, sizeOf } from '../../../shape.js';
import type { KernelSpec } from '../kernel-cache.js';
import { addressing, kernelSource } from './source.js';

export interface MatmulPlan {
  M: number;
  K: number;
  N: number;
  batch: number[];
  outShape: number[];
}

export function planMatmul(aShape: Shape, bShape: Shape, transA: boolean, transB: boolean): MatmulPlan {
  const M = transA ? aShape.at(-1)! : aShape.at(-2)!;
  const K = transA ? aShape.at(-2)! : aShape.at(-1)!;
  const N = transB ? bShape.at(-2)! : bShape.at(-1)!;
  const batch = broadcastShapes('matmul', aShape.slice(0, -2), bShape.slice(0, -2));
  return { M, K, N, batch, outShape: [...batch, M, N] };
}

export function matmulSpec(
  a: { shape: Shape; offset: number; trans: boolean },
  b: { shape: Shape; offset: number; trans: boolean },
  /**
   * A flat output [batch·M·N] instead of [N, batch·M]: for the GL modes, where a 2-D output is a texture of
   * exactly that height, which must stay under the GPU's texture size limit (16,384 here, while the paper
   * model's attention has batch·M = 45,960); GPU.js lays a flat output out as a square-ish texture.
   */
  flat = false,
): KernelSpec {
  const { M, K, N, batch } = planMatmul(a.shape, b.shape, a.trans, b.trans);
  const [aRow, aK] = a.trans ? [1, M] : [K, 1];
  const [bK, bCol] = b.trans ? [1, K] : [N, 1];
  const nBatch = sizeOf(batch);
  let rows: string;
  if (nBatch === 1) {
    rows = `const i = ${flat ? 'row' : 'this.thread.y'};\n  let oa = ${a.offset};\n  let ob = ${b.offset};`;
  } else {
    // Batch t's matrices start at (broadcast batch offset) × matrix size in each operand.
    const matA = sizeOf(a.shape.slice(-2));
    const matB = sizeOf(b.shape.slice(-2));
    const batchAddress = addressing(batch, 't', [
      { name: 'oa', strides: broadcastStrides(a.shape.slice(0, -2), batch).map((s) => s * matA), base: a.offset },
      { name: 'ob', strides: broadcastStrides(b.shape.slice(0, -2), batch).map((s) => s * matB), base: b.offset },
    ]);
    const y = flat ? 'row' : 'this.thread.y';
    rows = `const t = Math.floor(${y} / ${M});\n  const i = ${y} - t * ${M};\n  ${batchAddress}`;
  }
  const head = flat ? `const row = Math.floor(this.thread.x / ${N});\n  const j = this.thread.x - row * ${N};` : 'const j = this.thread.x;';
  const body = `${head}
  ${rows}
  const pa = oa + i * ${aRow};
  const pb = ob + j * ${bCol};
  let s = 0.0;
  for (let k = 0; k < ${K}; k++) {
    s += a[pa + k * ${aK}] * b[pb + k * ${bK}];
  }
  return s;`;
  return { source: kernelSource(['a', 'b'], body), output: flat ? [nBatch * M * N] : [N, nBatch * M], loop: K };
}
