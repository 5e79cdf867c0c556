/**
 * Indexing ops and their adjoints: gather ↔ scatterAdd, indexSelect ↔ indexAdd. The gradient of a gather
 * is a scatter-add of the gradient (and vice versa): repeated indices accumulate.
 */
import * as T from '@grok/tensor';
import type { Tensor } from '../tensor.js';
import { assertTensor, record } from './record.js';

export function gather(a: Tensor, axis: number, index: Tensor): Tensor {
  assertTensor(a, 'gather');
  assertTensor(index, 'gather', 'index');
  const out = T.gather(a.value, axis, index.value);
  const ax = T.normalizeAxis(axis, a.ndim, 'gather');
  return record('gather', out, [a], (g) => [T.scatterAdd(a.shape, ax, index.value, g)]);
}

export function scatterAdd(shape: readonly number[], axis: number, index: Tensor, src: Tensor): Tensor {
  assertTensor(index, 'scatterAdd', 'index');
  assertTensor(src, 'scatterAdd', 'src');
  const out = T.scatterAdd(shape, axis, index.value, src.value);
  const ax = T.normalizeAxis(axis, shape.length, 'scatterAdd');
  return record('scatterAdd', out, [src], (g) => [T.gather(g, ax, index.value)]);
}

/** Rows `indices` of `a` along `axis`. An embedding lookup is indexSelect(W_E, 0, tokens). */
export function indexSelect(a: Tensor, axis: number, indices: Tensor): Tensor {
  assertTensor(a, 'indexSelect');
  assertTensor(indices, 'indexSelect', 'indices');
  const out = T.indexSelect(a.value, axis, indices.value);
  const ax = T.normalizeAxis(axis, a.ndim, 'indexSelect');
  return record('indexSelect', out, [a], (g) => [T.indexAdd(a.shape, ax, indices.value, g)]);
}

export function indexAdd(shape: readonly number[], axis: number, indices: Tensor, src: Tensor): Tensor {
  assertTensor(indices, 'indexAdd', 'indices');
  assertTensor(src, 'indexAdd', 'src');
  const out = T.indexAdd(shape, axis, indices.value, src.value);
  const ax = T.normalizeAxis(axis, shape.length, 'indexAdd');
  return record('indexAdd', out, [src], (g) => [T.indexSelect(g, ax, indices.value)]);
}

/**
 * out[b, :] = Σ_r weight[b, r] · table[index[b, r], :]: table [N, D], int32 index [B, R], weight [B, R] →
 * [B, D]. A weighted sum of looked-up rows (torch's embedding_bag with per_sample_weights, mode 'sum'),
 * differentiable in both the table and the weights:
 *   d table[n]     = Σ_{index[b, r] = n} weight[b, r] · g[b]     (a weighted scatter-add)
 *   d weight[b, r] = table[index[b, r]] · g[b]                  (a dot product per looked-up row)
 */
export function embeddingBag(table: Tensor, index: Tensor, weight: Tensor): Tensor {
  assertTensor(table, 'embeddingBag', 'table');
  assertTensor(index, 'embeddingBag', 'index');
  assertTensor(weight, 'embeddingBag', 'weight');
  const out = T.embeddingBag(table.value, index.value, weight.value);
  return record('embeddingBag', out, [table, weight], (g) => [
    table.requiresGrad ? T.embeddingBagTableGrad(table.shape[0]!, index.value, weight.value, g) : null,
    weight.requiresGrad ? T.embeddingBagWeightGrad(table.value, index.value, g) : null,
  ]);
}
