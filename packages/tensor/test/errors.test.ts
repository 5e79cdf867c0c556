import { describe, expect, it } from 'vitest';
import * as T from '@grok/tensor';
import { tensor, zeros } from '@grok/tensor';

/** The thrown value is an Error whose message contains every fragment. */
function expectError(fn: () => unknown, ...fragments: string[]) {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected a throw mentioning ${fragments.join(', ')}`).toBeInstanceOf(Error);
  for (const f of fragments) expect((thrown as Error).message).toContain(f);
}

describe('errors name the op and the shapes', () => {
  const a23 = zeros([2, 3]);

  it('binary ops: shapes that do not broadcast', () => {
    for (const [name, op] of [['add', T.add], ['sub', T.sub], ['mul', T.mul], ['div', T.div], ['pow', T.pow], ['maximum', T.maximum], ['eq', T.eq], ['lt', T.lt]] as const) {
      expectError(() => op(a23, zeros([4])), `${name}:`, '[2, 3]', '[4]');
    }
    expectError(() => T.add(zeros([4, 1, 3]), zeros([2, 2])), 'add:', '[4, 1, 3]', '[2, 2]');
    expectError(() => a23.add(zeros([3, 2])), 'add:', '[2, 3] and [3, 2]');
  });

  it('mixing dtypes', () => {
    expectError(() => T.add(a23, zeros([2, 3], { dtype: 'float64' })), 'add: dtype mismatch', 'float32[2, 3]', 'float64[2, 3]');
    expectError(() => T.mul(zeros([3], { dtype: 'int32' }), zeros([3])), 'mul: dtype mismatch', 'int32[3]', 'float32[3]');
    expectError(() => T.matmul(a23, zeros([3, 2], { dtype: 'float64' })), 'matmul: dtype mismatch');
    expectError(() => T.concat([a23, zeros([2, 3], { dtype: 'int32' })]), 'concat: dtype mismatch');
    expectError(() => T.where(zeros([2]), zeros([2]), zeros([2], { dtype: 'int32' })), 'where: dtype mismatch');
    expectError(() => T.add(zeros([2], { dtype: 'int32' }), 1.5), 'add:', '1.5', 'int32');
  });

  it('matmul', () => {
    expectError(() => T.matmul(a23, a23), 'matmul: inner dimensions differ (3 vs 2)', '[2, 3] and [2, 3]');
    expectError(() => T.matmul(zeros([3]), a23), 'matmul: both operands need at least 2 dimensions', '[3]');
    expectError(() => T.matmul(zeros([2, 2, 3]), zeros([3, 3, 4])), 'matmul:', '[2, 2, 3]', '[3, 3, 4]');
  });

  it('reshape, squeeze, permute, slice', () => {
    expectError(() => T.reshape(a23, [4, 2]), 'reshape: cannot reshape [2, 3] (6 elements) to [4, 2]');
    expectError(() => T.reshape(a23, [4, -1]), 'reshape:', '[2, 3]', '[4, -1]');
    expectError(() => T.squeeze(a23, 0), 'squeeze:', '[2, 3]');
    expectError(() => T.permute(a23, [0]), 'permute:', '[2, 3]');
    expectError(() => T.slice(a23, [0, 0, 0]), 'slice:', '[2, 3]');
    expectError(() => T.stack([a23, zeros([3, 2])]), 'stack:', '[2, 3]', '[3, 2]');
    expectError(() => T.broadcastTo(a23, [3, 3]), 'broadcastTo:', '[2, 3]', '[3, 3]');
  });

  it('axes out of range', () => {
    expectError(() => T.sum(a23, 2), 'sum: axis 2 is out of range for a tensor with 2 dimension(s)');
    expectError(() => T.softmax(a23, -3), 'softmax: axis -3');
    expectError(() => T.transpose(a23, 0, 2), 'transpose: axis 2');
    expectError(() => T.concat([a23, a23], 2), 'concat: axis 2');
    expectError(() => T.unsqueeze(a23, -4), 'unsqueeze: axis -4');
  });

  it('indices out of range', () => {
    const idx = (v: number[]) => tensor(v, { dtype: 'int32' });
    expectError(() => T.indexSelect(a23, 0, idx([0, 2])), 'indexSelect: index 2 is out of range', 'size 2');
    expectError(() => T.indexSelect(a23, 1, idx([-1])), 'indexSelect: index -1 is out of range');
    expectError(() => T.gather(a23, 0, tensor([[0, 5, 0]], { dtype: 'int32' })), 'gather: index 5 is out of range');
    expectError(() => T.indexAdd([2, 3], 0, idx([7]), zeros([1, 3])), 'indexAdd: index 7 is out of range');
    expectError(() => T.narrow(a23, 1, 2, 2), 'narrow:', '[2, 3]');
    expectError(() => tensor([1, 2]).item(), 'item:', '[2]', '2 elements');
  });

  it('unknown dtypes and bad shapes at creation', () => {
    expectError(() => zeros([2], { dtype: 'float16' as never }), "unknown dtype 'float16'", 'float32, float64, int32');
    expectError(() => tensor([1], { dtype: 'bool' as never }), "unknown dtype 'bool'");
    expectError(() => T.cast(a23, 'int64' as never), "cast: unknown dtype 'int64'");
    expectError(() => zeros([2, -1]), 'full: invalid shape [2, -1]');
    expectError(() => T.randn([2], { dtype: 'int32' }), 'randn:');
    expectError(() => T.arange(0, 1, 0), 'arange: step');
    expectError(() => T.eye(-1), 'eye: invalid shape');
    expectError(() => T.setBackend('tpu'), "setBackend: unknown backend 'tpu'", 'cpu');
  });

  it('non-tensor arguments', () => {
    expectError(() => T.exp([1, 2] as never), 'exp: argument must be an NDArray, got an array');
    expectError(() => T.add(a23, 'x' as never), 'add:', 'got string');
    expectError(() => T.matmul(a23, null as never), 'matmul: b must be an NDArray, got null');
    expectError(() => T.sum({} as never), 'sum: argument must be an NDArray');
  });
});
