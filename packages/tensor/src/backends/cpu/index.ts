/**
 * The cpu backend: storage is a typed array; every kernel is a plain TypeScript loop (the reference).
 * Faster kernels (WebAssembly SIMD, threads) plug in behind the same methods.
 */
import type { Backend, BinaryOp, FusedKernel, MatmulOptions, ReduceOp, UnaryOp } from '../../backend.js';
import { type DType, type TypedArray, allocate } from '../../dtype.js';
import { registerBackend } from '../../registry.js';
import { type Shape, sizeOf } from '../../shape.js';
import { NDArray } from '../../ndarray.js';
import { binaryInto, unaryInto, whereInto } from './elementwise.js';
import { fusedInto } from './fused.js';
import { gatherInto, indexAddInto, indexSelectInto, scatterAddInto } from './indexing.js';
import { concatInto, permuteInto, sliceInto } from './layout.js';
import { fastMatmulInto } from './fast/fast-matmul.js';
import { isFastPathEnabled } from './fast/settings.js';
import { matmulInto, planMatmul } from './matmul.js';
import { reduceInto } from './reduce.js';
import { isSmallMatmul, smallMatmulInto } from './small-matmul.js';
import { softmaxRowsInto } from './softmax.js';

const store = (t: NDArray) => t.storage as TypedArray;

export class CpuBackend implements Backend {
  readonly name: string = 'cpu';

  protected wrap(data: TypedArray, shape: Shape, dtype: DType): NDArray {
    return new NDArray(data, shape, dtype, this);
  }

  protected alloc(shape: Shape, dtype: DType): TypedArray {
    return allocate(dtype, sizeOf(shape));
  }

  /** Takes ownership of `data` (no copy): do not mutate it afterwards. */
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
    unaryInto(op, store(a), out);
    return this.wrap(out, a.shape, a.dtype);
  }

  binary(op: BinaryOp, a: NDArray, b: NDArray, outShape: Shape): NDArray {
    const out = this.alloc(outShape, a.dtype);
    binaryInto(op, store(a), a.shape, store(b), b.shape, out, outShape);
    return this.wrap(out, outShape, a.dtype);
  }

  fused(kernel: FusedKernel, inputs: readonly NDArray[], scalars: readonly number[], into?: readonly NDArray[]): NDArray[] {
    const { shape, dtype } = inputs[0]!;
    const outs = into ?? kernel.outputs.map(() => this.wrap(this.alloc(shape, dtype), shape, dtype));
    fusedInto(kernel, inputs.map(store), scalars, outs.map(store));
    return [...outs];
  }

  where(cond: NDArray, a: NDArray, b: NDArray, outShape: Shape): NDArray {
    const out = this.alloc(outShape, a.dtype);
    whereInto(store(cond), cond.shape, store(a), a.shape, store(b), b.shape, out, outShape);
    return this.wrap(out, outShape, a.dtype);
  }

  reduce(op: ReduceOp, a: NDArray, axis: number, keepdim: boolean): NDArray {
    const outer = sizeOf(a.shape.slice(0, axis));
    const n = a.shape[axis]!;
    const inner = sizeOf(a.shape.slice(axis + 1));
    const outShape = keepdim ? a.shape.map((d, i) => (i === axis ? 1 : d)) : a.shape.filter((_, i) => i !== axis);
    const dtype: DType = op === 'argmax' || op === 'argmin' ? 'int32' : a.dtype;
    const out = this.alloc(outShape, dtype);
    reduceInto(op, store(a), outer, n, inner, out);
    return this.wrap(out, outShape, dtype);
  }

  matmul(a: NDArray, b: NDArray, { transA = false, transB = false }: MatmulOptions): NDArray {
    const problem = { a: store(a), aShape: a.shape, transA, b: store(b), bShape: b.shape, transB };
    const plan = planMatmul(problem);
    const out = this.alloc(plan.outShape, a.dtype);
    // float32 takes the WebAssembly SIMD path, or for tiny matrices a plain loop without its copies;
    // float64 and int32 keep the exact reference loop.
    const fast = a.dtype === 'float32' && b.dtype === 'float32' && out instanceof Float32Array && isFastPathEnabled();
    if (fast && isSmallMatmul(plan.M, plan.K, plan.N)) smallMatmulInto(problem, out, plan);
    else if (!(fast && fastMatmulInto(problem, out))) matmulInto(problem, out);
    const outShape = plan.outShape;
    return this.wrap(out, outShape, a.dtype);
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
    softmaxRowsInto(store(a), n === 0 ? 0 : a.size / n, n, out, log);
    return this.wrap(out, a.shape, a.dtype);
  }

  permute(a: NDArray, perm: readonly number[]): NDArray {
    const outShape = perm.map((p) => a.shape[p]!);
    const out = this.alloc(outShape, a.dtype);
    permuteInto(store(a), a.shape, perm, out);
    return this.wrap(out, outShape, a.dtype);
  }

  slice(a: NDArray, starts: readonly number[], ends: readonly number[]): NDArray {
    const outShape = starts.map((s, i) => ends[i]! - s);
    const out = this.alloc(outShape, a.dtype);
    sliceInto(store(a), a.shape, starts, ends, out);
    return this.wrap(out, outShape, a.dtype);
  }

  concat(tensors: readonly NDArray[], axis: number): NDArray {
    const first = tensors[0]!;
    const outShape = first.shape.map((d, i) => (i === axis ? tensors.reduce((n, t) => n + t.shape[axis]!, 0) : d));
    const out = this.alloc(outShape, first.dtype);
    concatInto(tensors.map((t) => ({ data: store(t), shape: t.shape })), axis, out);
    return this.wrap(out, outShape, first.dtype);
  }

  cast(a: NDArray, dtype: DType): NDArray {
    return this.wrap(copyAs(store(a), dtype), a.shape, dtype);
  }

  gather(a: NDArray, axis: number, index: NDArray): NDArray {
    const out = this.alloc(index.shape, a.dtype);
    gatherInto(store(a), a.shape, axis, store(index), index.shape, out);
    return this.wrap(out, index.shape, a.dtype);
  }

  scatterAdd(shape: Shape, axis: number, index: NDArray, src: NDArray): NDArray {
    const out = this.alloc(shape, src.dtype);
    scatterAddInto(shape, axis, store(index), index.shape, store(src), out);
    return this.wrap(out, shape, src.dtype);
  }

  indexSelect(a: NDArray, axis: number, indices: NDArray): NDArray {
    const outShape = a.shape.map((d, i) => (i === axis ? indices.size : d));
    const out = this.alloc(outShape, a.dtype);
    indexSelectInto(store(a), a.shape, axis, store(indices), out);
    return this.wrap(out, outShape, a.dtype);
  }

  indexAdd(shape: Shape, axis: number, indices: NDArray, src: NDArray): NDArray {
    const out = this.alloc(shape, src.dtype);
    indexAddInto(shape, axis, store(indices), store(src), out);
    return this.wrap(out, shape, src.dtype);
  }
}

function dataMatches(data: TypedArray, dtype: DType): boolean {
  return (
    (dtype === 'float32' && data instanceof Float32Array) ||
    (dtype === 'float64' && data instanceof Float64Array) ||
    (dtype === 'int32' && data instanceof Int32Array)
  );
}

/** A copy converted to `dtype`. float → int32 truncates toward zero, as torch does. */
function copyAs(data: TypedArray, dtype: DType): TypedArray {
  const out = allocate(dtype, data.length);
  if (dtype === 'int32') for (let i = 0; i < data.length; i++) out[i] = Math.trunc(data[i]!);
  else out.set(data);
  return out;
}

registerBackend('cpu', () => new CpuBackend());
