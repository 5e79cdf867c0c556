/**
 * The embedding bag (ops.ts embeddingBag and its two adjoints): the reference kernels against the composition
 * that backends without them use (indexSelect, mul, sum, indexAdd), in float64 and float32, and the adjoint
 * identity ⟨g, bag(T, w)⟩ = ⟨dTable(w, g), T⟩ = ⟨dWeight(T, g), w⟩ that makes them each other's gradients.
 */
import { describe, expect, it } from 'vitest';
import {
  type DType, type NDArray, ReferenceBackend, embeddingBag, embeddingBagTableGrad, embeddingBagWeightGrad, getBackend, tensor,
} from '@grok/tensor';
import { atEachThreadCount, expectClose, firstDifferences, randomValues, size } from './helpers.js';

const kernels = new ReferenceBackend();
// The same backend without the three kernels: ops.ts then composes them from other ops.
const composed = Object.assign(new ReferenceBackend(), {
  embeddingBag: undefined, embeddingBagWeightGrad: undefined, embeddingBagTableGrad: undefined,
});

const B = 9;
const R = 5;
const N = 6;
const D = 19; // not a multiple of 16
const indexValues = Array.from({ length: B * R }, (_, k) => (k * 7 + (k >> 2)) % N); // repeats within and across bags

function inputs(backend: ReferenceBackend, dtype: DType, width = D) {
  const f = (shape: number[], seed: number) => tensor(randomValues(size(shape), seed), { shape, dtype, backend });
  return {
    table: f([N, width], 1),
    weight: f([B, R], 2),
    g: f([B, width], 3),
    index: tensor(indexValues, { shape: [B, R], dtype: 'int32', backend }),
  };
}

const dot = (x: NDArray, y: NDArray) => Array.from(x.data).reduce((s, v, i) => s + v * y.data[i]!, 0);

describe('embeddingBag', () => {
  for (const [dtype, tol] of [['float64', 1e-13], ['float32', 2e-6]] as const) {
    it(`${dtype}: the kernels equal the composition of indexSelect, mul, sum and indexAdd`, () => {
      const k = inputs(kernels, dtype);
      const c = inputs(composed, dtype);
      expectClose(embeddingBag(k.table, k.index, k.weight).data, embeddingBag(c.table, c.index, c.weight).data, tol);
      expectClose(embeddingBagWeightGrad(k.table, k.index, k.g).data, embeddingBagWeightGrad(c.table, c.index, c.g).data, tol);
      expectClose(embeddingBagTableGrad(N, k.index, k.weight, k.g).data, embeddingBagTableGrad(N, c.index, c.weight, c.g).data, tol);
    });
  }

  // 48: whole 16-column steps; 19, 113: steps and a tail of single columns; 7: the tail alone.
  it.each([48, 19, 113, 7])('the cpu backend (wasm SIMD on staged copies, %i columns) gives the reference loops\' float32 bits', (width) => {
    const cpu = inputs(getBackend() as ReferenceBackend, 'float32', width);
    const ref = inputs(kernels, 'float32', width);
    const same = (a: NDArray, b: NDArray) => expect(Array.from(a.data)).toEqual(Array.from(b.data));
    same(embeddingBag(cpu.table, cpu.index, cpu.weight), embeddingBag(ref.table, ref.index, ref.weight));
    same(embeddingBagWeightGrad(cpu.table, cpu.index, cpu.g), embeddingBagWeightGrad(ref.table, ref.index, ref.g));
    same(embeddingBagTableGrad(N, cpu.index, cpu.weight, cpu.g), embeddingBagTableGrad(N, ref.index, ref.weight, ref.g));
  });

  it.each([128, 113])('split across the threads (by bags, and by destination rows for the table gradient), %i columns: the same bits', async (width) => {
    // Big enough to split: 3,000 bags of 4 rows, many looking up row 0 (uneven work per row).
    const [bags, perBag, rows] = [3000, 4, 40];
    const f = (shape: number[], seed: number, backend: ReferenceBackend) => tensor(randomValues(size(shape), seed), { shape, backend });
    const idx = Array.from({ length: bags * perBag }, (_, k) => (k % 3 === 0 ? 0 : (k * 13 + (k >> 5)) % rows));
    const make = (backend: ReferenceBackend) => ({
      table: f([rows, width], 4, backend), weight: f([bags, perBag], 5, backend), g: f([bags, width], 6, backend),
      index: tensor(idx, { shape: [bags, perBag], dtype: 'int32', backend }),
    });
    const ref = make(kernels);
    const want = [embeddingBag(ref.table, ref.index, ref.weight), embeddingBagWeightGrad(ref.table, ref.index, ref.g), embeddingBagTableGrad(rows, ref.index, ref.weight, ref.g)];
    await atEachThreadCount([1, 2, 3], (threads) => {
      const cpu = make(getBackend() as ReferenceBackend);
      const got = [embeddingBag(cpu.table, cpu.index, cpu.weight), embeddingBagWeightGrad(cpu.table, cpu.index, cpu.g), embeddingBagTableGrad(rows, cpu.index, cpu.weight, cpu.g)];
      expect(firstDifferences(got.map((x) => x.data), want.map((x) => x.data)), `${threads} threads`).toEqual([-1, -1, -1]);
    });
  });

  it('the adjoints: ⟨g, bag(T, w)⟩ = ⟨dTable, T⟩ = ⟨dWeight, w⟩ (float64)', () => {
    const { table, index, weight, g } = inputs(kernels, 'float64');
    const forward = dot(g, embeddingBag(table, index, weight));
    expect(dot(embeddingBagTableGrad(N, index, weight, g), table)).toBeCloseTo(forward, 12);
    expect(dot(embeddingBagWeightGrad(table, index, g), weight)).toBeCloseTo(forward, 12);
  });

  it('names bad shapes and rows', () => {
    const { table, index, weight, g } = inputs(kernels, 'float32');
    expect(() => embeddingBagWeightGrad(table, index, weight)).toThrow(/g \[9, 5\] must be \[9, 19\]/);
    expect(() => embeddingBagTableGrad(N - 1, index, weight, g)).toThrow(/index 5 is out of range for the table's 5 rows/);
    expect(() => embeddingBagTableGrad(0, index, weight, g)).toThrow(/rows must be a positive integer/);
    expect(() => embeddingBag(table.reshape([N * D]), index, weight)).toThrow(/table must be \[rows, D\]/);
  });
});
