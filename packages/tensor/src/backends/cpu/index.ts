/**
 * The cpu backend, the default: the reference backend's kernels (../reference, plain loops) with fast paths
 * in front of the hot ones, each tested against the plain one.
 *   - elementwise ops: each op's formula compiled into a loop of its own (elementwise.ts);
 *   - float32 matmul: WebAssembly SIMD over a worker-thread pool (fast/fast-matmul.ts), and a plain loop
 *     without copies for attention's many tiny products (small-matmul.ts);
 *   - kernel capture (capture.ts, for @grok/autograd's compileStep): outputs in the shared wasm memory by a
 *     static memory plan, every kernel recorded on a tape, and the hot float32 kernels of captured buffers run
 *     as wasm (wasm-dispatch.ts): ReLU and its backward, adds, bias adds, scales, row gathers and
 *     scatter-adds, sums over rows, attention's tiny matmuls, fused short-context attention and its
 *     pattern-only form (fast/attention-kernel.ts), the embedding bag and the loss's cross-entropy rows;
 *   - AdamW's fused update in float32: a wasm kernel over the threads (wasm-adamw.ts).
 * `setFastPath(false)` (or GROK_FAST=0) sends every kernel to its reference loop.
 */
import type { BinaryOp, FusedKernel, MatmulOptions, ReduceOp, UnaryOp } from '../../backend.js';
import type { DType, TypedArray } from '../../dtype.js';
import { registerBackend } from '../../registry.js';
import { type Shape, formatShape, sizeOf } from '../../shape.js';
import type { NDArray } from '../../ndarray.js';
import { type BoundKernel, ReferenceBackend, attentionDims, patternShape, store } from '../reference/index.js';
import {
  attentionBackwardInto, attentionForwardInto, attentionPatternBackwardInto, attentionPatternInto,
} from '../reference/attention.js';
import { crossEntropyRowsInto } from '../reference/cross-entropy.js';
import { fusedInto } from '../reference/fused.js';
import { indexAddInto, indexSelectInto } from '../reference/indexing.js';
import { embeddingBagInto, embeddingBagTableGradInto, embeddingBagWeightGradInto } from '../reference/embedding-bag.js';
import { matmulInto, planMatmul } from '../reference/matmul.js';
import { reduceInto } from '../reference/reduce.js';
import { KernelTape, type MemoryPlan } from './capture.js';
import { binaryInto, unaryInto } from './elementwise.js';
import { fastMatmulInto } from './fast/fast-matmul.js';
import { isFastPathEnabled } from './fast/settings.js';
import { isSmallMatmul, smallMatmulInto } from './small-matmul.js';
import {
  type Allocate, wasmAttention, wasmAttentionBackward, wasmAttentionPattern, wasmAttentionPatternBackward, wasmBinary, wasmColumnSum,
  wasmCrossEntropyRows, wasmEmbeddingBag, wasmGatherRows, wasmReluBackward, wasmScatterAddRows, wasmSmallMatmul, wasmUnary, runStaged,
} from './wasm-dispatch.js';
import { adamwFloat32, isAdamWFormula } from './wasm-adamw.js';

export class CpuBackend extends ReferenceBackend {
  override readonly name: string = 'cpu';
  /** The tape being captured, if any (see capture.ts). */
  #tape: KernelTape | null = null;

  protected override alloc(shape: Shape, dtype: DType): TypedArray {
    // Captured buffers live in the shared wasm memory, where the tape's memory plan puts them.
    return this.#tape?.allocate(dtype, sizeOf(shape)) ?? super.alloc(shape, dtype);
  }

  /** Runs a kernel; while a capture is open, also appends it to the tape. */
  protected override launch(kernel: BoundKernel, out: TypedArray | readonly TypedArray[], label: string, ...inputs: NDArray[]): void {
    kernel();
    this.#tape?.record(kernel, out, `${label} ${inputs.map((t) => formatShape(t.shape)).join(' ')}`, inputs.map(store));
  }

  /**
   * A wasm SIMD kernel for a captured op whose buffers live in the wasm memory (see wasm-dispatch.ts),
   * or null: outside a capture, with the fast path off, or for an op that has none.
   */
  #wasm(bind: (alloc: Allocate) => BoundKernel | null): BoundKernel | null {
    const tape = this.#tape;
    return tape && isFastPathEnabled() ? bind((dtype, n, constant) => tape.allocate(dtype, n, constant)) : null;
  }

  /**
   * Starts recording every kernel into a tape (see capture.ts), its buffers placed by `plan` (from an
   * earlier capture of the same step) or each in memory of its own. One capture at a time.
   */
  beginCapture(plan?: MemoryPlan): void {
    if (this.#tape) throw new Error('cpu.beginCapture: a capture is already open');
    this.#tape = new KernelTape(plan);
  }

  /** Ends the capture and returns its tape; `keep` (results, gradients) must outlive the tape's kernels. */
  endCapture(keep: readonly NDArray[] = []): KernelTape {
    const tape = this.#tape;
    if (!tape) throw new Error('cpu.endCapture: no capture is open');
    this.#tape = null;
    tape.keep(keep.filter((t) => t.backend === this).map(store));
    return tape;
  }

  override read(t: NDArray): TypedArray {
    const data = store(t);
    if (this.#tape?.writes(data)) this.#tape.hostDependent ??= `the host read a ${formatShape(t.shape)} result during capture`;
    return data;
  }

  override unary(op: UnaryOp, a: NDArray): NDArray {
    if (!isFastPathEnabled()) return super.unary(op, a);
    const out = this.alloc(a.shape, a.dtype);
    const x = store(a);
    this.launch(this.#wasm((alloc) => wasmUnary(alloc, op, x, out)) ?? (() => unaryInto(op, x, out)), out, op, a);
    return this.wrap(out, a.shape, a.dtype);
  }

  override binary(op: BinaryOp, a: NDArray, b: NDArray, outShape: Shape): NDArray {
    if (!isFastPathEnabled()) return super.binary(op, a, b, outShape);
    const out = this.alloc(outShape, a.dtype);
    const [x, y] = [store(a), store(b)];
    const wasm = this.#wasm((alloc) => wasmBinary(alloc, op, x, a.shape, y, b.shape, out, outShape));
    this.launch(wasm ?? (() => binaryInto(op, x, a.shape, y, b.shape, out, outShape)), out, op, a, b);
    return this.wrap(out, outShape, a.dtype);
  }

  override fused(kernel: FusedKernel, inputs: readonly NDArray[], scalars: readonly number[], into?: readonly NDArray[]): NDArray[] {
    if (isAdamWFormula(kernel) && isFastPathEnabled() && inputs[0]!.dtype === 'float32') {
      // AdamW's update as a wasm kernel over the threads (wasm-adamw.ts): the same bits as the formula's loop.
      const { shape, dtype } = inputs[0]!;
      const outs = into ?? kernel.outputs.map(() => this.wrap(this.alloc(shape, dtype), shape, dtype));
      const [ins, outArrays] = [inputs.map(store), outs.map(store)];
      const run = () => {
        if (!adamwFloat32(ins, scalars, outArrays)) fusedInto(kernel, ins, scalars, outArrays);
      };
      this.launch(run, outArrays, kernel.name, ...inputs);
      return [...outs];
    }
    if (!isReluBackward(kernel) || !this.#tape) return super.fused(kernel, inputs, scalars, into);
    const { shape, dtype } = inputs[0]!;
    const outs = into ?? [this.wrap(this.alloc(shape, dtype), shape, dtype)];
    const [ins, outArrays] = [inputs.map(store), outs.map(store)];
    const wasm = this.#wasm((alloc) => wasmReluBackward(alloc, ins[0]!, ins[1]!, outArrays[0]!));
    this.launch(wasm ?? (() => fusedInto(kernel, ins, scalars, outArrays)), outArrays, kernel.name, ...inputs);
    return [...outs];
  }

  override matmul(a: NDArray, b: NDArray, options: MatmulOptions): NDArray {
    // float32 takes the WebAssembly SIMD path, or for tiny matrices a plain loop without its copies;
    // float64 and int32 keep the exact reference loop.
    if (!(a.dtype === 'float32' && b.dtype === 'float32' && isFastPathEnabled())) return super.matmul(a, b, options);
    const { transA = false, transB = false } = options;
    const problem = { a: store(a), aShape: a.shape, transA, b: store(b), bShape: b.shape, transB };
    const plan = planMatmul(problem);
    const out = this.alloc(plan.outShape, a.dtype) as Float32Array;
    if (isSmallMatmul(plan.M, plan.K, plan.N)) {
      const wasm = this.#wasm((alloc) => wasmSmallMatmul(alloc, problem, plan, out));
      this.launch(wasm ?? (() => smallMatmulInto(problem, out, plan)), out, 'small matmul', a, b);
    } else {
      const gemm = () => {
        if (!fastMatmulInto(problem, out)) matmulInto(problem, out); // the problem does not fit in wasm memory
      };
      this.launch(gemm, out, `matmul${transA ? ' Aᵀ' : ''}${transB ? ' Bᵀ' : ''}`, a, b);
    }
    return this.wrap(out, plan.outShape, a.dtype);
  }

  /**
   * float32 attention over a short context: the plain loops with the rounding of this backend's small
   * matmuls (so the numbers of its op-by-op path, whose products are all small matmuls while pos·d·pos ≤
   * SMALL_MATMUL_WORK; beyond, they differ by float32 rounding), or, for captured buffers, the same loops
   * in wasm.
   */
  override attentionShortContext(q: NDArray, k: NDArray, v: NDArray, causal: boolean): { z: NDArray; pattern: NDArray } {
    // float64 (and the fast path off) matmuls are the reference loops: so is attention.
    if (!(q.dtype === 'float32' && isFastPathEnabled())) return super.attentionShortContext(q, k, v, causal);
    const dims = attentionDims(q, k);
    const pShape = patternShape(q, k);
    const [z, pattern] = [this.alloc(q.shape, q.dtype), this.alloc(pShape, q.dtype)];
    const [x, y, w] = [store(q), store(k), store(v)];
    const wasm = this.#wasm((alloc) => wasmAttention(alloc, x, y, w, z, pattern, dims, causal));
    const plain = () => attentionForwardInto(x, y, w, dims, causal, z, pattern, 'each-term');
    this.launch(wasm ?? plain, [z, pattern], 'attention', q, k, v);
    return { z: this.wrap(z, q.shape, q.dtype), pattern: this.wrap(pattern, pShape, q.dtype) };
  }

  override attentionShortContextBackward(
    q: NDArray, k: NDArray, v: NDArray, pattern: NDArray, dz: NDArray, dpattern: NDArray | null = null,
  ): { dq: NDArray; dk: NDArray; dv: NDArray } {
    if (!(q.dtype === 'float32' && isFastPathEnabled())) return super.attentionShortContextBackward(q, k, v, pattern, dz, dpattern);
    const dims = attentionDims(q, k);
    const [dq, dk, dv] = [this.alloc(q.shape, q.dtype), this.alloc(k.shape, q.dtype), this.alloc(v.shape, q.dtype)];
    const [x, y, w, p, g] = [store(q), store(k), store(v), store(pattern), store(dz)];
    const extra = dpattern && store(dpattern);
    const wasm = this.#wasm((alloc) => wasmAttentionBackward(alloc, x, y, w, p, g, dq, dk, dv, dims, extra));
    const plain = () => attentionBackwardInto(x, y, w, p, g, dims, dq, dk, dv, 'each-term', extra);
    const inputs = dpattern ? [q, k, v, pattern, dz, dpattern] : [q, k, v, pattern, dz];
    this.launch(wasm ?? plain, [dq, dk, dv], 'attention backward', ...inputs);
    return { dq: this.wrap(dq, q.shape, q.dtype), dk: this.wrap(dk, k.shape, q.dtype), dv: this.wrap(dv, v.shape, q.dtype) };
  }

  /** The pattern alone, float32: the reference loop (it has no weighted sums to round), or wasm when captured. */
  override attentionPattern(q: NDArray, k: NDArray, causal: boolean): NDArray {
    if (!(q.dtype === 'float32' && isFastPathEnabled())) return super.attentionPattern(q, k, causal);
    const dims = attentionDims(q, k);
    const pShape = patternShape(q, k);
    const pattern = this.alloc(pShape, q.dtype);
    const [x, y] = [store(q), store(k)];
    const wasm = this.#wasm((alloc) => wasmAttentionPattern(alloc, x, y, pattern, dims, causal));
    const plain = () => attentionPatternInto(x, y, dims, causal, pattern);
    this.launch(wasm ?? plain, pattern, 'attention pattern', q, k);
    return this.wrap(pattern, pShape, q.dtype);
  }

  /** Its backward, float32: the loops with this backend's small-matmul rounding, or wasm when captured. */
  override attentionPatternBackward(q: NDArray, k: NDArray, pattern: NDArray, dpattern: NDArray): { dq: NDArray; dk: NDArray } {
    if (!(q.dtype === 'float32' && isFastPathEnabled())) return super.attentionPatternBackward(q, k, pattern, dpattern);
    const dims = attentionDims(q, k);
    const [dq, dk] = [this.alloc(q.shape, q.dtype), this.alloc(k.shape, q.dtype)];
    const [x, y, p, g] = [store(q), store(k), store(pattern), store(dpattern)];
    const wasm = this.#wasm((alloc) => wasmAttentionPatternBackward(alloc, x, y, p, g, dq, dk, dims));
    const plain = () => attentionPatternBackwardInto(x, y, p, g, dims, dq, dk, 'each-term');
    this.launch(wasm ?? plain, [dq, dk], 'attention pattern backward', q, k, pattern, dpattern);
    return { dq: this.wrap(dq, q.shape, q.dtype), dk: this.wrap(dk, k.shape, q.dtype) };
  }

  override crossEntropyRows(logits: NDArray, targets: NDArray, withDerivative: boolean): { losses: NDArray; dloss: NDArray | null } {
    if (!this.#tape) return super.crossEntropyRows(logits, targets, withDerivative);
    // Captured: the wasm kernel (fast/cross-entropy-kernel.ts), the same numbers as the reference loop.
    const [rows, classes] = logits.shape as [number, number];
    const losses = this.alloc([rows], 'float64') as Float64Array;
    const dloss = withDerivative ? this.alloc(logits.shape, logits.dtype) : null;
    const [x, t] = [store(logits), store(targets) as Int32Array];
    const wasm = this.#wasm((alloc) => wasmCrossEntropyRows(alloc, x, t, losses, dloss, rows, classes));
    const plain = () => crossEntropyRowsInto(x, t, rows, classes, losses, dloss);
    this.launch(wasm ?? plain, dloss ? [losses, dloss] : losses, 'crossEntropyRows', logits, targets);
    return { losses: this.wrap(losses, [rows], 'float64'), dloss: dloss && this.wrap(dloss, logits.shape, logits.dtype) };
  }

  override reduce(op: ReduceOp, a: NDArray, axis: number, keepdim: boolean): NDArray {
    const columns = op === 'sum' && a.dtype === 'float32' && sizeOf(a.shape.slice(0, axis)) === 1 && this.#tape;
    if (!columns) return super.reduce(op, a, axis, keepdim);
    // Σ over the leading axis of a captured float32 array: the rows of [n, inner] (a bias's gradient).
    const n = a.shape[axis]!;
    const inner = a.size / Math.max(n, 1);
    const outShape = keepdim ? a.shape.map((d, i) => (i === axis ? 1 : d)) : a.shape.filter((_, i) => i !== axis);
    const out = this.alloc(outShape, 'float32');
    const x = store(a);
    const wasm = inner > 1 ? this.#wasm((alloc) => wasmColumnSum(alloc, x, out, n, inner)) : null;
    this.launch(wasm ?? (() => reduceInto(op, x, 1, n, inner, out)), out, `sum(axis ${axis})`, a);
    return this.wrap(out, outShape, 'float32');
  }

  // The embedding bag and its adjoints: wasm SIMD kernels with the reference's numbers, on a captured tape's
  // buffers or (eagerly) on copies in the wasm memory; the reference loops for float64 or odd widths.
  override embeddingBag(table: NDArray, index: NDArray, weight: NDArray): NDArray {
    const [B, R] = index.shape as [number, number];
    const D = table.shape[1]!;
    const out = this.alloc([B, D], table.dtype);
    const [t, i, w] = [store(table), store(index) as Int32Array, store(weight)];
    this.#launchBag(out, (alloc, o) => wasmEmbeddingBag(alloc, 'forward', { table: t, index: i, weight: w, out: o }, R, D),
      () => embeddingBagInto(t, i, w, out, R, D), 'embeddingBag', table, index, weight);
    return this.wrap(out, [B, D], table.dtype);
  }

  override embeddingBagWeightGrad(table: NDArray, index: NDArray, g: NDArray): NDArray {
    const [B, R] = index.shape as [number, number];
    const D = table.shape[1]!;
    const out = this.alloc([B, R], table.dtype);
    const [t, i, dy] = [store(table), store(index) as Int32Array, store(g)];
    this.#launchBag(out, (alloc, o) => wasmEmbeddingBag(alloc, 'weightGrad', { table: t, index: i, g: dy, out: o }, R, D),
      () => embeddingBagWeightGradInto(t, i, dy, out, R, D), 'embeddingBagWeightGrad', table, index, g);
    return this.wrap(out, [B, R], table.dtype);
  }

  override embeddingBagTableGrad(rows: number, index: NDArray, weight: NDArray, g: NDArray): NDArray {
    const R = index.shape[1]!;
    const D = g.shape[1]!;
    const out = this.alloc([rows, D], g.dtype);
    const [i, w, dy] = [store(index) as Int32Array, store(weight), store(g)];
    this.#launchBag(out, (alloc, o) => wasmEmbeddingBag(alloc, 'tableGrad', { index: i, weight: w, g: dy, out: o }, R, D),
      () => embeddingBagTableGradInto(i, w, dy, out, R, D), 'embeddingBagTableGrad', index, weight, g);
    return this.wrap(out, [rows, D], g.dtype);
  }

  /** Launches an embedding-bag kernel: wasm where it applies (captured, or staged eagerly), else `plain`. */
  #launchBag(
    out: TypedArray, bindWasm: (alloc: Allocate, out: TypedArray) => BoundKernel | null, plain: () => void, label: string, ...inputs: NDArray[]
  ): void {
    const wasm = this.#wasm((alloc) => bindWasm(alloc, out));
    if (wasm || this.#tape || !isFastPathEnabled()) return this.launch(wasm ?? plain, out, label, ...inputs);
    this.launch(() => runStaged(out, bindWasm) || plain(), out, label, ...inputs);
  }

  override indexSelect(a: NDArray, axis: number, indices: NDArray): NDArray {
    const [x, i] = [store(a), store(indices)];
    if (!(axis === 0 && i instanceof Int32Array && this.#tape)) return super.indexSelect(a, axis, indices);
    const outShape = a.shape.map((d, k) => (k === axis ? indices.size : d));
    const out = this.alloc(outShape, a.dtype);
    const rows = this.#wasm((alloc) => wasmGatherRows(alloc, x, i, out, a.size / a.shape[0]!));
    this.launch(rows ?? (() => indexSelectInto(x, a.shape, axis, i, out)), out, 'indexSelect', a, indices);
    return this.wrap(out, outShape, a.dtype);
  }

  override indexAdd(shape: Shape, axis: number, indices: NDArray, src: NDArray): NDArray {
    const [i, x] = [store(indices), store(src)];
    if (!(axis === 0 && i instanceof Int32Array && this.#tape)) return super.indexAdd(shape, axis, indices, src);
    const out = this.alloc(shape, src.dtype);
    const rows = this.#wasm((alloc) => wasmScatterAddRows(alloc, x, i, out, out.length / shape[0]!));
    const plain = () => {
      out.fill(0);
      indexAddInto(shape, axis, i, x, out);
    };
    this.launch(rows ?? plain, out, 'indexAdd', indices, src);
    return this.wrap(out, shape, src.dtype);
  }
}

/**
 * autograd's ReLU backward (x ≤ 0 ? 0 : g), which the captured path runs as the wasm kernel x > 0 ? g : 0:
 * the same values for every x but NaN.
 */
const isReluBackward = (k: FusedKernel) =>
  k.name === 'reluBackward' && k.inputs.join() === 'x,g' && k.outputs.length === 1 && k.outputs[0] === 'x <= 0.0 ? 0.0 : g';

registerBackend('cpu', () => new CpuBackend());
