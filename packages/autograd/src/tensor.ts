/**
 * The differentiable Tensor: a value from @grok/tensor plus what reverse-mode autodiff needs —
 * `requiresGrad`, the accumulated `.grad`, and the graph node recording how it was computed.
 *
 * Ops (in ops/*.ts) compute their value with @grok/tensor kernels and, when grad mode is on and an input
 * requires grad, attach a node whose backward rule maps the output's gradient to its inputs' gradients.
 */
import * as T from '@grok/tensor';
import { noteGradient } from './compile.js';
import { NDArray } from '@grok/tensor';
import { type GraphNode, runBackward } from './graph.js';
import * as elementwise from './ops/elementwise.js';
import * as indexing from './ops/indexing.js';
import * as linalg from './ops/matmul.js';
import * as nn from './ops/nn.js';
import * as reduce from './ops/reduce.js';
import * as shape from './ops/shape.js';

type Operand = Tensor | number;

export class Tensor {
  /** The data. A parameter's values change in place (in-place.ts); no other tensor's ever do. */
  value: NDArray;
  /** Whether gradients flow to (and accumulate in) this tensor. */
  requiresGrad: boolean;
  /** The accumulated gradient after backward(), same shape and dtype; null before. */
  grad: Tensor | null = null;
  /** How this tensor was computed; null for leaves and after the graph is released. */
  node: GraphNode | null = null;
  /**
   * Set when backward() released this tensor's node. Backpropagating through it again is an error: it would
   * otherwise be taken for a leaf, silently soaking up gradient that its inputs never receive.
   */
  released = false;

  constructor(value: NDArray, requiresGrad = false) {
    if (!(value instanceof NDArray)) throw new Error('Tensor: value must be an @grok/tensor NDArray');
    this.value = value;
    this.requiresGrad = requiresGrad;
  }

  get shape(): readonly number[] { return this.value.shape; }
  get dtype(): T.DType { return this.value.dtype; }
  get size(): number { return this.value.size; }
  get ndim(): number { return this.value.ndim; }
  /** The elements in row-major order (on cpu the storage itself: read-only). */
  get data(): T.TypedArray { return this.value.data; }
  /** True for tensors made by the user rather than by an op. */
  get isLeaf(): boolean { return this.node === null && !this.released; }

  toArray(): T.NestedArray { return this.value.toArray(); }
  item(): number { return this.value.item(); }
  toString(): string {
    const s = this.value.toString();
    return this.requiresGrad ? `${s.slice(0, -1)}, requiresGrad=true)` : s;
  }

  /**
   * Backpropagates from this tensor. A scalar needs no seed (it is 1); otherwise pass the upstream
   * gradient, of this tensor's shape. Gradients add up across calls until zeroGrad(). The graph is released
   * afterwards, so backpropagating through it again throws, unless this call passes `retainGraph: true`.
   */
  backward(seed?: Tensor | NDArray, options: { retainGraph?: boolean } = {}): void {
    if (!this.requiresGrad) {
      throw new Error('backward: this tensor does not require grad (no input of its graph has requiresGrad)');
    }
    let g: NDArray;
    if (seed === undefined) {
      if (this.size !== 1) {
        throw new Error(`backward: a seed gradient is needed for a non-scalar output of shape ${T.formatShape(this.shape)}`);
      }
      g = T.onesLike(this.value);
    } else {
      g = seed instanceof Tensor ? seed.value : seed;
      if (!T.shapesEqual(g.shape, this.shape) || g.dtype !== this.dtype) {
        throw new Error(
          `backward: seed ${g.dtype}${T.formatShape(g.shape)} does not match output ${this.dtype}${T.formatShape(this.shape)}`,
        );
      }
    }
    runBackward(this, g, options.retainGraph ?? false);
  }

  /** Adds `g` into `.grad` (used by backward on leaves). */
  accumulateGrad(g: NDArray): void {
    noteGradient(this);
    if (this.grad) {
      this.grad = new Tensor(T.add(this.grad.value, g.dtype === this.dtype ? g : T.cast(g, this.dtype)));
      return;
    }
    // The first gradient is stored as a fresh copy: the same tensor can reach several leaves (x + y sends g
    // to both) or be the caller's seed, and optimizers may update a .grad in place. (x·1 keeps −0.)
    this.grad = new Tensor(g.dtype === this.dtype ? T.mul(g, 1) : T.cast(g, this.dtype));
  }

  zeroGrad(): void {
    this.grad = null;
  }

  /** The same value, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.value);
  }

  /** Sets requiresGrad and returns this (chainable, like PyTorch's requires_grad_). */
  requiresGrad_(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }

  // Elementwise
  add(b: Operand): Tensor { return elementwise.add(this, b); }
  sub(b: Operand): Tensor { return elementwise.sub(this, b); }
  mul(b: Operand): Tensor { return elementwise.mul(this, b); }
  div(b: Operand): Tensor { return elementwise.div(this, b); }
  pow(b: Operand): Tensor { return elementwise.pow(this, b); }
  maximum(b: Operand): Tensor { return elementwise.maximum(this, b); }
  minimum(b: Operand): Tensor { return elementwise.minimum(this, b); }
  neg(): Tensor { return elementwise.neg(this); }
  exp(): Tensor { return elementwise.exp(this); }
  log(): Tensor { return elementwise.log(this); }
  sqrt(): Tensor { return elementwise.sqrt(this); }
  square(): Tensor { return elementwise.square(this); }
  abs(): Tensor { return elementwise.abs(this); }
  sign(): Tensor { return elementwise.sign(this); }
  relu(): Tensor { return elementwise.relu(this); }
  gelu(): Tensor { return elementwise.gelu(this); }
  tanh(): Tensor { return elementwise.tanh(this); }
  sigmoid(): Tensor { return elementwise.sigmoid(this); }
  sin(): Tensor { return elementwise.sin(this); }
  cos(): Tensor { return elementwise.cos(this); }
  // Comparisons (not differentiable: the result never requires grad)
  eq(b: Operand): Tensor { return elementwise.eq(this, b); }
  ne(b: Operand): Tensor { return elementwise.ne(this, b); }
  lt(b: Operand): Tensor { return elementwise.lt(this, b); }
  le(b: Operand): Tensor { return elementwise.le(this, b); }
  gt(b: Operand): Tensor { return elementwise.gt(this, b); }
  ge(b: Operand): Tensor { return elementwise.ge(this, b); }
  // Reductions
  sum(axis?: number | readonly number[], keepdim = false): Tensor { return reduce.sum(this, axis, keepdim); }
  mean(axis?: number | readonly number[], keepdim = false): Tensor { return reduce.mean(this, axis, keepdim); }
  max(axis?: number, keepdim = false): Tensor { return reduce.max(this, axis, keepdim); }
  min(axis?: number, keepdim = false): Tensor { return reduce.min(this, axis, keepdim); }
  argmax(axis?: number, keepdim = false): Tensor { return reduce.argmax(this, axis, keepdim); }
  argmin(axis?: number, keepdim = false): Tensor { return reduce.argmin(this, axis, keepdim); }
  // Linear algebra
  matmul(b: Tensor, flags?: T.MatmulFlags): Tensor { return linalg.matmul(this, b, flags); }
  // Shape
  reshape(...s: number[] | [readonly number[]]): Tensor { return shape.reshape(this, flat(s)); }
  view(...s: number[] | [readonly number[]]): Tensor { return shape.reshape(this, flat(s)); }
  flatten(): Tensor { return shape.reshape(this, [this.size]); }
  transpose(dim0 = -2, dim1 = -1): Tensor { return shape.transpose(this, dim0, dim1); }
  permute(...perm: number[] | [readonly number[]]): Tensor { return shape.permute(this, flat(perm)); }
  unsqueeze(axis: number): Tensor { return shape.unsqueeze(this, axis); }
  squeeze(axis?: number): Tensor { return shape.squeeze(this, axis); }
  slice(starts: readonly number[], ends?: readonly number[]): Tensor { return shape.slice(this, starts, ends); }
  narrow(axis: number, start: number, length: number): Tensor { return shape.narrow(this, axis, start, length); }
  broadcastTo(s: readonly number[]): Tensor { return shape.broadcastTo(this, s); }
  cast(dtype: T.DType): Tensor { return shape.cast(this, dtype); }
  // Indexing
  gather(axis: number, index: Tensor): Tensor { return indexing.gather(this, axis, index); }
  indexSelect(axis: number, indices: Tensor): Tensor { return indexing.indexSelect(this, axis, indices); }
  // Neural-network ops
  softmax(axis = -1): Tensor { return nn.softmax(this, axis); }
  logSoftmax(axis = -1): Tensor { return nn.logSoftmax(this, axis); }
}

function flat(args: number[] | [readonly number[]]): number[] {
  return Array.isArray(args[0]) ? [...(args[0] as readonly number[])] : (args as number[]);
}
