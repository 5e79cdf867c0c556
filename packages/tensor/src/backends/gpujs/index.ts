/**
 * The gpujs backend: every Backend kernel as a GPU.js kernel.
 *
 * - The mode is explicit and pinned (`setBackend('gpujs', { mode: 'webasm' })`); see load.ts.
 * - GPU.js computes in float32. float32 tensors are stored as is; int32 tensors as floats holding exact
 *   integers (exact up to 2^24, which is also our size limit: kernels index with float arithmetic).
 *   float64 is refused with an error naming the op, rather than silently computed in float32.
 * - A kernel is compiled once per shape signature (kernel-cache.ts) from a source written for those shapes
 *   (kernels/*.ts). In the GL modes results stay on the GPU as textures and pass straight into the next
 *   kernel; `read()` downloads. webasm and cpu have no device memory, so their buffers are Float32Arrays.
 * - The scatter-adds run gather-style over an inverse index built on the host (kernels/scatter.ts); a fused
 *   kernel writes its outputs as one packed buffer and, in place, swaps its rows into the targets
 *   (kernels/fused.ts).
 */
import type { GPU } from 'gpu.js';
import type { Backend, BinaryOp, FusedKernel, MatmulOptions, ReduceOp, UnaryOp } from '../../backend.js';
import type { DType, TypedArray } from '../../dtype.js';
import { registerBackend } from '../../registry.js';
import { envVar } from '../../runtime.js';
import { type Shape, formatShape, sizeOf } from '../../shape.js';
import { NDArray } from '../../ndarray.js';
import { KernelCache, type KernelSpec, flatten } from './kernel-cache.js';
import { binarySpec, unarySpec, whereSpec } from './kernels/elementwise.js';
import { fusedSpec } from './kernels/fused.js';
import { gatherSpec, indexSelectSpec } from './kernels/gather.js';
import { concatSpec, permuteSpec, sliceSpec, truncSpec } from './kernels/layout.js';
import { matmulSpec, planMatmul } from './kernels/matmul.js';
import { reduceSpec } from './kernels/reduce.js';
import { indexAddSpec, invertRows, invertScatter, scatterAddSpec } from './kernels/scatter.js';
import { kernelSource } from './kernels/source.js';
import { rowStatsSpec, softmaxFromStatsSpec } from './kernels/softmax.js';
import { loadForMode } from './load.js';
import type { GpuJsMode } from './modes.js';
import { DeviceBuffer, GpuStorage, hostStorage } from './storage.js';

export { GPUJS_MODES, type GpuJsMode, headlessGlMessage } from './modes.js';

/** Kernels index with float32 arithmetic, exact for integers up to 2^24. */
const MAX_ELEMENTS = 2 ** 24;
/** GL modes bind each argument to a texture unit; concat joins at most this many parts per kernel. */
const MAX_CONCAT_PARTS = 8;
/** In webasm and cpu modes, an operand read along columns is copied to rows first from this many elements on. */
const TRANSPOSE_COPY_MIN = 4096;

export interface GpuJsOptions {
  mode: GpuJsMode;
  /** Most compiled kernels kept (least recently used are destroyed). */
  kernelCacheLimit?: number;
}

export class GpuJsBackend implements Backend {
  readonly name = 'gpujs';
  /** GPU.js computes in float32; int32 is stored as exact floats; float64 is refused (checkDType). */
  readonly dtypes: readonly DType[] = ['float32', 'int32'];
  readonly mode: GpuJsMode;
  /** Whether buffers live on a GPU (GL modes) rather than in host memory (webasm, cpu). */
  readonly onDevice: boolean;
  private readonly gpu: GPU;
  private readonly kernels: KernelCache;

  /** `options` is a GpuJsOptions; it arrives untyped from setBackend (the mode perhaps from GROK_GPUJS_MODE). */
  constructor(options: GpuJsOptions | Record<string, unknown>) {
    const { mode, kernelCacheLimit } = options as Partial<GpuJsOptions>;
    const { GPU } = loadForMode(mode);
    this.mode = mode!;
    this.onDevice = this.mode === 'headlessgl' || this.mode === 'webgl' || this.mode === 'webgl2';
    this.gpu = new GPU({ mode: this.mode });
    this.kernels = new KernelCache(this.gpu, this.onDevice, kernelCacheLimit);
  }

  /** Compiled kernels currently cached. */
  get kernelCount(): number {
    return this.kernels.size;
  }

  /** Destroys every compiled kernel and the GPU.js instance; tensors of this backend become unusable. */
  destroy(): void {
    this.kernels.destroy();
    void this.gpu.destroy();
  }

  // -------------------------------------------------------------------------------------------------------
  // Storage

  fromArray(data: TypedArray, shape: Shape, dtype: DType): NDArray {
    checkDType('fromArray', dtype);
    if (data.length !== sizeOf(shape)) throw new Error(`gpujs.fromArray: ${data.length} values for shape ${formatShape(shape)}`);
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    return this.wrap(this.upload(values), shape, dtype);
  }

  read(t: NDArray): TypedArray {
    const s = storage(t);
    const data = s.buffer.data;
    const all = data instanceof Float32Array ? data : flatten(data.toArray(), s.buffer.length);
    const values = all.subarray(s.offset, s.offset + s.size);
    if (t.dtype === 'float32') return values;
    const ints = new Int32Array(values.length);
    for (let i = 0; i < values.length; i++) ints[i] = Math.round(values[i]!);
    return ints;
  }

  reshape(t: NDArray, shape: Shape): NDArray {
    return new NDArray(storage(t), shape, t.dtype, this);
  }

  dispose(t: NDArray): void {
    (t.storage as GpuStorage).dispose();
  }

  // -------------------------------------------------------------------------------------------------------
  // Elementwise

  unary(op: UnaryOp, a: NDArray): NDArray {
    checkDType(op, a.dtype);
    return this.run(unarySpec(op, a.size, storage(a).offset), [a], a.shape, a.dtype);
  }

  binary(op: BinaryOp, a: NDArray, b: NDArray, outShape: Shape): NDArray {
    checkDType(op, a.dtype);
    return this.run(binarySpec(op, a.dtype, operand(a), operand(b), outShape), [a, b], outShape, a.dtype);
  }

  where(cond: NDArray, a: NDArray, b: NDArray, outShape: Shape): NDArray {
    checkDType('where', a.dtype);
    checkDType('where', cond.dtype);
    return this.run(whereSpec(operand(cond), operand(a), operand(b), outShape), [cond, a, b], outShape, a.dtype);
  }

  // -------------------------------------------------------------------------------------------------------
  // Reductions, matmul, softmax

  reduce(op: ReduceOp, a: NDArray, axis: number, keepdim: boolean): NDArray {
    checkDType(op, a.dtype);
    const outer = sizeOf(a.shape.slice(0, axis));
    const n = a.shape[axis]!;
    const inner = sizeOf(a.shape.slice(axis + 1));
    const outShape = keepdim ? a.shape.map((d, i) => (i === axis ? 1 : d)) : a.shape.filter((_, i) => i !== axis);
    const dtype: DType = op === 'argmax' || op === 'argmin' ? 'int32' : a.dtype;
    if (n === 0) return this.zeros(outShape, dtype); // the sum of nothing (the op layer refuses the others)
    return this.run(reduceSpec(op, outer, n, inner, storage(a).offset), [a], outShape, dtype);
  }

  matmul(a: NDArray, b: NDArray, { transA = false, transB = false }: MatmulOptions): NDArray {
    checkDType('matmul', a.dtype);
    const { M, K, N, outShape } = planMatmul(a.shape, b.shape, transA, transB);
    if (K === 0) return this.zeros(outShape, a.dtype);
    if (!this.onDevice && ((transA && M * K >= TRANSPOSE_COPY_MIN) || (!transB && K * N >= TRANSPOSE_COPY_MIN))) {
      // In host memory a thread walking a column (A stored [K, M], or B stored [K, N]) jumps a row per k.
      // Copying such an operand so that both are read along rows (A [M, K], B stored [N, K]) costs one pass
      // over it and makes the backward pass's matmuls 2-3x faster (measured at [3830, 512]ᵀ · [3830, 128]
      // and [128, 3830] · [3830, 512] in webasm mode).
      const swapLast = (t: NDArray) => this.permute(t, t.shape.map((_, i) => (i < t.ndim - 2 ? i : 2 * t.ndim - 3 - i)));
      const rowsA = transA && M * K >= TRANSPOSE_COPY_MIN ? swapLast(a) : null;
      const rowsB = !transB && K * N >= TRANSPOSE_COPY_MIN ? swapLast(b) : null;
      const out = this.matmul(rowsA ?? a, rowsB ?? b, { transA: transA && !rowsA, transB: transB || rowsB !== null });
      for (const t of [rowsA, rowsB]) if (t) this.dispose(t);
      return out;
    }
    const spec = matmulSpec({ ...operand(a), trans: transA }, { ...operand(b), trans: transB }, this.onDevice);
    return this.run(spec, [a, b], outShape, a.dtype);
  }

  softmax(a: NDArray): NDArray {
    return this.softmaxRows(a, false);
  }

  logSoftmax(a: NDArray): NDArray {
    return this.softmaxRows(a, true);
  }

  private softmaxRows(a: NDArray, log: boolean): NDArray {
    const op = log ? 'logSoftmax' : 'softmax';
    checkDType(op, a.dtype);
    const n = a.shape.at(-1)!;
    if (a.size === 0) return this.zeros(a.shape, a.dtype);
    const rows = a.size / n;
    const { buffer, offset } = storage(a);
    const stats = this.kernels.runToStorage(rowStatsSpec(rows, n, offset), [buffer], 2 * rows);
    const out = this.kernels.runToStorage(softmaxFromStatsSpec(rows, n, offset, log), [buffer, stats.buffer], a.size);
    stats.dispose();
    return this.wrap(out, a.shape, a.dtype);
  }

  // -------------------------------------------------------------------------------------------------------
  // Layout

  permute(a: NDArray, perm: readonly number[]): NDArray {
    checkDType('permute', a.dtype);
    return this.run(permuteSpec(a.shape, storage(a).offset, perm), [a], perm.map((p) => a.shape[p]!), a.dtype);
  }

  slice(a: NDArray, starts: readonly number[], ends: readonly number[]): NDArray {
    checkDType('slice', a.dtype);
    const outShape = starts.map((s, i) => ends[i]! - s);
    return this.run(sliceSpec(a.shape, storage(a).offset, starts, ends), [a], outShape, a.dtype);
  }

  concat(tensors: readonly NDArray[], axis: number): NDArray {
    const first = tensors[0]!;
    checkDType('concat', first.dtype);
    const outShape = first.shape.map((d, i) => (i === axis ? tensors.reduce((n, t) => n + t.shape[axis]!, 0) : d));
    const parts = tensors.filter((t) => t.size > 0); // GPU.js cannot take empty arrays; they add nothing
    if (parts.length === 0) return this.zeros(outShape, first.dtype);
    if (parts.length === 1) return new NDArray(storage(parts[0]!), outShape, first.dtype, this); // values are immutable
    if (parts.length > MAX_CONCAT_PARTS) {
      // Join in groups, then join the groups.
      const groups: NDArray[] = [];
      for (let i = 0; i < parts.length; i += MAX_CONCAT_PARTS) groups.push(this.concat(parts.slice(i, i + MAX_CONCAT_PARTS), axis));
      return this.concat(groups, axis);
    }
    return this.run(concatSpec(parts.map(operand), axis), parts, outShape, first.dtype);
  }

  cast(a: NDArray, dtype: DType): NDArray {
    checkDType('cast', dtype);
    checkDType('cast', a.dtype);
    // int32 values are already exact floats: int32 → float32 shares the storage; float32 → int32 truncates.
    if (a.dtype === 'float32' && dtype === 'int32') return this.run(truncSpec(a.size, storage(a).offset), [a], a.shape, dtype);
    return new NDArray(storage(a), a.shape, dtype, this);
  }

  // -------------------------------------------------------------------------------------------------------
  // Indexing

  gather(a: NDArray, axis: number, index: NDArray): NDArray {
    checkDType('gather', a.dtype);
    return this.run(gatherSpec(operand(a), axis, operand(index)), [a, index], index.shape, a.dtype);
  }

  indexSelect(a: NDArray, axis: number, indices: NDArray): NDArray {
    checkDType('indexSelect', a.dtype);
    const outShape = a.shape.map((d, i) => (i === axis ? indices.size : d));
    const spec = indexSelectSpec(operand(a), axis, { size: indices.size, offset: storage(indices).offset });
    return this.run(spec, [a, indices], outShape, a.dtype);
  }

  scatterAdd(shape: Shape, axis: number, index: NDArray, src: NDArray): NDArray {
    checkDType('scatterAdd', src.dtype);
    if (src.size === 0) return this.zeros(shape, src.dtype);
    const { start, sources } = invertScatter(shape, axis, this.read(index), index.shape);
    const spec = scatterAddSpec(sizeOf(shape), operand(src), index.shape[axis]!);
    return this.runWithTables(spec, src, start, sources, shape);
  }

  indexAdd(shape: Shape, axis: number, indices: NDArray, src: NDArray): NDArray {
    checkDType('indexAdd', src.dtype);
    if (src.size === 0) return this.zeros(shape, src.dtype);
    const { start, sources } = invertRows(shape[axis]!, this.read(indices));
    const spec = indexAddSpec(shape, axis, indices.size, operand(src));
    return this.runWithTables(spec, src, start, sources, shape);
  }

  /** Runs a scatter kernel with its inverse-index tables uploaded for the call, then frees them. */
  private runWithTables(spec: KernelSpec, src: NDArray, start: Float32Array, sources: Float32Array, shape: Shape): NDArray {
    const tables = [this.upload(start), this.upload(sources)];
    const out = this.kernels.runToStorage(spec, [storage(src).buffer, ...tables.map((t) => t.buffer)], sizeOf(shape));
    for (const t of tables) t.dispose();
    return this.wrap(out, shape, src.dtype);
  }

  // -------------------------------------------------------------------------------------------------------
  // Fused elementwise kernels

  fused(kernel: FusedKernel, inputs: readonly NDArray[], scalars: readonly number[], into?: readonly NDArray[]): NDArray[] {
    const { shape, dtype, size: n } = inputs[0]!;
    checkDType(kernel.name, dtype);
    const S = kernel.outputs.length;
    if (S * n > MAX_ELEMENTS) throw new Error(`gpujs.${kernel.name}: ${S} outputs of ${formatShape(shape)} exceed 2^24 elements`);
    const rows = (packed: DeviceBuffer | null) =>
      kernel.outputs.map((_, s) => (packed ? new GpuStorage(packed, s * n, n) : hostStorage(new Float32Array(0))));
    let results: GpuStorage[];
    if (n === 0) results = rows(null);
    else {
      const ins = inputs.map(storage);
      const spec = fusedSpec(kernel, n, ins.map((s) => s.offset));
      results = rows(this.kernels.run(spec, [...ins.map((s) => s.buffer), ...scalars], S * n));
    }
    if (!into) return results.map((r) => this.wrap(r, shape, dtype));
    // In place: each target now reads its row of the packed result. Old storages are freed once unreferenced.
    into.forEach((t, s) => t.replaceStorage(results[s]!));
    return [...into];
  }

  // -------------------------------------------------------------------------------------------------------
  // Helpers

  /** Runs `spec` on the tensors' buffers; an empty output needs no kernel. */
  private run(spec: KernelSpec, inputs: readonly NDArray[], outShape: Shape, dtype: DType): NDArray {
    const size = sizeOf(outShape);
    if (size === 0) return this.wrap(hostStorage(new Float32Array(0)), outShape, dtype);
    if (size > MAX_ELEMENTS) throw new Error(`gpujs: ${formatShape(outShape)} has more than 2^24 elements, the most float32 indexing reaches`);
    return this.wrap(this.kernels.runToStorage(spec, inputs.map((t) => storage(t).buffer), size), outShape, dtype);
  }

  /** Host values into a buffer: kept as is without device memory, drawn into a texture in GL modes. */
  private upload(values: Float32Array): GpuStorage {
    if (!this.onDevice || values.length === 0) return hostStorage(values);
    const spec: KernelSpec = { source: kernelSource(['a'], 'return a[this.thread.x];'), output: [values.length], loop: 0 };
    return this.kernels.runToStorage(spec, [new DeviceBuffer(values, values.length)], values.length);
  }

  private zeros(shape: Shape, dtype: DType): NDArray {
    return this.wrap(this.upload(new Float32Array(sizeOf(shape))), shape, dtype);
  }

  private wrap(s: GpuStorage, shape: Shape, dtype: DType): NDArray {
    return new NDArray(s, shape, dtype, this);
  }
}

function storage(t: NDArray): GpuStorage {
  const s = t.storage as GpuStorage;
  if (s.disposed) throw new Error(`gpujs: tensor ${formatShape(t.shape)} was disposed`);
  return s;
}

function operand(t: NDArray): { shape: Shape; offset: number } {
  return { shape: t.shape, offset: storage(t).offset };
}

/** float64 has no float32 kernel that would honour it: refuse it by name rather than lose precision silently. */
function checkDType(op: string, dtype: DType): void {
  if (dtype === 'float64') {
    throw new Error(
      `gpujs.${op}: float64 is not supported: GPU.js computes in float32. Cast to float32 first, ` +
        `or run float64 work (gradcheck, float64 losses) on the cpu backend`,
    );
  }
}

// The mode: the option, or else GROK_GPUJS_MODE (how `GROK_BACKEND=gpujs` gets one).
registerBackend('gpujs', (options) => new GpuJsBackend({ mode: envVar('GROK_GPUJS_MODE'), ...options }));
