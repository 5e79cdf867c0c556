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
 */
import FFTModule from 'fft.js';

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

  constructor(n: number) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`Dft: length must be a positive integer, got ${n}`);
    this.n = n;
    if (n === 1) return;
    if (isPowerOfTwo(n)) {
      this.#fft = new FFT(n);
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
  }

  /** X = DFT(f). `im` may be omitted for real input. */
  forward(re: ArrayLike<number>, im?: ArrayLike<number>): Complex {
    const { n } = this;
    if (re.length !== n || (im && im.length !== n)) throw new Error(`Dft(${n}): input of length ${re.length}`);
    const out: Complex = { re: new Float64Array(n), im: new Float64Array(n) };
    if (n === 1) {
      out.re[0] = re[0]!;
      out.im[0] = im ? im[0]! : 0;
      return out;
    }
    const fft = this.#fft!;
    if (this.#m === 0) {
      const data = interleave(re, im, n);
      const res = new Float64Array(2 * n);
      fft.transform(res, data);
      return split(res, n);
    }
    // Bluestein: a[x] = f[x]·conj(w[x]), zero-padded to M
    const m = this.#m;
    const a = new Float64Array(2 * m);
    const ch = this.#chirp;
    for (let x = 0; x < n; x++) {
      const fr = re[x]!;
      const fi = im ? im[x]! : 0;
      a[2 * x] = fr * ch[2 * x]! - fi * ch[2 * x + 1]!;
      a[2 * x + 1] = fr * ch[2 * x + 1]! + fi * ch[2 * x]!;
    }
    const A = new Float64Array(2 * m);
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
    return out;
  }
}

const plans = new Map<number, Dft>();

/** DFT of any length (plans are cached per length). */
export function dft(re: ArrayLike<number>, im?: ArrayLike<number>): Complex {
  let plan = plans.get(re.length);
  if (!plan) plans.set(re.length, (plan = new Dft(re.length)));
  return plan.forward(re, im);
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

function interleave(re: ArrayLike<number>, im: ArrayLike<number> | undefined, n: number): Float64Array {
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    out[2 * i] = re[i]!;
    out[2 * i + 1] = im ? im[i]! : 0;
  }
  return out;
}

function split(inter: Float64Array, n: number): Complex {
  const out: Complex = { re: new Float64Array(n), im: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    out.re[i] = inter[2 * i]!;
    out.im[i] = inter[2 * i + 1]!;
  }
  return out;
}
