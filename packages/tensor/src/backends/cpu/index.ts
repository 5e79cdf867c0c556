/**
 * The cpu backend: storage is a typed array; every kernel is a plain TypeScript loop (the reference).
 * Faster kernels (WebAssembly SIMD, threads) plug in behind the same methods.
 */
import type { Backend, BinaryOp, FusedKernel, MatmulOptions, ReduceOp, UnaryOp } from '../../backend.js';
import { type DType, type TypedArray, allocate } from '../../dtype.js';
import { registerBackend } from '../../registry.js';
import { type Shape, formatShape, sizeOf } from '../../shape.js';
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
import { crossEntropyRowsInto } from './cross-entropy.js';
import { type BoundKernel, KernelTape, type MemoryPlan } from './capture.js';
import { type Allocate, wasmBinary, wasmSmallMatmul, wasmGatherRows, wasmReluBackward, wasmScatterAddRows, wasmUnary } from './wasm-dispatch.js';

const store = (t: NDArray) => t.storage as TypedArray;

export class CpuBackend implements Backend {
  readonly name: string = 'cpu';
  /** The tape being captured, if any (see capture.ts). */
  #tape: KernelTape | null = null;

  protected wrap(data: TypedArray, shape: Shape, dtype: DType): NDArray {
    return new NDArray(data, shape, dtype, this);
  }

  protected alloc(shape: Shape, dtype: DType): TypedArray {
    const n = sizeOf(shape);
    // Captured buffers live in the shared wasm memory, where the tape's memory plan puts them.
    return this.#tape?.allocate(dtype, n) ?? allocate(dtype, n);
  }

  /** Runs a kernel; while a capture is open, also appends it to the tape. */
  protected launch(kernel: BoundKernel, out: TypedArray | readonly TypedArray[], label: string, ...inputs: NDArray[]): void {
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

  /** Takes ownership of `data` (no copy): do not mutate it afterwards. */
  fromArray(data: TypedArray, shape: Shape, dtype: DType): NDArray {
    if (data.length !== sizeOf(shape)) {
      throw new Error(`cpu.fromArray: ${data.length} values for shape [${shape.join(', ')}]`);
    }
    const typed = dataMatches(data, dtype) ? data : copyAs(data, dtype);
    return this.wrap(typed, shape, dtype);
  }

  read(t: NDArray): TypedArray {
    const data = store(t);
    if (this.#tape?.writes(data)) this.#tape.hostDependent ??= `the host read a ${formatShape(t.shape)} result during capture`;
    return data;
  }

  reshape(t: NDArray, shape: Shape): NDArray {
    return this.wrap(store(t), shape, t.dtype);
  }

  unary(op: UnaryOp, a: NDArray): NDArray {
    const out = this.alloc(a.shape, a.dtype);
    const x = store(a);
    this.launch(this.#wasm((alloc) => wasmUnary(alloc, op, x, out)) ?? (() => unaryInto(op, x, out)), out, op, a);
    return this.wrap(out, a.shape, a.dtype);
  }

  binary(op: BinaryOp, a: NDArray, b: NDArray, outShape: Shape): NDArray {
    const out = this.alloc(outShape, a.dtype);
    const [x, y] = [store(a), store(b)];
    const wasm = this.#wasm((alloc) => wasmBinary(alloc, op, x, a.shape, y, b.shape, out, outShape));
    this.launch(wasm ?? (() => binaryInto(op, x, a.shape, y, b.shape, out, outShape)), out, op, a, b);
    return this.wrap(out, outShape, a.dtype);
  }

  fused(kernel: FusedKernel, inputs: readonly NDArray[], scalars: readonly number[], into?: readonly NDArray[]): NDArray[] {
    const { shape, dtype } = inputs[0]!;
    const outs = into ?? kernel.outputs.map(() => this.wrap(this.alloc(shape, dtype), shape, dtype));
    const [ins, outArrays] = [inputs.map(store), outs.map(store)];
    const wasm = isReluBackward(kernel) ? this.#wasm((alloc) => wasmReluBackward(alloc, ins[0]!, ins[1]!, outArrays[0]!)) : null;
    this.launch(wasm ?? (() => fusedInto(kernel, ins, scalars, outArrays)), outArrays, kernel.name, ...inputs);
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
    // float32 takes the WebAssembly SIMD path, or for tiny matrices a plain loop without its copies;
    // float64 and int32 keep the exact reference loop.
    const fast = a.dtype === 'float32' && b.dtype === 'float32' && out instanceof Float32Array && isFastPathEnabled();
    if (fast && isSmallMatmul(plan.M, plan.K, plan.N)) {
      const wasm = this.#wasm((alloc) => wasmSmallMatmul(alloc, problem, plan, out));
      this.launch(wasm ?? (() => smallMatmulInto(problem, out, plan)), out, 'small matmul', a, b);
    }
    else {
      this.launch(() => {
        if (!(fast && fastMatmulInto(problem, out))) matmulInto(problem, out);
      }, out, `matmul${transA ? ' Aᵀ' : ''}${transB ? ' Bᵀ' : ''}`, a, b);
    }
    const outShape = plan.outShape;
    return this.wrap(out, outShape, a.dtype);
  }

  crossEntropyRows(logits: NDArray, targets: NDArray, withDerivative: boolean): { losses: NDArray; dloss: NDArray | null } {
    const [rows, classes] = logits.shape as [number, number];
    const losses = this.alloc([rows], 'float64') as Float64Array;
    const dloss = withDerivative ? this.alloc(logits.shape, logits.dtype) : null;
    const [x, t] = [store(logits), store(targets) as Int32Array];
    this.launch(() => crossEntropyRowsInto(x, t, rows, classes, losses, dloss), dloss ? [losses, dloss] : losses, 'crossEntropyRows', logits, targets);
    return { losses: this.wrap(losses, [rows], 'float64'), dloss: dloss && this.wrap(dloss, logits.shape, logits.dtype) };
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
    // The kernel adds into `out`: a replayed tape must start it from zero again.
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
    const rows = axis === 0 && i instanceof Int32Array ? this.#wasm((alloc) => wasmGatherRows(alloc, x, i, out, a.size / a.shape[0]!)) : null;
    this.launch(rows ?? (() => indexSelectInto(x, a.shape, axis, i, out)), out, 'indexSelect', a, indices);
    return this.wrap(out, outShape, a.dtype);
  }

  indexAdd(shape: Shape, axis: number, indices: NDArray, src: NDArray): NDArray {
    const out = this.alloc(shape, src.dtype);
    const [i, x] = [store(indices), store(src)];
    const rows = axis === 0 && i instanceof Int32Array ? this.#wasm((alloc) => wasmScatterAddRows(alloc, x, i, out, out.length / shape[0]!)) : null;
    this.launch(rows ?? (() => {
      out.fill(0); // the kernel adds into `out` (see scatterAdd)
      indexAddInto(shape, axis, i, x, out);
    }), out, 'indexAdd', indices, src);
    return this.wrap(out, shape, src.dtype);
  }
}

/**
 * autograd's ReLU backward (x ≤ 0 ? 0 : g), which the captured path runs as the wasm kernel x > 0 ? g : 0:
 * the same values for every x but NaN.
 */
const isReluBackward = (k: FusedKernel) =>
  k.name === 'reluBackward' && k.inputs.join() === 'x,g' && k.outputs.length === 1 && k.outputs[0] === 'x <= 0.0 ? 0.0 : g';

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
  copyInto(data, out);
  return out;
}

function copyInto(data: TypedArray, out: TypedArray): void {
  if (out instanceof Int32Array && !(data instanceof Int32Array)) for (let i = 0; i < data.length; i++) out[i] = Math.trunc(data[i]!);
  else out.set(data);
}

registerBackend('cpu', () => new CpuBackend());
