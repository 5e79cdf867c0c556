/**
 * NDArray: an n-dimensional array of one dtype, stored contiguously in row-major order by a backend.
 * (@grok/autograd's differentiable `Tensor` wraps one as its `.value`.)
 *
 * NDArrays are values: every op returns a new array. The only in-place updates are the ones whose names say
 * so (`fusedInPlace`, which optimizers update parameters with). `reshape` shares storage, which is safe because storage is
 * never mutated through an NDArray; `clone()` makes a copy that an in-place kernel cannot reach.
 */
import type { Backend } from './backend.js';
import type { DType, TypedArray } from './dtype.js';
import { formatTensor } from './format.js';
import * as ops from './ops.js';
import { type Shape, sizeOf } from './shape.js';

export class NDArray {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly backend: Backend;
  #storage: unknown;

  constructor(storage: unknown, shape: Shape, dtype: DType, backend: Backend) {
    this.#storage = storage;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.backend = backend;
  }

  /** Backend-owned buffer: a typed array on cpu, a texture or array on gpujs. Use `data` to read it. */
  get storage(): unknown {
    return this.#storage;
  }

  /**
   * For backends only: points this tensor at new storage of the same shape and dtype. This is how an
   * in-place kernel (`fused` with targets) is written on a backend whose kernels cannot write into their inputs
   * (gpujs): it computes new buffers, then swaps them in. Tensors made earlier by `reshape` keep the old
   * storage, so they do not see the update.
   */
  replaceStorage(storage: unknown): void {
    this.#storage = storage;
  }

  /** Number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }

  get ndim(): number {
    return this.shape.length;
  }

  /**
   * The elements in row-major order. On cpu this is the storage itself, not a copy: treat it as read-only.
   */
  get data(): TypedArray {
    return this.backend.read(this);
  }

  /** The elements as nested arrays (a plain number for a scalar). */
  toArray(): NestedArray {
    const data = this.data;
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.shape.length) return data[offset]!;
      const n = this.shape[dim]!;
      const stride = sizeOf(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) out.push(build(dim + 1, offset + i * stride));
      return out;
    };
    return build(0, 0);
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor of shape [${this.shape.join(', ')}] has ${this.size} elements, not 1`);
    return this.data[0]!;
  }

  toString(): string {
    return formatTensor(this);
  }

  /**
   * A copy on storage of its own, on `backend` (by default this array's). An in-place kernel applied to
   * the original does not reach the copy: this is how state dicts and checkpoints keep a snapshot.
   */
  clone(backend: Backend = this.backend): NDArray {
    return backend.fromArray(this.backend.read(this).slice(), this.shape, this.dtype);
  }

  // Convenience methods: each forwards to the function of the same name in ops.ts.
  add(b: NDArray | number): NDArray { return ops.add(this, b); }
  sub(b: NDArray | number): NDArray { return ops.sub(this, b); }
  mul(b: NDArray | number): NDArray { return ops.mul(this, b); }
  div(b: NDArray | number): NDArray { return ops.div(this, b); }
  pow(b: NDArray | number): NDArray { return ops.pow(this, b); }
  neg(): NDArray { return ops.neg(this); }
  exp(): NDArray { return ops.exp(this); }
  log(): NDArray { return ops.log(this); }
  sqrt(): NDArray { return ops.sqrt(this); }
  matmul(b: NDArray, options?: ops.MatmulFlags): NDArray { return ops.matmul(this, b, options); }
  sum(axis?: number | readonly number[], keepdim = false): NDArray { return ops.sum(this, axis, keepdim); }
  mean(axis?: number | readonly number[], keepdim = false): NDArray { return ops.mean(this, axis, keepdim); }
  max(axis?: number, keepdim = false): NDArray { return ops.max(this, axis, keepdim); }
  min(axis?: number, keepdim = false): NDArray { return ops.min(this, axis, keepdim); }
  argmax(axis?: number, keepdim = false): NDArray { return ops.argmax(this, axis, keepdim); }
  reshape(...shape: number[] | [readonly number[]]): NDArray { return ops.reshape(this, flatShape(shape)); }
  view(...shape: number[] | [readonly number[]]): NDArray { return ops.reshape(this, flatShape(shape)); }
  transpose(dim0 = -2, dim1 = -1): NDArray { return ops.transpose(this, dim0, dim1); }
  permute(...perm: number[] | [readonly number[]]): NDArray { return ops.permute(this, flatShape(perm)); }
  cast(dtype: DType): NDArray { return ops.cast(this, dtype); }
}

export type NestedArray = number | NestedArray[];

function flatShape(args: number[] | [readonly number[]]): number[] {
  return Array.isArray(args[0]) ? [...(args[0] as readonly number[])] : (args as number[]);
}
