/**
 * Captured kernels on the WebAssembly SIMD path. While a tape is being captured, every output lives in the
 * shared wasm memory (capture.ts), so the float32 kernels of fast/vector-kernels.ts can run on it in place,
 * 20–60× faster than a JavaScript loop over the same typed arrays (and the tiny matmuls, the column sums and
 * the loss's cross-entropy rows, float32 or float64, of the other fast/*-kernel.ts modules). Each function here returns the bound
 * kernel for one op, or null when the op is not one of these shapes (the caller then binds the JS loop).
 *
 * An input that lives outside the wasm memory (a parameter, a host-made index) is staged: the bound kernel
 * first copies it into a buffer of its own in the memory, so a replay sees the input's current values.
 * Every kernel here computes exactly what the JS loop computes (same float32 roundings, same order).
 */
import type { BinaryOp, UnaryOp } from '../../backend.js';
import type { TypedArray } from '../../dtype.js';
import type { Shape } from '../../shape.js';
import type { BoundKernel } from '../reference/index.js';
import { allocateInWasmMemory, releaseWasmMemory, wasmAddressOf, wasmMemory } from './fast/fast-matmul.js';
import { type VectorKernels, vectorKernels } from './fast/vector-kernels.js';
import { type SmallMatmulKernels, smallMatmulKernels } from './fast/small-matmul-kernel.js';
import { type ColumnSumKernels, columnSumKernels } from './fast/column-sum-kernel.js';
import { EMBEDDING_BAG_STEP, type EmbeddingBagKernels, embeddingBagKernels } from './fast/embedding-bag-kernel.js';
import { type CrossEntropyKernels, crossEntropyKernels, crossEntropyScratchBytes } from './fast/cross-entropy-kernel.js';
import type { MatmulProblem, planMatmul } from '../reference/matmul.js';
import type { AttentionDims } from '../reference/attention.js';
import { type AttentionKernels, attentionForward, attentionKernels } from './fast/attention-kernel.js';

type MatmulPlan = ReturnType<typeof planMatmul>;

let kernels: VectorKernels | undefined;
function vk(): VectorKernels {
  const { memory, pages } = wasmMemory();
  return (kernels ??= vectorKernels(memory, pages));
}

let sums: ColumnSumKernels | undefined;
function cs(): ColumnSumKernels {
  const { memory, pages } = wasmMemory();
  return (sums ??= columnSumKernels(memory, pages));
}

let small: SmallMatmulKernels | undefined;
function sm(): SmallMatmulKernels {
  const { memory, pages } = wasmMemory();
  return (small ??= smallMatmulKernels(memory, pages));
}

let bags: EmbeddingBagKernels | undefined;
function eb(): EmbeddingBagKernels {
  const { memory, pages } = wasmMemory();
  return (bags ??= embeddingBagKernels(memory, pages));
}

let losses: CrossEntropyKernels | undefined;
function ce(): CrossEntropyKernels {
  const { memory, pages } = wasmMemory();
  return (losses ??= crossEntropyKernels(memory, pages));
}

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
  const dtype = data instanceof Int32Array ? 'int32' : data instanceof Float32Array ? 'float32' : data instanceof Float64Array ? 'float64' : null;
  const buffer = dtype && alloc(dtype, data.length);
  if (!buffer) return null;
  return { ptr: buffer.byteOffset, stage: () => buffer.set(data) };
}

/** Binds `run` to the operands' addresses, staging the ones that need it; null if an operand has no address. */
function bind(alloc: Allocate, arrays: readonly TypedArray[], run: (...ptrs: number[]) => void): BoundKernel | null {
  const ops = arrays.map((a) => operand(a, alloc));
  if (ops.some((o) => o === null)) return null;
  const ptrs = ops.map((o) => o!.ptr);
  const stages = ops.flatMap((o) => (o!.stage ? [o!.stage] : []));
  if (stages.length === 0) return () => run(...ptrs);
  return () => {
    for (const stage of stages) stage();
    run(...ptrs);
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


export function wasmUnary(alloc: Allocate, op: UnaryOp, x: TypedArray, out: TypedArray): BoundKernel | null {
  if (op !== 'relu' || !isF32(x, out)) return null;
  const n = out.length;
  return bind(alloc, [x, out], (px, po) => vk().relu(px!, po!, n));
}

export function wasmReluBackward(alloc: Allocate, x: TypedArray, g: TypedArray, out: TypedArray): BoundKernel | null {
  if (!isF32(x, g, out)) return null;
  const n = out.length;
  return bind(alloc, [x, g, out], (px, pg, po) => vk().reluBackward(px!, pg!, po!, n));
}

export function wasmBinary(alloc: Allocate, 
  op: BinaryOp, a: TypedArray, aShape: Shape, b: TypedArray, bShape: Shape, out: TypedArray, outShape: Shape,
): BoundKernel | null {
  if (!isF32(a, b, out) || a.length !== out.length) return null; // a must already have the output's shape
  const n = out.length;
  if (b.length === n) {
    if (op === 'add') return bind(alloc, [a, b, out], (pa, pb, po) => vk().add(pa!, pb!, po!, n));
    if (op === 'sub') return bind(alloc, [a, b, out], (pa, pb, po) => vk().sub(pa!, pb!, po!, n));
    if (op === 'mul') return bind(alloc, [a, b, out], (pa, pb, po) => vk().mul(pa!, pb!, po!, n));
    return null;
  }
  const cols = outShape.at(-1) ?? 1;
  // b broadcast along rows: its shape is [..1, cols] (a bias).
  if (op === 'add' && b.length === cols && cols > 0 && bShape.at(-1) === cols && aShape.length === outShape.length) {
    const rows = n / cols;
    return bind(alloc, [a, b, out], (pa, pb, po) => vk().addRowBias(pa!, pb!, po!, rows, cols));
  }
  if (op === 'mul' && b.length === 1) {
    const s = b[0]!; // a scalar constant: it cannot change between replays (constants are host-made once)
    if (wasmAddressOf(b) !== null) return null; // a computed scalar could: keep the JS loop
    return bind(alloc, [a, out], (pa, po) => vk().scale(pa!, s, po!, n));
  }
  return null;
}

/** Rows `index` of a [rows, cols] table (indexSelect along axis 0). */
export function wasmGatherRows(alloc: Allocate, table: TypedArray, index: Int32Array, out: TypedArray, cols: number): BoundKernel | null {
  if (!isF32(table, out)) return null;
  const nIndex = index.length;
  return bind(alloc, [table, index, out], (pt, pi, po) => vk().gatherRows(pt!, pi!, po!, nIndex, cols));
}

/** out = zeros, then out[index[i], :] += src[i, :] (indexAdd along axis 0). */
export function wasmScatterAddRows(alloc: Allocate, src: TypedArray, index: Int32Array, out: TypedArray, cols: number): BoundKernel | null {
  if (!isF32(src, out)) return null;
  const nIndex = index.length;
  const k = bind(alloc, [src, index, out], (ps, pi, po) => vk().scatterAddRows(ps!, pi!, po!, nIndex, cols));
  return k && (() => {
    out.fill(0);
    k();
  });
}

/** The many tiny matmuls of attention (see fast/small-matmul-kernel.ts): the loops of small-matmul.ts in wasm. */
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
  const run = p.transB ? sm().smallMatmulTransB : sm().smallMatmul;
  return bind(alloc, [p.a as TypedArray, p.b as TypedArray, out], (pa, pb, pc) =>
    run(pa!, pb!, pc!, offsets.byteOffset, nBatch, M, K, N, ai, ak));
}

/** Σ over the rows of x [rows, cols] (a sum over axis 0), in float64 as the reference adds: see column-sum-kernel.ts. */
export function wasmColumnSum(alloc: Allocate, x: TypedArray, out: TypedArray, rows: number, cols: number): BoundKernel | null {
  if (!isF32(x, out)) return null;
  const acc = alloc('float64', cols); // scratch: zeroed by the kernel
  if (!acc) return null;
  return bind(alloc, [x, out], (px, po) => cs().columnSum(px!, po!, acc.byteOffset, rows, cols));
}

/** The embedding bag and its adjoints (fast/embedding-bag-kernel.ts): float32, rows a multiple of 16 wide. */
export function wasmEmbeddingBag(
  alloc: Allocate, kind: 'forward' | 'weightGrad' | 'tableGrad', arrays: { table?: TypedArray; index: Int32Array; weight?: TypedArray; g?: TypedArray; out: TypedArray },
  R: number, D: number,
): BoundKernel | null {
  const { table, index, weight, g, out } = arrays;
  const floats = [table, weight, g, out].filter((x): x is TypedArray => x !== undefined);
  if (!isF32(...floats) || D % EMBEDDING_BAG_STEP !== 0 || R === 0) return null;
  const B = index.length / R;
  if (kind === 'forward') return bind(alloc, [table!, index, weight!, out], (pt, pi, pw, po) => eb().embeddingBag(pt!, pi!, pw!, po!, B, R, D));
  if (kind === 'weightGrad') return bind(alloc, [table!, index, g!, out], (pt, pi, pg, po) => eb().embeddingBagWeightGrad(pt!, pi!, pg!, po!, B, R, D));
  const k = bind(alloc, [index, weight!, g!, out], (pi, pw, pg, po) => eb().embeddingBagTableGrad(pi!, pw!, pg!, po!, B, R, D, D));
  return k && (() => {
    out.fill(0);
    k();
  });
}

let attn: AttentionKernels | undefined;
function ak(): AttentionKernels {
  const { memory, pages } = wasmMemory();
  return (attn ??= attentionKernels(memory, pages));
}

/** Attention over a short context (see fast/attention-kernel.ts): the loops of reference/attention.ts in wasm. */
export function wasmAttention(
  alloc: Allocate, q: TypedArray, k: TypedArray, v: TypedArray, z: TypedArray, pattern: TypedArray, dims: AttentionDims, causal: boolean,
): BoundKernel | null {
  const { entries, qPos, pos, d } = dims;
  if (!isF32(q, k, v, z, pattern) || d % 4 !== 0) return null;
  const exps = alloc('float64', entries * qPos * pos) as Float64Array | null;
  const dots = alloc('float64', pos + 4);
  if (!exps || !dots) return null;
  const scale = Math.fround(Math.sqrt(d));
  return bind(alloc, [q, k, v, z, pattern], (pq, pk, pv, pz, pp) =>
    attentionForward(ak(), exps, dots.byteOffset, pq!, pk!, pv!, pz!, pp!, entries, qPos, pos, d, causal, scale));
}

/** Its backward: dq, dk, dv from q, k, v, the pattern and dz. */
export function wasmAttentionBackward(
  alloc: Allocate, q: TypedArray, k: TypedArray, v: TypedArray, pattern: TypedArray, dz: TypedArray,
  dq: TypedArray, dk: TypedArray, dv: TypedArray, dims: AttentionDims, dpattern: TypedArray | null = null,
): BoundKernel | null {
  const { entries, qPos, pos, d } = dims;
  if (!isF32(q, k, v, pattern, dz, dq, dk, dv) || d % 4 !== 0 || (dpattern && !isF32(dpattern))) return null;
  const scratch = alloc('float64', qPos * pos + pos + 4);
  if (!scratch) return null;
  const scale = Math.fround(Math.sqrt(d));
  const arrays = [q, k, v, pattern, dz, dq, dk, dv, ...(dpattern ? [dpattern] : [])];
  return bind(alloc, arrays, (pq, pk, pv, pp, pg, pdq, pdk, pdv, pdp) =>
    ak().attentionBackward(pq!, pk!, pv!, pp!, pg!, pdq!, pdk!, pdv!, scratch.byteOffset, entries, qPos, pos, d, scale, pdp ?? 0));
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
  const scratch = alloc('float64', crossEntropyScratchBytes(classes) / 8);
  if (!scratch) return null;
  const withDerivative = dloss ? 1 : 0;
  const outputs: TypedArray[] = dloss ? [losses, dloss] : [losses];
  return bind(alloc, [x, targets, ...outputs], (px, pt, pl, pd) => {
    const run = f32 ? ce().crossEntropyRowsF32 : ce().crossEntropyRowsF64;
    run(px!, pt!, pl!, pd ?? 0, scratch.byteOffset, 0, rows, classes, withDerivative);
  });
}
