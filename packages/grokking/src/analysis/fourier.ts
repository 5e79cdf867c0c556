/**
 * The real Fourier basis over Z_n and the transforms the analysis uses.
 *
 * Row order (ours; the TransformerLens demo puts sin before cos):
 *   row 0      = 1/√n                              the constant
 *   row 2k − 1 = √(2/n) · cos(2πkx/n)              k = 1 … ⌊(n−1)/2⌋
 *   row 2k     = √(2/n) · sin(2πkx/n)
 *   (n even only) row n − 1 = cos(πx)/√n            the Nyquist term, which has no sin partner
 * The rows are orthonormal, so B·Bᵀ = I and a transform is undone by Bᵀ.
 *
 * Everything is float64, row-major, in plain typed arrays.
 */

/** A row-major float64 matrix. */
export interface Matrix {
  rows: number;
  cols: number;
  /** [rows * cols] */
  data: Float64Array;
}

export function matrix(rows: number, cols: number, data?: Float64Array): Matrix {
  const d = data ?? new Float64Array(rows * cols);
  if (d.length !== rows * cols) throw new Error(`matrix: ${d.length} values for ${rows} × ${cols}`);
  return { rows, cols, data: d };
}

/** ω_k = 2πk/n */
export const omega = (k: number, n: number) => (2 * Math.PI * k) / n;

/** The basis row of cos k and of sin k. */
export const cosRow = (k: number) => 2 * k - 1;
export const sinRow = (k: number) => 2 * k;

/** The frequency a basis row belongs to: 0 for the constant, k for rows 2k−1 and 2k. */
export const frequencyOfRow = (row: number) => Math.ceil(row / 2);

/** Number of non-constant frequencies with a cos/sin pair: ⌊(n−1)/2⌋ (56 for n = 113). */
export const frequencyCount = (n: number) => Math.floor((n - 1) / 2);

const basisCache = new Map<number, Matrix>();

/** B [n, n]: the orthonormal real Fourier basis, rows as documented above. Cached per n. */
export function fourierBasis(n: number): Matrix {
  if (!Number.isInteger(n) || n < 1) throw new Error(`fourierBasis: n must be a positive integer, got ${n}`);
  const cached = basisCache.get(n);
  if (cached) return cached;
  const B = matrix(n, n);
  const d = B.data;
  const c0 = 1 / Math.sqrt(n);
  const c = Math.sqrt(2 / n);
  for (let x = 0; x < n; x++) d[x] = c0;
  for (let k = 1; k <= frequencyCount(n); k++) {
    for (let x = 0; x < n; x++) {
      // (k·x mod n) keeps the angle small, so large k·x loses no precision
      const angle = omega((k * x) % n, n);
      d[cosRow(k) * n + x] = c * Math.cos(angle);
      d[sinRow(k) * n + x] = c * Math.sin(angle);
    }
  }
  if (n % 2 === 0 && n > 1) for (let x = 0; x < n; x++) d[(n - 1) * n + x] = (x % 2 === 0 ? 1 : -1) * c0;
  basisCache.set(n, B);
  return B;
}

/** Names of the basis rows: 'const', 'cos 1', 'sin 1', … */
export function basisLabels(n: number): string[] {
  return Array.from({ length: n }, (_, i) =>
    i === 0 ? 'const' : n % 2 === 0 && i === n - 1 ? `cos ${n / 2}` : `${i % 2 === 1 ? 'cos' : 'sin'} ${frequencyOfRow(i)}`,
  );
}

/** C = A · M: A [r, n], M [n, m] → [r, m] (the i-k-j loop: contiguous inner rows). */
export function matmul(A: Matrix, M: Matrix): Matrix {
  if (A.cols !== M.rows) throw new Error(`matmul: [${A.rows}, ${A.cols}] · [${M.rows}, ${M.cols}]`);
  const out = matrix(A.rows, M.cols);
  const { cols: m } = M;
  // the arrays in locals: through `out.data` in the inner loop V8 reloads the property every time (B·[113, 2048]: 43 → 34 ms CPU)
  const [a, x, y] = [A.data, M.data, out.data];
  for (let i = 0; i < A.rows; i++) {
    const o = i * m;
    for (let k = 0; k < A.cols; k++) {
      const aik = a[i * A.cols + k]!;
      if (aik === 0) continue;
      const mk = k * m;
      for (let j = 0; j < m; j++) y[o + j]! += aik * x[mk + j]!;
    }
  }
  return out;
}

/** Mᵀ */
export function transpose(M: Matrix): Matrix {
  const out = matrix(M.cols, M.rows);
  for (let i = 0; i < M.rows; i++) for (let j = 0; j < M.cols; j++) out.data[j * M.rows + i] = M.data[i * M.cols + j]!;
  return out;
}

/**
 * 1D transform over the first axis: B · M. M [n, channels] (e.g. W_E[:p] [p, d_model]) → [n, channels],
 * row i = the component of basis row i in every channel.
 */
export function fourier1d(M: Matrix): Matrix {
  return matmul(fourierBasis(M.rows), M);
}

/**
 * 2D transform over (a, b) per channel: F[:, :, ch] = B · M[:, :, ch] · Bᵀ.
 * x: [n*n, channels] with row a·n + b (the analysis's lexicographic order) → [n*n, channels], row i·n + j =
 * the coefficient of (basis row i over a) ⊗ (basis row j over b).
 */
export function fourier2d(x: Float64Array, n: number, channels: number): Float64Array {
  if (x.length !== n * n * channels) throw new Error(`fourier2d: ${x.length} values, expected ${n}·${n}·${channels}`);
  return sandwich(fourierBasis(n), x, n, channels);
}

/** The inverse of fourier2d: Bᵀ · F · B per channel (B is orthogonal). */
export function inverseFourier2d(F: Float64Array, n: number, channels: number): Float64Array {
  return sandwich(transpose(fourierBasis(n)), F, n, channels);
}

/** M · X[:, :, ch] · Mᵀ for every channel: x [n, n, channels], M [n, n]. */
function sandwich(M: Matrix, x: Float64Array, n: number, channels: number): Float64Array {
  // Over the first axis: G[i, (b, ch)] = Σ_a M[i, a] · x[a, (b, ch)]        [n, n*channels]
  const G = matmul(M, matrix(n, n * channels, x)).data;
  // Over the second: out[i, j, ch] = Σ_b G[i, b, ch] · M[j, b]             [n, n, channels]
  const out = new Float64Array(n * n * channels);
  for (let i = 0; i < n; i++) {
    for (let b = 0; b < n; b++) {
      const g = (i * n + b) * channels;
      for (let j = 0; j < n; j++) {
        const w = M.data[j * n + b]!;
        const o = (i * n + j) * channels;
        for (let ch = 0; ch < channels; ch++) out[o + ch]! += w * G[g + ch]!;
      }
    }
  }
  return out;
}

/** Euclidean norm of each row of M → [rows]. */
export function rowNorms(M: Matrix): Float64Array {
  const out = new Float64Array(M.rows);
  for (let i = 0; i < M.rows; i++) {
    let s = 0;
    for (let j = 0; j < M.cols; j++) s += M.data[i * M.cols + j]! ** 2;
    out[i] = Math.sqrt(s);
  }
  return out;
}

/**
 * Per-frequency norms from per-row norms: entry 0 = the constant row, entry k = √(‖cos k‖² + ‖sin k‖²).
 * Length ⌊n/2⌋ + 1.
 */
export function frequencyNorms(componentNorms: Float64Array): Float64Array {
  const n = componentNorms.length;
  const out = new Float64Array(Math.floor(n / 2) + 1);
  out[0] = componentNorms[0]!;
  for (let k = 1; k <= frequencyCount(n); k++) out[k] = Math.hypot(componentNorms[cosRow(k)]!, componentNorms[sinRow(k)]!);
  if (n % 2 === 0 && n > 1) out[n / 2] = componentNorms[n - 1]!;
  return out;
}

/**
 * Unit directions over the n² pairs (row a·n + b) for frequency k of the sum a + b:
 *   cos(ω_k(a+b)) = cos_a cos_b − sin_a sin_b,   sin(ω_k(a+b)) = sin_a cos_b + cos_a sin_b.
 * Each has squared norm n²/2 over Z_n², so the unit vectors are √2/n · cos(…) and √2/n · sin(…).
 * Both depend on (a, b) only through s = (a + b) mod n: returned as functions of s, [n] each.
 */
export function sumDirections(k: number, n: number): { cos: Float64Array; sin: Float64Array } {
  const scale = Math.SQRT2 / n;
  const cos = new Float64Array(n);
  const sin = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    const angle = omega((k * s) % n, n);
    cos[s] = scale * Math.cos(angle);
    sin[s] = scale * Math.sin(angle);
  }
  return { cos, sin };
}
