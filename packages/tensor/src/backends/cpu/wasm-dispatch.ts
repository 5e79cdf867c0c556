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
import { allocateInWasmMemory, kernelOnThisThread, releaseWasmMemory, wasmAddressOf } from './fast/fast-matmul.js';
import { parallelKernel } from './fast/parallel.js';
import { crossEntropyScratchBytes } from './fast/cross-entropy-kernel.js';
import type { MatmulProblem, planMatmul } from '../reference/matmul.js';
import type { AttentionDims } from '../reference/attention.js';

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
 * null if an operand has no address. A null array is an absent one (attention without z): its address is 0,
 * which no buffer has and the kernels read as "none".
 */
function bind(alloc: Allocate, arrays: readonly (TypedArray | null)[], make: (...ptrs: number[]) => () => void): BoundKernel | null {
  const ops = arrays.map((a) => (a === null ? { ptr: 0, stage: null } : operand(a, alloc)));
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

/**
 * Runs a wasm kernel eagerly (outside a capture) on host arrays: its inputs are staged in wasm memory taken
 * for this call, its output is computed there and copied into `out`, and the memory is given back. Returns
 * false (having run nothing) when the kernel does not apply or the memory is full.
 */
export function runStaged(out: TypedArray, bindKernel: (alloc: Allocate, out: TypedArray) => BoundKernel | null): boolean {
  const taken: TypedArray[] = [];
  const alloc: Allocate = (dtype, length) => {
    const buffer = allocateInWasmMemory(dtype, length);
    if (buffer) taken.push(buffer);
    return buffer;
  };
  try {
    const dtype = out instanceof Float64Array ? 'float64' : out instanceof Int32Array ? 'int32' : 'float32';
    const staged = alloc(dtype, out.length);
    const kernel = staged && bindKernel(alloc, staged);
    if (!kernel) return false;
    kernel();
    out.set(staged);
    return true;
  } finally {
    for (const buffer of taken) releaseWasmMemory(buffer.byteOffset);
  }
}

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

/** The embedding bag and its adjoints (fast/embedding-bag-kernel.ts): float32, rows a multiple of 16 wide. */
export function wasmEmbeddingBag(
  alloc: Allocate, kind: 'forward' | 'weightGrad' | 'tableGrad', arrays: { table?: TypedArray; index: Int32Array; weight?: TypedArray; g?: TypedArray; out: TypedArray },
  R: number, D: number,
): BoundKernel | null {
  const { table, index, weight, g, out } = arrays;
  const floats = [table, weight, g, out].filter((x): x is TypedArray => x !== undefined);
  if (!isF32(...floats) || D === 0 || R === 0) return null;
  const B = index.length / R;
  // The forward and the weight gradient split by bags (each bag is its own sum); the table gradient by ranges
  // of destination rows, so that each row still takes its (b, r) terms in order. (By bands of columns it ran
  // 1.7× slower at 2 threads: every thread then does all the index work for a fraction of the adds.)
  if (kind === 'forward') {
    return bind(alloc, [table!, index, weight!, out], (pt, pi, pw, po) => parallelKernel('embeddingBag.embeddingBag', B,
      (b0, b1) => [pt!, pi! + 4 * R * b0, pw! + 4 * R * b0, po! + 4 * D * b0, b1 - b0, R, D], { unitElements: R * D }));
  }
  if (kind === 'weightGrad') {
    return bind(alloc, [table!, index, g!, out], (pt, pi, pg, po) => parallelKernel('embeddingBag.embeddingBagWeightGrad', B,
      (b0, b1) => [pt!, pi! + 4 * R * b0, pg! + 4 * D * b0, po! + 4 * R * b0, b1 - b0, R, D], { unitElements: R * D, align: LINE }));
  }
  // Pieces of equal work: the split runs over the (b, r) terms counted by destination row, and each boundary
  // becomes the first row at or past it (rows like '=''s, that every example looks up, weigh more).
  const rows = out.length / D;
  const startOfRow = new Int32Array(rows + 1); // terms landing in rows before n
  for (const n of index) startOfRow[n + 1]!++;
  for (let n = 0; n < rows; n++) startOfRow[n + 1]! += startOfRow[n]!;
  const rowAt = (term: number) => {
    let n = 0;
    while (n < rows && startOfRow[n]! < term) n++;
    return term >= index.length ? rows : n;
  };
  return bind(alloc, [index, weight!, g!, out], (pi, pw, pg, po) => parallelKernel('embeddingBag.embeddingBagTableGrad', index.length,
    (t0, t1) => [pi!, pw!, pg!, po!, B, R, D, rowAt(t0), rowAt(t1)], { unitElements: D }));
}

/**
 * Attention over a short context (see fast/attention-kernel.ts): the loops of reference/attention.ts in wasm,
 * split across the threads by (batch, head) entries, each its own attention. The forward is two wasm passes
 * with an exp pass between them (the cross-entropy module's fdlibm exp, Math.exp's bits); each piece of a
 * pass gets its own scratch.
 */
export function wasmAttention(
  alloc: Allocate, q: TypedArray, k: TypedArray, v: TypedArray, z: TypedArray, pattern: TypedArray, dims: AttentionDims, causal: boolean,
): BoundKernel | null {
  return attentionForward(alloc, q, k, { v, z }, pattern, dims, causal);
}

/** The pattern alone: the same passes, the mix without z. */
export function wasmAttentionPattern(
  alloc: Allocate, q: TypedArray, k: TypedArray, pattern: TypedArray, dims: AttentionDims, causal: boolean,
): BoundKernel | null {
  return attentionForward(alloc, q, k, null, pattern, dims, causal);
}

/** A piece's address `bytes` into an array, or 0 for an absent array (address 0). */
const at = (ptr: number, bytes: number) => (ptr === 0 ? 0 : ptr + bytes);

function attentionForward(
  alloc: Allocate, q: TypedArray, k: TypedArray, mix: { v: TypedArray; z: TypedArray } | null, pattern: TypedArray, dims: AttentionDims, causal: boolean,
): BoundKernel | null {
  const { entries, qPos, pos, d } = dims;
  if (!isF32(q, k, pattern) || (mix && !isF32(mix.v, mix.z)) || d % 4 !== 0) return null;
  const exps = alloc('float64', entries * qPos * pos) as Float64Array | null;
  const dotsPerEntry = pos + 4;
  const dots = alloc('float64', entries * dotsPerEntry); // a piece starting at entry t uses slot t
  if (!exps || !dots) return null;
  const scale = Math.fround(Math.sqrt(d));
  const [qRow, kvRows, scoreRow] = [4 * qPos * d, 4 * pos * d, 8 * qPos * pos];
  const options = { unitElements: qPos * pos * d, align: LINE };
  return bind(alloc, [q, k, pattern, mix?.v ?? null, mix?.z ?? null], (pq, pk, pp, pv, pz) => {
    const scores = parallelKernel('attention.attentionScores', entries, (t0, t1) =>
      [pq! + qRow * t0, pk! + kvRows * t0, exps.byteOffset + scoreRow * t0, dots.byteOffset + 8 * dotsPerEntry * t0, t1 - t0, qPos, pos, d, causal ? 1 : 0, scale], options);
    // exp in place: fdlibm's, in wasm (fast/fdlibm.ts), the bits of Math.exp; an exp weighs about eight adds.
    const exp = parallelKernel('crossEntropy.exp', exps.length, (i0, i1) =>
      [exps.byteOffset + 8 * i0, exps.byteOffset + 8 * i0, i1 - i0], { unitElements: 8, align: 8 });
    const mixPass = parallelKernel('attention.attentionMix', entries, (t0, t1) =>
      [exps.byteOffset + scoreRow * t0, at(pv!, kvRows * t0), at(pz!, qRow * t0), pp! + 4 * qPos * pos * t0, t1 - t0, qPos, pos, d], options);
    return () => {
      scores();
      exp();
      mixPass();
    };
  });
}

/** Its backward: dq, dk, dv from q, k, v, the pattern, dz (and a gradient of the pattern from elsewhere). */
export function wasmAttentionBackward(
  alloc: Allocate, q: TypedArray, k: TypedArray, v: TypedArray, pattern: TypedArray, dz: TypedArray,
  dq: TypedArray, dk: TypedArray, dv: TypedArray, dims: AttentionDims, dpattern: TypedArray | null = null,
): BoundKernel | null {
  return attentionBackward(alloc, q, k, pattern, dq, dk, { v, dz, dv }, dpattern, dims);
}

/** The pattern-only backward: dq and dk from q, k, the pattern and its gradient (the kernel with dz = 0). */
export function wasmAttentionPatternBackward(
  alloc: Allocate, q: TypedArray, k: TypedArray, pattern: TypedArray, dpattern: TypedArray, dq: TypedArray, dk: TypedArray, dims: AttentionDims,
): BoundKernel | null {
  return attentionBackward(alloc, q, k, pattern, dq, dk, null, dpattern, dims);
}

function attentionBackward(
  alloc: Allocate, q: TypedArray, k: TypedArray, pattern: TypedArray, dq: TypedArray, dk: TypedArray,
  fromZ: { v: TypedArray; dz: TypedArray; dv: TypedArray } | null, dpattern: TypedArray | null, dims: AttentionDims,
): BoundKernel | null {
  const { entries, qPos, pos, d } = dims;
  const floats = [q, k, pattern, dq, dk, ...(fromZ ? [fromZ.v, fromZ.dz, fromZ.dv] : []), ...(dpattern ? [dpattern] : [])];
  if (!isF32(...floats) || d % 4 !== 0 || !(fromZ || dpattern)) return null;
  const scratchPerEntry = qPos * pos + pos + 4;
  const scratch = alloc('float64', entries * scratchPerEntry); // a piece starting at entry t uses slot t
  if (!scratch) return null;
  const scale = Math.fround(Math.sqrt(d));
  const arrays = [q, k, fromZ?.v ?? null, pattern, fromZ?.dz ?? null, dq, dk, fromZ?.dv ?? null, dpattern];
  const [qRow, kvRows, pRow] = [4 * qPos * d, 4 * pos * d, 4 * qPos * pos];
  return bind(alloc, arrays, (pq, pk, pv, pp, pg, pdq, pdk, pdv, pdp) => parallelKernel('attention.attentionBackward', entries, (t0, t1) => [
    pq! + qRow * t0, pk! + kvRows * t0, at(pv!, kvRows * t0), pp! + pRow * t0, at(pg!, qRow * t0),
    pdq! + qRow * t0, pdk! + kvRows * t0, at(pdv!, kvRows * t0), scratch.byteOffset + 8 * scratchPerEntry * t0,
    t1 - t0, qPos, pos, d, scale, at(pdp!, pRow * t0),
  ], { unitElements: qPos * pos * d, align: LINE }));
}

/**
 * Cross-entropy of logit rows [rows, classes] (float32 or float64) against int32 targets: the float64 losses
 * and, if asked, dloss in the logits' dtype, as the reference loop computes them (see
 * fast/cross-entropy-kernel.ts). The outputs must already live in the wasm memory (they are never staged).
 */
export function wasmCrossEntropyRows(
  alloc: Allocate, x: TypedArray, targets: Int32Array, losses: Float64Array, dloss: TypedArray | null, rows: number, classes: number,
): BoundKernel | null {
  const f32 = x instanceof Float32Array && (dloss === null || dloss instanceof Float32Array);
  const f64 = x instanceof Float64Array && (dloss === null || dloss instanceof Float64Array);
  if (!(f32 || f64) || rows === 0 || classes === 0) return null;
  if (wasmAddressOf(losses) === null || (dloss && wasmAddressOf(dloss) === null)) return null;
  // Split across the threads by rows; pieces start on multiples of BLOCK rows and a piece starting at block i
  // uses scratch row i.
  const BLOCK = 256;
  const scratchFloats = crossEntropyScratchBytes(classes) / 8;
  const scratch = alloc('float64', Math.ceil(rows / BLOCK) * scratchFloats);
  if (!scratch) return null;
  const withDerivative = dloss ? 1 : 0;
  const outputs: TypedArray[] = dloss ? [losses, dloss] : [losses];
  const kernel = f32 ? 'crossEntropy.crossEntropyRowsF32' : 'crossEntropy.crossEntropyRowsF64';
  return bind(alloc, [x, targets, ...outputs], (px, pt, pl, pd) => parallelKernel(kernel, rows, (r0, r1) =>
    [px!, pt!, pl!, pd ?? 0, scratch.byteOffset + 8 * scratchFloats * (r0 / BLOCK), r0, r1, classes, withDerivative],
  { unitElements: classes, align: BLOCK }));
}
