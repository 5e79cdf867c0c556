/**
 * Scalar functions for inside kernels, written for float32: GPU.js has no erf, and its tanh (like the
 * naive (e^2x − 1)/(e^2x + 1)) overflows to NaN for large |x|. They are JavaScript source that GPU.js
 * translates, so they use only what every mode has: + − × ÷, Math.exp, Math.abs, branches.
 *
 * erf: two polynomials we fitted (least squares on Chebyshev nodes, then checked in float32) against
 * double-precision erf:
 * - |x| ≤ 1: erf(x) = x · P(x²), P of degree 5: max relative error 2e-7 (≈ 2 ulp).
 * - 1 < |x| < 4: erf(x) = 1 − exp(Q(|x|)), Q of degree 7 fitted to log erfc: max absolute error 7e-8.
 * - |x| ≥ 4: erfc(4) ≈ 1.5e-8 is below half an ulp of 1, so erf = ±1.
 */

export const ERF = `function erf32(x) {
  const t = Math.abs(x);
  if (t >= 4.0) { return x > 0.0 ? 1.0 : -1.0; }
  if (t <= 1.0) {
    const s = x * x;
    let p = -0.000570981304;
    p = p * s + 0.0049372758;
    p = p * s - 0.0267288284;
    p = p * s + 0.112808268;
    p = p * s - 0.37612414;
    p = p * s + 1.12837915;
    return x * p;
  }
  let q = -0.0000217903213;
  q = q * t + 0.000442607676;
  q = q * t - 0.00421111434;
  q = q * t + 0.025226628;
  q = q * t - 0.10844885;
  q = q * t - 0.633190559;
  q = q * t - 1.12959391;
  q = q * t + 0.0001914785;
  const e = 1.0 - Math.exp(q);
  return x > 0.0 ? e : -e;
}`;

/** tanh without overflow: e^(−2|x|) ≤ 1 always. Near 0, where 1 − e^(−2|x|) cancels, a short series. */
export const TANH = `function tanh32(x) {
  const a = Math.abs(x);
  if (a < 0.0625) {
    const s = x * x;
    return x * (1.0 - s * (0.333333333 - s * 0.133333333));
  }
  const e = Math.exp(-2.0 * a);
  const y = (1.0 - e) / (1.0 + e);
  return x < 0.0 ? -y : y;
}`;

/** 1 / (1 + e^−x), in the form whose exponential cannot overflow. */
export const SIGMOID = `function sigmoid32(x) {
  if (x >= 0.0) { return 1.0 / (1.0 + Math.exp(-x)); }
  const e = Math.exp(x);
  return e / (1.0 + e);
}`;

/** GELU(x) = x·Φ(x) = x/2 · (1 + erf(x/√2)). */
export const GELU = `function gelu32(x) {
  return 0.5 * x * (1.0 + erf32(x * 0.707106781));
}`;

/** The tanh approximation x/2 · (1 + tanh(√(2/π)(x + 0.044715 x³))). */
export const GELU_TANH = `function geluTanh32(x) {
  return 0.5 * x * (1.0 + tanh32(0.797884561 * (x + 0.044715 * x * x * x)));
}`;

/** The helpers an expression calls (GPU.js must be given every function a kernel reaches). */
export function helpersFor(expression: string): string[] {
  const needs: string[] = [];
  const uses = (name: string) => expression.includes(`${name}(`);
  if (uses('erf32') || uses('gelu32')) needs.push(ERF);
  if (uses('tanh32') || uses('geluTanh32')) needs.push(TANH);
  if (uses('sigmoid32')) needs.push(SIGMOID);
  if (uses('gelu32')) needs.push(GELU);
  if (uses('geluTanh32')) needs.push(GELU_TANH);
  return needs;
}
