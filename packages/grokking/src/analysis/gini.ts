/**
 * The Gini coefficient of non-negative numbers: 0 when all are equal, → 1 when one holds everything.
 * A sparsity measure of Fourier norms (the paper's Gini of the W_E and W_L Fourier components).
 *
 *   c sorted ascending, i = 1 … N:   G = 2·Σ i·c(i) / (N·Σ c) − (N + 1)/N
 */
export function gini(values: ArrayLike<number>): number {
  const c = Float64Array.from(values).sort();
  const N = c.length;
  if (N === 0) throw new Error('gini: no values');
  let total = 0;
  let weighted = 0;
  for (let i = 0; i < N; i++) {
    if (!(c[i]! >= 0)) throw new Error(`gini: values must be non-negative, got ${c[i]}`);
    total += c[i]!;
    weighted += (i + 1) * c[i]!;
  }
  if (total === 0) return 0;
  return (2 * weighted) / (N * total) - (N + 1) / N;
}
