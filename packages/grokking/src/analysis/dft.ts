/**
 * The discrete Fourier transform of any length, built on fft.js (a radix-4 FFT for power-of-two sizes).
 *
 *   X[k] = Σ_{x=0}^{n−1} f[x] · e^{−2πi·kx/n}
 *
 * Power-of-two n: fft.js directly. Any other n (113 is prime): Bluestein's chirp-z algorithm, which turns
 * the DFT into a convolution that a power-of-two FFT computes:
 *   kx = (k² + x² − (k − x)²) / 2
 *   ⇒ X[k] = conj(w[k]) · Σ_x (f[x] · conj(w[x])) · w[k − x],   with the chirp w[m] = e^{iπm²/n}
 * The sum is a (linear) convolution of a[x] = f[x]·conj(w[x]) with w over m ∈ (−n, n), so zero-padding to
 * a power of two M ≥ 2n − 1 and multiplying FFTs gives it exactly (up to rounding).
 *
 * For real f the real Fourier basis of fourier.ts carries the same information:
 *   (B·f)[0] = X[0]/√n,   (B·f)[2k−1] = √(2/n)·Re X[k],   (B·f)[2k] = −√(2/n)·Im X[k].
 *
 * Where the analysis uses it (CPU ms on real activations of a p = 113 checkpoint, medians of 15, the
 * 2-core machine shared; all forms agree to ≈ 1e-15 of the largest coefficient):
 *   B·M for M [113, 2048] (the neuron line sums):  basis product (fourier1d) 34.9,  the same folded
 *     (x with n − x, half the multiply-adds) 7.2,  realFourierColumns (fft.js) 6.5      → fft.js
 *   the whole 2D transform of 32 neurons:  basis (fourier2d) 123,  fft.js row-column 24.5
 * fft.js wins both, but the analysis needs no 2D transform of the neurons any more (neurons.ts takes the
 * 8 terms of each frequency from 4 line sums), nor of the logits (logits.ts sums over a + b). The one
 * 2D transform left, of the attention pattern (attention.ts, 12 channels, once per analysis: ≈ 55 ms),
 * stays the readable basis form. The basis forms stay the reference the tests hold these to.
 */
import FFTModule from 'fft.js';
import { matrix, type Matrix } from './fourier.js';

/** The part of fft.js we use (its shipped typings are all `any`). Arrays are interleaved [re, im, re, im, …]. */
interface FFTJs {
  readonly size: number;
  createComplexArray(): number[];
  /** Forward transform (e^{−2πi…}); `out` and `data` must differ. */
  transform(out: ArrayLike<number> & { [i: number]: number }, data: ArrayLike<number>): void;
  /** Inverse transform, already divided by size. */
  inverseTransform(out: ArrayLike<number> & { [i: number]: number }, data: ArrayLike<number>): void;
}
const FFT = FFTModule as unknown as new (size: number) => FFTJs;

export interface Complex {
  re: Float64Array;
  im: Float64Array;
}

const isPowerOfTwo = (n: number) => n > 1 && (n & (n - 1)) === 0;

/** A reusable DFT of one length (the FFT plans and the chirp's transform are computed once). */
export class Dft {
  readonly n: number;
  readonly #fft: FFTJs | null = null;
  readonly #m: number = 0;
  /** conj(w[x]) = e^{−iπx²/n}, x < n: interleaved [2n] */
  readonly #chirp: Float64Array = new Float64Array(0);
  /** FFT of the chirp filter w[m], m ∈ (−n, n), wrapped into M slots: interleaved [2M] */
  readonly #filter: Float64Array = new Float64Array(0);
  /** Scratch of one transform, interleaved [2M] (or [2n] for a power of two): reused, so a call allocates nothing */
  readonly #a: Float64Array = new Float64Array(0);
  readonly #A: Float64Array = new Float64Array(0);

  constructor(n: number) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`Dft: length must be a positive integer, got ${n}`);
    this.n = n;
    if (n === 1) return;
    if (isPowerOfTwo(n)) {
      this.#fft = new FFT(n);
      this.#a = new Float64Array(2 * n);
      this.#A = new Float64Array(2 * n);
      return;
    }
    let m = 2;
    while (m < 2 * n - 1) m *= 2;
    this.#m = m;
    this.#fft = new FFT(m);
    this.#chirp = new Float64Array(2 * n);
    const filter = new Float64Array(2 * m);
    for (let x = 0; x < n; x++) {
      // angle π·x²/n, with x² reduced mod 2n so it stays small (e^{iπ·2n·j/n} = 1)
      const angle = (Math.PI * ((x * x) % (2 * n))) / n;
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      this.#chirp[2 * x] = c; // conj(w[x])
      this.#chirp[2 * x + 1] = -s;
      filter[2 * x] = c; // w[x]
      filter[2 * x + 1] = s;
      if (x > 0) {
        filter[2 * (m - x)] = c; // w[−x] = w[x], stored at M − x (cyclic)
        filter[2 * (m - x) + 1] = s;
      }
    }
    this.#filter = new Float64Array(2 * m);
    this.#fft.transform(this.#filter, filter);
    this.#a = new Float64Array(2 * m);
    this.#A = new Float64Array(2 * m);
  }

  /** X = DFT(f). `im` may be omitted for real input. */
  forward(re: ArrayLike<number>, im?: ArrayLike<number>): Complex {
    const out: Complex = { re: new Float64Array(this.n), im: new Float64Array(this.n) };
    this.forwardInto(re, im, out);
    return out;
  }

  /** X = DFT(f) into `out` (length n each), through the plan's scratch: nothing is allocated. */
  forwardInto(re: ArrayLike<number>, im: ArrayLike<number> | undefined, out: Complex): void {
    const { n } = this;
    if (re.length !== n || (im && im.length !== n)) throw new Error(`Dft(${n}): input of length ${re.length}`);
    if (n === 1) {
      out.re[0] = re[0]!;
      out.im[0] = im ? im[0]! : 0;
      return;
    }
    const fft = this.#fft!;
    const a = this.#a;
    const A = this.#A;
    if (this.#m === 0) {
      for (let x = 0; x < n; x++) {
        a[2 * x] = re[x]!;
        a[2 * x + 1] = im ? im[x]! : 0;
      }
      fft.transform(A, a);
      for (let k = 0; k < n; k++) {
        out.re[k] = A[2 * k]!;
        out.im[k] = A[2 * k + 1]!;
      }
      return;
    }
    // Bluestein: a[x] = f[x]·conj(w[x]), zero-padded to M
    const m = this.#m;
    const ch = this.#chirp;
    for (let x = 0; x < n; x++) {
      const fr = re[x]!;
      const fi = im ? im[x]! : 0;
      a[2 * x] = fr * ch[2 * x]! - fi * ch[2 * x + 1]!;
      a[2 * x + 1] = fr * ch[2 * x + 1]! + fi * ch[2 * x]!;
    }
    a.fill(0, 2 * n);
    fft.transform(A, a);
    // convolution theorem: (a ⊛ w) = IFFT(FFT(a) · FFT(w))
    const W = this.#filter;
    for (let j = 0; j < m; j++) {
      const ar = A[2 * j]!;
      const ai = A[2 * j + 1]!;
      const wr = W[2 * j]!;
      const wi = W[2 * j + 1]!;
      a[2 * j] = ar * wr - ai * wi;
      a[2 * j + 1] = ar * wi + ai * wr;
    }
    fft.inverseTransform(A, a);
    // X[k] = conj(w[k]) · (a ⊛ w)[k]
    for (let k = 0; k < n; k++) {
      const cr = A[2 * k]!;
      const ci = A[2 * k + 1]!;
      out.re[k] = cr * ch[2 * k]! - ci * ch[2 * k + 1]!;
      out.im[k] = cr * ch[2 * k + 1]! + ci * ch[2 * k]!;
    }
  }
}

const plans = new Map<number, Dft>();

/** The cached plan for length n (its scratch is shared: one transform at a time, as JavaScript runs). */
function planFor(n: number): Dft {
  let plan = plans.get(n);
  if (!plan) plans.set(n, (plan = new Dft(n)));
  return plan;
}

/** DFT of any length (plans are cached per length). */
export function dft(re: ArrayLike<number>, im?: ArrayLike<number>): Complex {
  return planFor(re.length).forward(re, im);
}

/** The textbook O(n²) DFT, for checking the fast one. */
export function naiveDft(re: ArrayLike<number>, im?: ArrayLike<number>): Complex {
  const n = re.length;
  const out: Complex = { re: new Float64Array(n), im: new Float64Array(n) };
  for (let k = 0; k < n; k++) {
    let sr = 0;
    let si = 0;
    for (let x = 0; x < n; x++) {
      const angle = (-2 * Math.PI * ((k * x) % n)) / n;
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      const fr = re[x]!;
      const fi = im ? im[x]! : 0;
      sr += fr * c - fi * s;
      si += fr * s + fi * c;
    }
    out.re[k] = sr;
    out.im[k] = si;
  }
  return out;
}

/** The real-basis coefficients B·f of a real signal, computed through the DFT (see the header). */
export function realFourierViaDft(f: ArrayLike<number>): Float64Array {
  const n = f.length;
  const X = dft(f);
  const out = new Float64Array(n);
  const c = Math.sqrt(2 / n);
  out[0] = X.re[0]! / Math.sqrt(n);
  for (let k = 1; 2 * k < n; k++) {
    out[2 * k - 1] = c * X.re[k]!;
    out[2 * k] = -c * X.im[k]!;
  }
  if (n % 2 === 0 && n > 1) out[n - 1] = X.re[n / 2]! / Math.sqrt(n);
  return out;
}

/**
 * B·M through the DFT for every column of M [n, m] (what fourier1d computes with the basis). Two real
 * columns f, g ride one complex transform Z = DFT(f + i·g), split by conjugate symmetry:
 *   F[k] = (Z[k] + conj Z[n−k]) / 2,   G[k] = (Z[k] − conj Z[n−k]) / 2i
 * → [n, m], row i = basis row i (see the header for the mapping).
 */
export function realFourierColumns(M: Matrix): Matrix {
  const { rows: n, cols: m } = M;
  const plan = planFor(n);
  const x = M.data;
  const out = matrix(n, m);
  const y = out.data;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  const Z: Complex = { re: new Float64Array(n), im: new Float64Array(n) };
  const c0 = 1 / Math.sqrt(n);
  const c = Math.sqrt(2 / n);
  for (let j = 0; j < m; j += 2) {
    const pair = j + 1 < m;
    for (let t = 0; t < n; t++) {
      re[t] = x[t * m + j]!;
      im[t] = pair ? x[t * m + j + 1]! : 0;
    }
    plan.forwardInto(re, im, Z);
    y[j] = Z.re[0]! * c0; // F[0] = Re Z[0], G[0] = Im Z[0]
    if (pair) y[j + 1] = Z.im[0]! * c0;
    for (let k = 1; 2 * k < n; k++) {
      const [zr, zi, wr, wi] = [Z.re[k]!, Z.im[k]!, Z.re[n - k]!, Z.im[n - k]!];
      // F[k] = ((zr + wr) + i(zi − wi)) / 2,  G[k] = ((zi + wi) − i(zr − wr)) / 2;  rows: c·Re, −c·Im
      y[(2 * k - 1) * m + j] = (c * (zr + wr)) / 2;
      y[2 * k * m + j] = (-c * (zi - wi)) / 2;
      if (pair) {
        y[(2 * k - 1) * m + j + 1] = (c * (zi + wi)) / 2;
        y[2 * k * m + j + 1] = (c * (zr - wr)) / 2;
      }
    }
    if (n % 2 === 0) {
      const k = n / 2; // the Nyquist term is real for real input: F = Re Z, G = Im Z
      y[(n - 1) * m + j] = Z.re[k]! * c0;
      if (pair) y[(n - 1) * m + j + 1] = Z.im[k]! * c0;
    }
  }
  return out;
}
