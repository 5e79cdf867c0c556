/** Differentiable tensors from data, constants and seeded draws: @grok/tensor's creators plus `requiresGrad`. */
import * as T from '@grok/tensor';
import { NDArray } from '@grok/tensor';
import { Tensor } from './tensor.js';

export interface GradOptions {
  requiresGrad?: boolean;
}

const wrap = (value: NDArray, options: GradOptions) => new Tensor(value, options.requiresGrad ?? false);

export function tensor(
  values: T.NestedArray | ArrayLike<number>,
  options: T.CreateOptions & GradOptions & { shape?: T.Shape } = {},
): Tensor {
  return wrap(T.tensor(values, options), options);
}
export const full = (shape: T.Shape, value: number, options: T.CreateOptions & GradOptions = {}) =>
  wrap(T.full(shape, value, options), options);
export const zeros = (shape: T.Shape, options: T.CreateOptions & GradOptions = {}) => wrap(T.zeros(shape, options), options);
export const ones = (shape: T.Shape, options: T.CreateOptions & GradOptions = {}) => wrap(T.ones(shape, options), options);
export const zerosLike = (t: Tensor, options: GradOptions = {}) => wrap(T.zerosLike(t.value), options);
export const onesLike = (t: Tensor, options: GradOptions = {}) => wrap(T.onesLike(t.value), options);
export const arange = (start: number, end?: number, step = 1, options: T.CreateOptions & GradOptions = {}) =>
  wrap(T.arange(start, end, step, options), options);
export const eye = (n: number, m = n, options: T.CreateOptions & GradOptions = {}) => wrap(T.eye(n, m, options), options);
export const randn = (shape: T.Shape, options: Parameters<typeof T.randn>[1] & GradOptions = {}) =>
  wrap(T.randn(shape, options), options);
export const rand = (shape: T.Shape, options: Parameters<typeof T.rand>[1] & GradOptions = {}) =>
  wrap(T.rand(shape, options), options);
export const randint = (low: number, high: number, shape: T.Shape, options: T.RandomOptions = {}) =>
  wrap(T.randint(low, high, shape, options), {});
export const randperm = (n: number, options: T.RandomOptions = {}) => wrap(T.randperm(n, options), {});
