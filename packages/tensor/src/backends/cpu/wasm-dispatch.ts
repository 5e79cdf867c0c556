/**
 * Captured kernels on the WebAssembly SIMD path. While a tape is being captured, every output lives in the
 * shared wasm memory (capture.ts), so the float32 kernels of fast/vector-kernels.ts can run on it in place,
 * 20–60× faster than a JavaScript loop over the same typed arrays. Each function here returns the bound
 * kernel for one op, or null when the op is not one of these shapes (the caller then binds the JS loop).
 *
 * An input that lives outside the wasm memory (a parameter, a host-made index) is staged: the bound kernel
 * first copies it into a buffer of its own in the memory, so a replay sees the input's current values.
 * Every kernel here computes exactly what the JS loop computes (same float32 roundings, same order).
 *
 * The large ones split across the threads (fast/parallel.ts): elementwise kernels by ranges of elements, row
 * kernels and gathers by rows, attention's tiny products by batch entries. The split never changes a
 * result, bit for bit. The two kernels that sum over rows, the scatter-add and the column sum, stay on one
 * thread: their exact splits (by destination, by columns) measured slower here (see each).
 */
import type { BinaryOp, UnaryOp } from '../../backend.js';
import type { TypedArray } from '../../dtype.js';
import type { Shape } from '../../shape.js';
import type { BoundKernel } from '../reference/index.js';
import { kernelOnThisThread, wasmAddressOf } from './fast/fast-matmul.js';
import { parallelKernel } from './fast/parallel.js';
import type { MatmulProblem, planMatmul } from '../reference/matmul.js';

type MatmulPlan = ReturnType<typeof planMatmul>;

/** An operand's address, with the copy that stages it when it lives outside the wasm memory. */
interface Operand {
  ptr: number;
  stage: (() => void) | null;
}

/** Memory for a staging buffer: the capture's allocator (so the memory plan knows it). */
export type Allocate = (dtype: 'float32' | 'float64' | 'int32', length: number, constant?: boolean) => TypedArray | null;

function operand(data: TypedArray, alloc: Allocate): Operand | null {
  const at = wasmAddressOf(data);
  if (at !== null) return { ptr: at, stage: null };
  const dtype = data instanceof Int32Array ? 'int32' : data instanceof Float32Array ? 'float32' : null;
  const buffer = dtype && alloc(dtype, data.length);
  if (!buffer) return null;
  return { ptr: buffer.byteOffset, stage: () => buffer.set(data) };
}

/**
 * Binds `make(...ptrs)`, the kernel call at the operands' addresses, staging the operands that need it;
 * null if an operand has no address.
 */
function bind(alloc: Allocate, arrays: readonly TypedArray[], make: (...ptrs: number[]) => () => void): BoundKernel | null {
  const ops = arrays.map((a) => operand(a, alloc));
  if (ops.some((o) => o === null)) return null;
  const run = make(...ops.map((o) => o!.ptr));
  const stages = ops.flatMap((o) => (o!.stage ? [o!.stage] : []));
  if (stages.length === 0) return run;
  return () => {
    for (const stage of stages) stage();
    run();
  };
}

const isF32 = (...xs: TypedArray[]) => xs.every((x) => x instanceof Float32Array);

/** A cache line of floats: pieces of a split start on one, so no two threads write the same line. */
const LINE = 16;

/** `kernel(inputs..., out, n)` over n floats, split into ranges of elements. */
function elementwise(kernel: string, n: number, ...ptrs: number[]): () => void {
  return parallelKernel(kernel, n, (start, end) => [...ptrs.map((p) => p + 4 * start), end - start], { align: LINE });
}

/** `kernel(x, y, out, rows, cols)` where x and out move on a row per row and y stays, split by rows. */
function rowwise(kernel: string, rows: number, cols: number, x: number, y: number, out: number, yPerRow = 0): () => void {
  return parallelKernel(kernel, rows, (r0, r1) => [x + 4 * cols * r0, y + yPerRow * r0, out + 4 * cols * r0, r1 - r0, cols], {
    unitElements: cols, align: Math.ceil(LINE / cols),
  });
}

export function wasmUnary(alloc: Allocate, op: UnaryOp, x: TypedArray, out: TypedArray): BoundKernel | null {
  if (op !== 'relu' || !isF32(x, out)) return null;
  const n = out.length;
  return bind(alloc, [x, out], (px, po) => elementwise('vector.relu', n, px!, po!));
}

export function wasmReluBackward(alloc: Allocate, x: TypedArray, g: TypedArray, out: TypedArray): BoundKernel | null {
  if (!isF32(x, g, out)) return null;
  const n = out.length;
  return bind(alloc, [x, g, out], (px, pg, po) => elementwise('vector.reluBackward', n, px!, pg!, po!));
}

export function wasmBinary(alloc: Allocate, 
  op: BinaryOp, a: TypedArray, aShape: Shape, b: TypedArray, bShape: Shape, out: TypedArray, outShape: Shape,
): BoundKernel | null {
  if (!isF32(a, b, out) || a.length !== out.length) return null; // a must already have the output's shape
  const n = out.length;
  if (b.length === n) {
    if (op !== 'add' && op !== 'sub' && op !== 'mul') return null;
    return bind(alloc, [a, b, out], (pa, pb, po) => elementwise(`vector.${op}`, n, pa!, pb!, po!));
  }
  const cols = outShape.at(-1) ?? 1;
  // b broadcast along rows: its shape is [..1, cols] (a bias).
  if (op === 'add' && b.length === cols && cols > 0 && bShape.at(-1) === cols && aShape.length === outShape.length) {
    const rows = n / cols;
    return bind(alloc, [a, b, out], (pa, pb, po) => rowwise('vector.addRowBias', rows, cols, pa!, pb!, po!));
  }
  // b broadcast along columns: its shape is outShape with a last dimension of 1 (a factor per row).
  const perRow = bShape.length === outShape.length && bShape.at(-1) === 1 && bShape.every((d, i) => i === bShape.length - 1 || d === outShape[i]);
  if (op === 'mul' && perRow && cols > 1 && aShape.length === outShape.length) {
    const rows = n / cols;
    return bind(alloc, [a, b, out], (pa, pb, po) => rowwise('vector.scaleRows', rows, cols, pa!, pb!, po!, 4));
  }
  if (op === 'mul' && b.length === 1) {
    const s = b[0]!; // a scalar constant: it cannot change between replays (constants are host-made once)
    if (wasmAddressOf(b) !== null) return null; // a computed scalar could: keep the JS loop
    return bind(alloc, [a, out], (pa, po) => parallelKernel('vector.scale', n, (start, end) => [pa! + 4 * start, s, po! + 4 * start, end - start], { align: LINE }));
  }
  return null;
}

/** Rows `index` of a [rows, cols] table (indexSelect along axis 0), split by ranges of indices. */
export function wasmGatherRows(alloc: Allocate, table: TypedArray, index: Int32Array, out: TypedArray, cols: number): BoundKernel | null {
  if (!isF32(table, out)) return null;
  const nIndex = index.length;
  return bind(alloc, [table, index, out], (pt, pi, po) => parallelKernel('vector.gatherRows', nIndex,
    (i0, i1) => [pt!, pi! + 4 * i0, po! + 4 * cols * i0, i1 - i0, cols, cols], { unitElements: cols, align: Math.ceil(LINE / cols) }));
}

/**
 * out = zeros, then out[index[i], :] += src[i, :] (indexAdd along axis 0), on the calling thread. An index
 * can repeat, and a destination row must take its source rows in index order, so a split would have to be by
 * destination: by columns (the kernel's stride allows it) or by ranges of rows, each thread walking every
 * index. Measured here at the model's shapes ([45960, 32] into 1,368 rows, [3830, 128] into 342), both
 * splits ran slower at 2 threads than one thread (×0.5–1.2, never reliably faster): with rows of 32 floats
 * the walk over the indices costs as much as the adds, and neither split shares it out.
 */
export function wasmScatterAddRows(alloc: Allocate, src: TypedArray, index: Int32Array, out: TypedArray, cols: number): BoundKernel | null {
  if (!isF32(src, out)) return null;
  const nIndex = index.length;
  const outRows = out.length / Math.max(cols, 1);
  const indexAddRows = kernelOnThisThread('vector.indexAddRows');
  return bind(alloc, [src, index, out], (ps, pi, po) => () => indexAddRows(ps!, pi!, po!, nIndex, cols, cols, outRows));
}

/**
 * The many tiny matmuls of attention (see fast/small-matmul-kernel.ts): the loops of small-matmul.ts in wasm,
 * split by batch entries (each entry is its own product).
 */
export function wasmSmallMatmul(alloc: Allocate, p: MatmulProblem, plan: MatmulPlan, out: TypedArray): BoundKernel | null {
  if (!isF32(p.a as TypedArray, p.b as TypedArray, out)) return null;
  const { M, K, N, nBatch, aOffsets, bOffsets } = plan;
  // The per-entry offsets depend on shapes only: written into wasm memory once, at capture.
  const offsets = alloc('int32', 2 * nBatch, true) as Int32Array | null;
  if (!offsets) return null;
  for (let t = 0; t < nBatch; t++) {
    offsets[2 * t] = aOffsets[t]!;
    offsets[2 * t + 1] = bOffsets[t]!;
  }
  const ai = p.transA ? 1 : K;
  const ak = p.transA ? M : 1;
  const kernel = p.transB ? 'smallMatmul.smallMatmulTransB' : 'smallMatmul.smallMatmul';
  const at = offsets.byteOffset;
  return bind(alloc, [p.a as TypedArray, p.b as TypedArray, out], (pa, pb, pc) => parallelKernel(kernel, nBatch,
    (t0, t1) => [pa!, pb!, pc! + 4 * M * N * t0, at + 8 * t0, t1 - t0, M, K, N, ai, ak], { unitElements: M * K * N + M * N, align: LINE }));
}

/**
 * Σ over the rows of x [rows, cols] (a sum over axis 0), in float64 as the reference adds: see
 * column-sum-kernel.ts. On the calling thread: an exact split has to be by columns (each column adds its rows
 * in order), and measured in the training step ([3830, 512] and [3830, 128], 1 against 2 threads in one
 * process) it ran 1.5–2.7× slower than one thread: each thread reads every row, strided, and the rows were
 * just written by the previous kernel, half of them in the other core's cache.
 */
export function wasmColumnSum(alloc: Allocate, x: TypedArray, out: TypedArray, rows: number, cols: number): BoundKernel | null {
  if (!isF32(x, out)) return null;
  const acc = alloc('float64', cols); // scratch: zeroed by the kernel
  if (!acc) return null;
  const columnSum = kernelOnThisThread('columnSum.columnSum');
  return bind(alloc, [x, out], (px, po) => () => columnSum(px!, po!, acc.byteOffset, rows, cols, cols));
}
