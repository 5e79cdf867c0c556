/**
 * The Backend interface: the small set of kernels everything else is built from.
 *
 * The op layer (`ops.ts`) validates arguments, computes output shapes and throws errors that name the op;
 * a backend only computes. Kernels never mutate their inputs, except `fused` when it is given arrays to
 * write `into` (the in-place updates of optimizers). Every other kernel returns a new contiguous row-major
 * array.
 */
import type { DType, TypedArray } from './dtype.js';
import type { Shape } from './shape.js';
import type { NDArray } from './ndarray.js';

export type UnaryOp =
  | 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'sign' | 'square' | 'reciprocal'
  | 'relu' | 'gelu' | 'gelu_tanh' | 'tanh' | 'sigmoid' | 'sin' | 'cos';

export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum'
  /** Comparisons give 1 or 0 in the dtype of their inputs. */
  | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';

export type ReduceOp = 'sum' | 'mean' | 'max' | 'min' | 'argmax' | 'argmin';

export interface MatmulOptions {
  /** Read `a` as transposed in its last two axes: a is stored [..., K, M]. */
  transA?: boolean;
  /** Read `b` as transposed in its last two axes: b is stored [..., N, K]. */
  transB?: boolean;
}

/**
 * A fused elementwise kernel: a formula of the caller's, computed element by element over arrays of one
 * shape in a single pass, with one or more results. It is how the layers above run arithmetic that is no
 * op of this package (autograd's derivatives, the optimizers' updates) as one kernel rather than one per
 * term, while this package knows nothing of what the formula is for.
 *
 * The formula is JavaScript source in the subset that the cpu backend compiles into a loop and GPU.js
 * translates for the gpujs backend: `const` declarations, + − * /, comparisons, `a ? b : c`, `Math.exp log
 * sqrt abs max min pow`, and the helpers `erf(x)`, `tanh(x)` and `sigmoid(x)`. Write float literals with a
 * decimal point (`1.0`, not `1`): GPU.js reads `1` as an integer. Each element's inputs are read, every
 * output is computed, and only then are the outputs written, so an output may be one of the inputs.
 *
 *   { name: 'axpy', inputs: ['x', 'y'], scalars: ['a'], outputs: ['a * x + y'] }
 */
export interface FusedKernel {
  /** Names the kernel in errors (and, with the formula, in a backend's cache of compiled kernels). */
  readonly name: string;
  /** The name of one element of each input array, in the order the arrays are passed. */
  readonly inputs: readonly string[];
  /** The names of the number arguments, the same for every element. */
  readonly scalars?: readonly string[];
  /** Statements run first for each element, declaring what the outputs share (`const m1 = …;`). */
  readonly body?: string;
  /** One expression per result. */
  readonly outputs: readonly string[];
  /**
   * Optional: the same computation written as a loop over host arrays (inputs, scalars, outputs), which a
   * backend that keeps its data in host memory (cpu) runs instead of compiling the formula. It returns false
   * to leave arrays it was not written for (another dtype) to the formula. It must give the formula's
   * values; its caller tests that it does.
   */
  readonly hostLoop?: (inputs: readonly TypedArray[], scalars: readonly number[], outputs: readonly TypedArray[]) => boolean;
}

export interface Backend {
  readonly name: string;
  /**
   * The dtypes this backend computes in; absent means all of them. gpujs lists float32 and int32 only:
   * code that wants float64 on such a backend (crossEntropy's float64 loss) moves the work to the host.
   */
  readonly dtypes?: readonly DType[];

  /** Wraps host data (copied or uploaded) as a tensor of this backend. `data.length` must equal the size. */
  fromArray(data: TypedArray, shape: Shape, dtype: DType): NDArray;
  /** The elements in row-major order as a host typed array (a download for device backends). */
  read(t: NDArray): TypedArray;
  /** A tensor sharing `t`'s storage with another shape of the same size (no copy). */
  reshape(t: NDArray, shape: Shape): NDArray;

  unary(op: UnaryOp, a: NDArray): NDArray;
  /** Elementwise with NumPy broadcasting; `outShape` is the broadcast shape. */
  binary(op: BinaryOp, a: NDArray, b: NDArray, outShape: Shape): NDArray;
  /** cond != 0 ? a : b, broadcast to `outShape`; the result has a's dtype. */
  where(cond: NDArray, a: NDArray, b: NDArray, outShape: Shape): NDArray;
  /** Reduces one axis. argmax/argmin give int32 and pick the first extreme. */
  reduce(op: ReduceOp, a: NDArray, axis: number, keepdim: boolean): NDArray;
  /** Batched matmul: a [...batchA, M, K] · b [...batchB, K, N] → [...broadcast(batchA, batchB), M, N]. */
  matmul(a: NDArray, b: NDArray, options: MatmulOptions): NDArray;

  /**
   * Runs a fused kernel over `inputs` (one shape, one float dtype) with its `scalars`. Without `into` it
   * returns one new array per output; with `into` (one array per output, of the inputs' shape and dtype) it
   * writes the results there, in place, and returns `into`.
   */
  fused(kernel: FusedKernel, inputs: readonly NDArray[], scalars: readonly number[], into?: readonly NDArray[]): NDArray[];

  /**
   * Optional fused loss: cross-entropy of logits [rows, classes] (float) against int32 targets [rows]:
   * float64 losses [rows], and when `withDerivative`, d loss[r] / d logits[r, j] = softmax − one-hot, in the
   * logits' dtype. Without it, ops.ts composes the same from logSoftmax, gather and exp.
   */
  crossEntropyRows?(logits: NDArray, targets: NDArray, withDerivative: boolean): { losses: NDArray; dloss: NDArray | null };

  /**
   * Optional embedding bag with per-row weights (see ops.ts embeddingBag): table [N, D], int32 index [B, R],
   * weight [B, R] → [B, D], and its adjoints for the weights ([B, R]) and the table ([N, D]). Without them,
   * ops.ts composes the same from indexSelect, mul, sum and indexAdd.
   */
  embeddingBag?(table: NDArray, index: NDArray, weight: NDArray): NDArray;
  embeddingBagWeightGrad?(table: NDArray, index: NDArray, g: NDArray): NDArray;
  embeddingBagTableGrad?(rows: number, index: NDArray, weight: NDArray, g: NDArray): NDArray;

  /**
   * Optional fused attention over a short context (see ../attention.ts, which validates and, for a backend
   * without these, composes the same from matmul, div, add, softmax, mul, sub and sum). For each of the
   * [batch, H] entries, q [qPos, d], k and v [pos, d] (all contiguous, one float dtype):
   *   scores  = q·kᵀ / √d, with −∞ added where key j > i + pos − qPos when `causal`
   *   pattern = softmax(scores) over keys       [batch, H, qPos, pos]
   *   z       = pattern·v                       [batch, H, qPos, d]
   */
  attentionShortContext?(q: NDArray, k: NDArray, v: NDArray, causal: boolean): { z: NDArray; pattern: NDArray };
  /**
   * Its backward: from the forward's pattern and dz [batch, H, qPos, d] to dq, dk and dv (shaped like q, k, v);
   * `dpattern` (or null) is a gradient of the pattern from elsewhere, added to dz·vᵀ.
   */
  attentionShortContextBackward?(
    q: NDArray, k: NDArray, v: NDArray, pattern: NDArray, dz: NDArray, dpattern: NDArray | null,
  ): { dq: NDArray; dk: NDArray; dv: NDArray };
  /** The pattern alone (no v, no z): the forward above up to the softmax, [batch, H, qPos, pos]. */
  attentionPattern?(q: NDArray, k: NDArray, causal: boolean): NDArray;
  /** Its backward: from the forward's pattern and the pattern's gradient dpattern to dq and dk. */
  attentionPatternBackward?(q: NDArray, k: NDArray, pattern: NDArray, dpattern: NDArray): { dq: NDArray; dk: NDArray };

  /** Softmax / log-softmax along the last axis, max-subtracted so large logits stay finite. */
  softmax(a: NDArray): NDArray;
  logSoftmax(a: NDArray): NDArray;

  /** A contiguous copy with the axes reordered: out.shape[i] = a.shape[perm[i]]. */
  permute(a: NDArray, perm: readonly number[]): NDArray;
  /** The box [starts, ends) along every axis. */
  slice(a: NDArray, starts: readonly number[], ends: readonly number[]): NDArray;
  /** Joins tensors of equal shape except along `axis`. */
  concat(tensors: readonly NDArray[], axis: number): NDArray;
  cast(a: NDArray, dtype: DType): NDArray;

  /** torch.gather: out[..i.., j, ..k..] = a[..i.., index[..i.., j, ..k..], ..k..]; index is int32, same rank. */
  gather(a: NDArray, axis: number, index: NDArray): NDArray;
  /** The adjoint of gather: zeros(shape), then out[.., index[.., j, ..], ..] += src[.., j, ..]. */
  scatterAdd(shape: Shape, axis: number, index: NDArray, src: NDArray): NDArray;
  /** torch.index_select: rows `indices` (1-D int32) of `a` along `axis`. */
  indexSelect(a: NDArray, axis: number, indices: NDArray): NDArray;
  /** The adjoint of indexSelect: zeros(shape), then out[.., indices[j], ..] += src[.., j, ..]. */
  indexAdd(shape: Shape, axis: number, indices: NDArray, src: NDArray): NDArray;

  /** Releases device memory held by `t` (a no-op where the garbage collector owns storage). */
  dispose?(t: NDArray): void;

  /**
   * Optional capture (cpu): between beginCapture and endCapture every kernel runs as usual and is also
   * recorded, with its buffers, on a tape that `replay()` reruns. `plan` places the buffers as an earlier
   * capture of the same step planned; `keep` lists the results that must outlive the tape's kernels.
   * See backends/cpu/capture.ts.
   */
  beginCapture?(plan?: MemoryPlan): void;
  endCapture?(keep?: readonly NDArray[]): CapturedKernels;
}

/** Where a captured step's buffers go (opaque to callers: produced by one capture, consumed by the next). */
export interface MemoryPlan {
  readonly bytes: number;
}

/** A recorded sequence of kernels (the cpu backend's KernelTape). */
export interface CapturedKernels {
  /** Reruns every recorded kernel, in order, on the same buffers. */
  replay(): void;
  /** A replay with each kernel timed, in tape order. */
  profile(): { label: string; ms: number }[];
  /** Why replaying would be wrong (the host read a result during capture), or null. */
  readonly hostDependent: string | null;
  readonly kernels: readonly unknown[];
  /** Bytes of memory the tape's buffers hold. */
  readonly bytes: number;
  /** A plan that packs this tape's buffers by lifetime, for a second capture of the same step. */
  plan(): MemoryPlan;
  /** Frees the tape's memory (it must be the last capture made); the tape cannot run after. */
  release(): void;
}
