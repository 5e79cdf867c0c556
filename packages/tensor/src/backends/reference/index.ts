/**
 * The reference backend: storage is a typed array, and every kernel is a plain TypeScript loop, written to be
 * read (one function call per element for the elementwise ops, a triple loop with a float64 accumulator for
 * matmul). It is the oracle the fast cpu backend (../cpu) is tested against, kernel by kernel.
 *
 * Each method allocates its output with `alloc`, runs its loop through `launch`, and wraps the result. Those
 * two hooks do nothing special here; the cpu backend, which extends this class, overrides them to place
 * buffers in wasm memory and record kernels on a tape while a capture is open (../cpu/capture.ts).
 */
import type { Backend, BinaryOp, FusedKernel, MatmulOptions, ReduceOp, UnaryOp } from '../../backend.js';
import { type DType, type TypedArray, allocate } from '../../dtype.js';
import { registerBackend } from '../../registry.js';
import { type Shape, sizeOf } from '../../shape.js';
import { NDArray } from '../../ndarray.js';
import {
  type AttentionDims, attentionBackwardInto, attentionForwardInto, attentionPatternBackwardInto, attentionPatternInto,
} from './attention.js';
import { crossEntropyRowsInto } from './cross-entropy.js';
import { embeddingBagInto, embeddingBagTableGradInto, embeddingBagWeightGradInto } from './embedding-bag.js';
import { binaryInto, unaryInto, whereInto } from './elementwise.js';
import { fusedInto } from './fused.js';
import { gatherInto, indexAddInto, indexSelectInto, scatterAddInto } from './indexing.js';
import { concatInto, permuteInto, sliceInto } from './layout.js';
import { matmulInto, planMatmul } from './matmul.js';
import { reduceInto } from './reduce.js';
import { softmaxRowsInto } from './softmax.js';

/** A kernel with its arguments bound: what `launch` runs (and the cpu backend records). */
export type BoundKernel = () => void;

export const store = (t: NDArray) => t.storage as TypedArray;

export class ReferenceBackend implements Backend {
  readonly name: string = 'reference';

  protected wrap(data: TypedArray, shape: Shape, dtype: DType): NDArray {
    return new NDArray(data, shape, dtype, this);
  }

  /** A zeroed output buffer. */
  protected alloc(shape: Shape, dtype: DType): TypedArray {
    return allocate(dtype, sizeOf(shape));
  }

  /** Runs one kernel; `out` is what it writes, `label` and `inputs` describe it (for the cpu backend's tapes). */
  protected launch(kernel: BoundKernel, _out: TypedArray | readonly TypedArray[], _label: string, ..._inputs: NDArray[]): void {
    kernel();
  }

  fromArray(data: TypedArray, shape: Shape, dtype: DType): NDArray {
    if (data.length !== sizeOf(shape)) {
      throw new Error(`cpu.fromArray: ${data.length} values for shape [${shape.join(', ')}]`);
    }
    const typed = dataMatches(data, dtype) ? data : copyAs(data, dtype);
    return this.wrap(typed, shape, dtype);
  }

  read(t: NDArray): TypedArray {
    return store(t);
  }

  reshape(t: NDArray, shape: Shape): NDArray {
    return this.wrap(store(t), shape, t.dtype);
  }

  unary(op: UnaryOp, a: NDArray): NDArray {
    const out = this.alloc(a.shape, a.dtype);
    const x = store(a);
    this.launch(() => unaryInto(op, x, out), out, op, a);
    return this.wrap(out, a.shape, a.dtype);
  }

  binary(op: BinaryOp, a: NDArray, b: NDArray, outShape: Shape): NDArray {
    const out = this.alloc(outShape, a.dtype);
    const [x, y] = [store(a), store(b)];
    this.launch(() => binaryInto(op, x, a.shape, y, b.shape, out, outShape), out, op, a, b);
    return this.wrap(out, outShape, a.dtype);
  }

  fused(kernel: FusedKernel, inputs: readonly NDArray[], scalars: readonly number[], into?: readonly NDArray[]): NDArray[] {
    const { shape, dtype } = inputs[0]!;
    const outs = into ?? kernel.outputs.map(() => this.wrap(this.alloc(shape, dtype), shape, dtype));
    const [ins, outArrays] = [inputs.map(store), outs.map(store)];
    this.launch(() => fusedInto(kernel, ins, scalars, outArrays), outArrays, kernel.name, ...inputs);
    return [...outs];
  }

  where(cond: NDArray, a: NDArray, b: NDArray, outShape: Shape): NDArray {
    const out = this.alloc(outShape, a.dtype);
    const [c, x, y] = [store(cond), store(a), store(b)];
    this.launch(() => whereInto(c, cond.shape, x, a.shape, y, b.shape, out, outShape), out, 'where', cond, a, b);
    return this.wrap(out, outShape, a.dtype);
  }

  reduce(op: ReduceOp, a: NDArray, axis: number, keepdim: boolean): NDArray {
    const outer = sizeOf(a.shape.slice(0, axis));
    const n = a.shape[axis]!;
    const inner = sizeOf(a.shape.slice(axis + 1));
    const outShape = keepdim ? a.shape.map((d, i) => (i === axis ? 1 : d)) : a.shape.filter((_, i) => i !== axis);
    const dtype: DType = op === 'argmax' || op === 'argmin' ? 'int32' : a.dtype;
    const out = this.alloc(outShape, dtype);
    const x = store(a);
    this.launch(() => reduceInto(op, x, outer, n, inner, out), out, `${op}(axis ${axis})`, a);
    return this.wrap(out, outShape, dtype);
  }

  matmul(a: NDArray, b: NDArray, { transA = false, transB = false }: MatmulOptions): NDArray {
    const problem = { a: store(a), aShape: a.shape, transA, b: store(b), bShape: b.shape, transB };
    const plan = planMatmul(problem);
    const out = this.alloc(plan.outShape, a.dtype);
    this.launch(() => matmulInto(problem, out), out, `matmul${transA ? ' Aᵀ' : ''}${transB ? ' Bᵀ' : ''}`, a, b);
    return this.wrap(out, plan.outShape, a.dtype);
  }

  crossEntropyRows(logits: NDArray, targets: NDArray, withDerivative: boolean): { losses: NDArray; dloss: NDArray | null } {
    const [rows, classes] = logits.shape as [number, number];
    const losses = this.alloc([rows], 'float64') as Float64Array;
    const dloss = withDerivative ? this.alloc(logits.shape, logits.dtype) : null;
    const [x, t] = [store(logits), store(targets) as Int32Array];
    this.launch(() => crossEntropyRowsInto(x, t, rows, classes, losses, dloss), dloss ? [losses, dloss] : losses, 'crossEntropyRows', logits, targets);
    return { losses: this.wrap(losses, [rows], 'float64'), dloss: dloss && this.wrap(dloss, logits.shape, logits.dtype) };
  }

  embeddingBag(table: NDArray, index: NDArray, weight: NDArray): NDArray {
    const [B, R] = index.shape as [number, number];
    const D = table.shape[1]!;
    const out = this.alloc([B, D], table.dtype);
    const [t, i, w] = [store(table), store(index) as Int32Array, store(weight)];
    this.launch(() => embeddingBagInto(t, i, w, out, R, D), out, 'embeddingBag', table, index, weight);
    return this.wrap(out, [B, D], table.dtype);
  }

  embeddingBagWeightGrad(table: NDArray, index: NDArray, g: NDArray): NDArray {
    const [B, R] = index.shape as [number, number];
    const out = this.alloc([B, R], table.dtype);
    const [t, i, dy] = [store(table), store(index) as Int32Array, store(g)];
    this.launch(() => embeddingBagWeightGradInto(t, i, dy, out, R, table.shape[1]!), out, 'embeddingBagWeightGrad', table, index, g);
    return this.wrap(out, [B, R], table.dtype);
  }

  embeddingBagTableGrad(rows: number, index: NDArray, weight: NDArray, g: NDArray): NDArray {
    const R = index.shape[1]!;
    const D = g.shape[1]!;
    const out = this.alloc([rows, D], g.dtype);
    const [i, w, dy] = [store(index) as Int32Array, store(weight), store(g)];
    this.launch(() => embeddingBagTableGradInto(i, w, dy, out, R, D), out, 'embeddingBagTableGrad', index, weight, g);
    return this.wrap(out, [rows, D], g.dtype);
  }

  attentionShortContext(q: NDArray, k: NDArray, v: NDArray, causal: boolean): { z: NDArray; pattern: NDArray } {
    const dims = attentionDims(q, k);
    const z = this.alloc(q.shape, q.dtype);
    const pattern = this.alloc(patternShape(q, k), q.dtype);
    const [x, y, w] = [store(q), store(k), store(v)];
    this.launch(() => attentionForwardInto(x, y, w, dims, causal, z, pattern), [z, pattern], 'attention', q, k, v);
    return { z: this.wrap(z, q.shape, q.dtype), pattern: this.wrap(pattern, patternShape(q, k), q.dtype) };
  }

  attentionShortContextBackward(
    q: NDArray, k: NDArray, v: NDArray, pattern: NDArray, dz: NDArray, dpattern: NDArray | null = null,
  ): { dq: NDArray; dk: NDArray; dv: NDArray } {
    const dims = attentionDims(q, k);
    const [dq, dk, dv] = [this.alloc(q.shape, q.dtype), this.alloc(k.shape, q.dtype), this.alloc(v.shape, q.dtype)];
    const [x, y, w, p, g] = [store(q), store(k), store(v), store(pattern), store(dz)];
    const extra = dpattern && store(dpattern);
    const inputs = dpattern ? [q, k, v, pattern, dz, dpattern] : [q, k, v, pattern, dz];
    this.launch(() => attentionBackwardInto(x, y, w, p, g, dims, dq, dk, dv, 'once', extra), [dq, dk, dv], 'attention backward', ...inputs);
    return { dq: this.wrap(dq, q.shape, q.dtype), dk: this.wrap(dk, k.shape, q.dtype), dv: this.wrap(dv, v.shape, q.dtype) };
  }

  attentionPattern(q: NDArray, k: NDArray, causal: boolean): NDArray {
    const dims = attentionDims(q, k);
    const pattern = this.alloc(patternShape(q, k), q.dtype);
    const [x, y] = [store(q), store(k)];
    this.launch(() => attentionPatternInto(x, y, dims, causal, pattern), pattern, 'attention pattern', q, k);
    return this.wrap(pattern, patternShape(q, k), q.dtype);
  }

  attentionPatternBackward(q: NDArray, k: NDArray, pattern: NDArray, dpattern: NDArray): { dq: NDArray; dk: NDArray } {
    const dims = attentionDims(q, k);
    const [dq, dk] = [this.alloc(q.shape, q.dtype), this.alloc(k.shape, q.dtype)];
    const [x, y, p, g] = [store(q), store(k), store(pattern), store(dpattern)];
    this.launch(() => attentionPatternBackwardInto(x, y, p, g, dims, dq, dk, 'once'), [dq, dk], 'attention pattern backward', q, k, pattern, dpattern);
    return { dq: this.wrap(dq, q.shape, q.dtype), dk: this.wrap(dk, k.shape, q.dtype) };
  }

  softmax(a: NDArray): NDArray {
    return this.softmaxRows(a, false);
  }

  logSoftmax(a: NDArray): NDArray {
    return this.softmaxRows(a, true);
  }

  private softmaxRows(a: NDArray, log: boolean): NDArray {
    const n = a.shape.at(-1)!;
    const out = this.alloc(a.shape, a.dtype);
    const x = store(a);
    this.launch(() => softmaxRowsInto(x, n === 0 ? 0 : a.size / n, n, out, log), out, log ? 'logSoftmax' : 'softmax', a);
    return this.wrap(out, a.shape, a.dtype);
  }

  permute(a: NDArray, perm: readonly number[]): NDArray {
    const outShape = perm.map((p) => a.shape[p]!);
    const out = this.alloc(outShape, a.dtype);
    const x = store(a);
    this.launch(() => permuteInto(x, a.shape, perm, out), out, 'permute', a);
    return this.wrap(out, outShape, a.dtype);
  }

  slice(a: NDArray, starts: readonly number[], ends: readonly number[]): NDArray {
    const outShape = starts.map((s, i) => ends[i]! - s);
    const out = this.alloc(outShape, a.dtype);
    const x = store(a);
    this.launch(() => sliceInto(x, a.shape, starts, ends, out), out, 'slice', a);
    return this.wrap(out, outShape, a.dtype);
  }

  concat(tensors: readonly NDArray[], axis: number): NDArray {
    const first = tensors[0]!;
    const outShape = first.shape.map((d, i) => (i === axis ? tensors.reduce((n, t) => n + t.shape[axis]!, 0) : d));
    const out = this.alloc(outShape, first.dtype);
    const parts = tensors.map((t) => ({ data: store(t), shape: t.shape }));
    this.launch(() => concatInto(parts, axis, out), out, 'concat', ...tensors);
    return this.wrap(out, outShape, first.dtype);
  }

  cast(a: NDArray, dtype: DType): NDArray {
    const out = this.alloc(a.shape, dtype);
    const x = store(a);
    this.launch(() => copyInto(x, out), out, `cast to ${dtype}`, a);
    return this.wrap(out, a.shape, dtype);
  }

  gather(a: NDArray, axis: number, index: NDArray): NDArray {
    const out = this.alloc(index.shape, a.dtype);
    const [x, i] = [store(a), store(index)];
    this.launch(() => gatherInto(x, a.shape, axis, i, index.shape, out), out, 'gather', a, index);
    return this.wrap(out, index.shape, a.dtype);
  }

  scatterAdd(shape: Shape, axis: number, index: NDArray, src: NDArray): NDArray {
    const out = this.alloc(shape, src.dtype);
    const [i, x] = [store(index), store(src)];
    // The kernel adds into `out`, so `out` starts at zero (again on every replay of a captured tape).
    this.launch(() => {
      out.fill(0);
      scatterAddInto(shape, axis, i, index.shape, x, out);
    }, out, 'scatterAdd', index, src);
    return this.wrap(out, shape, src.dtype);
  }

  indexSelect(a: NDArray, axis: number, indices: NDArray): NDArray {
    const outShape = a.shape.map((d, i) => (i === axis ? indices.size : d));
    const out = this.alloc(outShape, a.dtype);
    const [x, i] = [store(a), store(indices)];
    this.launch(() => indexSelectInto(x, a.shape, axis, i, out), out, 'indexSelect', a, indices);
    return this.wrap(out, outShape, a.dtype);
  }

  indexAdd(shape: Shape, axis: number, indices: NDArray, src: NDArray): NDArray {
    const out = this.alloc(shape, src.dtype);
    const [i, x] = [store(indices), store(src)];
    this.launch(() => {
      out.fill(0); // the kernel adds into `out` (see scatterAdd)
      indexAddInto(shape, axis, i, x, out);
    }, out, 'indexAdd', indices, src);
    return this.wrap(out, shape, src.dtype);
  }
}

/** The attention kernels' sizes, from q [batch, H, qPos, d] and k [batch, H, pos, d]. */
export function attentionDims(q: NDArray, k: NDArray): AttentionDims {
  const [qPos, d] = q.shape.slice(-2) as [number, number];
  return { entries: sizeOf(q.shape.slice(0, -2)), qPos, pos: k.shape.at(-2)!, d };
}

/** [batch, H, qPos, pos]. */
export const patternShape = (q: NDArray, k: NDArray): Shape => [...q.shape.slice(0, -1), k.shape.at(-2)!];

export function dataMatches(data: TypedArray, dtype: DType): boolean {
  return (
    (dtype === 'float32' && data instanceof Float32Array) ||
    (dtype === 'float64' && data instanceof Float64Array) ||
    (dtype === 'int32' && data instanceof Int32Array)
  );
}

/** A copy converted to `dtype`. float → int32 truncates toward zero, as torch does. */
export function copyAs(data: TypedArray, dtype: DType): TypedArray {
  const out = allocate(dtype, data.length);
  copyInto(data, out);
  return out;
}

export function copyInto(data: TypedArray, out: TypedArray): void {
  if (out instanceof Int32Array && !(data instanceof Int32Array)) for (let i = 0; i < data.length; i++) out[i] = Math.trunc(data[i]!);
  else out.set(data);
}

registerBackend('reference', () => new ReferenceBackend());
