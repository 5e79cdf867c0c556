/**
 * Tensor: an n-dimensional array of one dtype, stored contiguously in row-major order by a backend.
 *
 * Tensors are values: every op returns a new tensor. The only in-place updates are backend kernels whose
 * names say so (the optimizer's `adamwUpdate`). `reshape` shares storage, which is safe because storage is
 * never mutated through a tensor.
 */
import type { Backend } from './backend.js';
import type { DType, TypedArray } from './dtype.js';
import { formatTensor } from './format.js';
import * as ops from './ops.js';
import { type Shape, sizeOf } from './shape.js';

export class Tensor {
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
   * in-place kernel (`adamwUpdate`) is written on a backend whose kernels cannot write into their inputs
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

  // Convenience methods: each forwards to the function of the same name in ops.ts.
  add(b: Tensor | number): Tensor { return ops.add(this, b); }
  sub(b: Tensor | number): Tensor { return ops.sub(this, b); }
  mul(b: Tensor | number): Tensor { return ops.mul(this, b); }
  div(b: Tensor | number): Tensor { return ops.div(this, b); }
  pow(b: Tensor | number): Tensor { return ops.pow(this, b); }
  neg(): Tensor { return ops.neg(this); }
  exp(): Tensor { return ops.exp(this); }
  log(): Tensor { return ops.log(this); }
  sqrt(): Tensor { return ops.sqrt(this); }
  matmul(b: Tensor, options?: ops.MatmulFlags): Tensor { return ops.matmul(this, b, options); }
  sum(axis?: number | readonly number[], keepdim = false): Tensor { return ops.sum(this, axis, keepdim); }
  mean(axis?: number | readonly number[], keepdim = false): Tensor { return ops.mean(this, axis, keepdim); }
  max(axis?: number, keepdim = false): Tensor { return ops.max(this, axis, keepdim); }
  min(axis?: number, keepdim = false): Tensor { return ops.min(this, axis, keepdim); }
  argmax(axis?: number, keepdim = false): Tensor { return ops.argmax(this, axis, keepdim); }
  reshape(...shape: number[] | [readonly number[]]): Tensor { return ops.reshape(this, flatShape(shape)); }
  view(...shape: number[] | [readonly number[]]): Tensor { return ops.reshape(this, flatShape(shape)); }
  transpose(dim0 = -2, dim1 = -1): Tensor { return ops.transpose(this, dim0, dim1); }
  permute(...perm: number[] | [readonly number[]]): Tensor { return ops.permute(this, flatShape(perm)); }
  cast(dtype: DType): Tensor { return ops.cast(this, dtype); }
}

export type NestedArray = number | NestedArray[];

function flatShape(args: number[] | [readonly number[]]): number[] {
  return Array.isArray(args[0]) ? [...(args[0] as readonly number[])] : (args as number[]);
}
