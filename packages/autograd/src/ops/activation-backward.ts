/**
 * The backward passes of relu and the two GELUs, each as one fused kernel (FusedKernel, @grok/tensor):
 * g · f'(x) in a single pass, rather than an f'(x) array and then a product.
 *
 *   relu'(x)      = 1 where x > 0, else 0            (torch's threshold_backward: 0 where x ≤ 0, else g)
 *   gelu'(x)      = Φ(x) + x·φ(x)                     Φ(x) = ½(1 + erf(x/√2)), φ(x) = e^(−x²/2)/√(2π)
 *   geluTanh'(x)  = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²),   t = tanh(√(2/π)(x + 0.044715x³))
 */
import type { FusedKernel, NDArray, TypedArray } from '@grok/tensor';
import * as T from '@grok/tensor';

const INV_SQRT_2 = '0.7071067811865476'; // 1/√2
const INV_SQRT_2PI = '0.3989422804014327'; // 1/√(2π)
const SQRT_2_OVER_PI = '0.7978845608028654'; // √(2/π)

export const RELU_BACKWARD: FusedKernel = {
  name: 'reluBackward',
  inputs: ['x', 'g'],
  outputs: ['x <= 0.0 ? 0.0 : g'],
  hostLoop: reluBackwardFloat32,
};

export const GELU_BACKWARD: FusedKernel = {
  name: 'geluBackward',
  inputs: ['x', 'g'],
  outputs: [`g * (0.5 * (1.0 + erf(x * ${INV_SQRT_2})) + x * ${INV_SQRT_2PI} * Math.exp(-0.5 * x * x))`],
};

export const GELU_TANH_BACKWARD: FusedKernel = {
  name: 'geluTanhBackward',
  inputs: ['x', 'g'],
  body: `const t = tanh(${SQRT_2_OVER_PI} * (x + 0.044715 * x * x * x));`,
  outputs: [`g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * ${SQRT_2_OVER_PI} * (1.0 + 0.134145 * x * x))`],
};

/** g · f'(x) for x and g of one shape. */
export const activationBackward = (kernel: FusedKernel, x: NDArray, g: NDArray): NDArray => T.fused(kernel, [x, g])[0]!;

/**
 * The cpu's faster relu backward for float32 (RELU_BACKWARD's hostLoop). The formula's `x <= 0 ? 0 : g` is a
 * conditional jump, and on pre-activations that are positive half the time at random the CPU mispredicts it
 * every other element: ≈ 4× slower than this branch-free loop on the floats' bits. As an int32, x ≤ 0 (−0,
 * +0 or negative) exactly when ((xi − 1) | xi) has its sign bit set, so the inverted sign mask keeps g's
 * bits where x > 0 and gives +0 elsewhere. (It keeps g for a NaN x with a clear sign bit, as the formula
 * does, and gives 0 for one with the sign bit set, where the formula gives g.)
 */
function reluBackwardFloat32(inputs: readonly TypedArray[], _scalars: readonly number[], outputs: readonly TypedArray[]): boolean {
  const [x, g] = inputs;
  const [out] = outputs;
  if (!(x instanceof Float32Array && g instanceof Float32Array && out instanceof Float32Array)) return false;
  const xb = bitsOf(x);
  const gb = bitsOf(g);
  const ob = bitsOf(out);
  for (let i = 0; i < xb.length; i++) {
    const xi = xb[i]!;
    ob[i] = gb[i]! & ~(((xi - 1) | xi) >> 31);
  }
  return true;
}

const bitsOf = (a: Float32Array) => new Int32Array(a.buffer, a.byteOffset, a.length);
