/**
 * @grok/autograd: reverse-mode automatic differentiation on @grok/tensor, gradcheck, and optimizers.
 *
 *   import { tensor, crossEntropy, AdamW } from '@grok/autograd';
 *
 * Everything a user needs from @grok/tensor is re-exported here: its raw (non-differentiable) array is
 * `NDArray`, and its functional ops on NDArrays are the `raw` namespace (`raw.matmul(a, b)`).
 */
export { Tensor } from './tensor.js';
export { Parameter } from './parameter.js';
export { copyInPlace, scaleInPlace } from './in-place.js';
export { noGrad, isGradEnabled, type GraphNode, type BackwardFn } from './graph.js';
export { sumToShape } from './broadcast.js';
export * from './creation.js';
export * from './ops/elementwise.js';
export * from './ops/reduce.js';
export * from './ops/matmul.js';
export * from './ops/shape.js';
export * from './ops/indexing.js';
export * from './ops/nn.js';
export * from './ops/attention.js';
export { compileStep, type CompiledStep, type CompileStepOptions } from './compile.js';
export { gradcheck, type GradcheckOptions, type GradcheckReport } from './gradcheck.js';

// From @grok/tensor: types, RNG, backends, helpers.
export * as raw from '@grok/tensor';
export {
  NDArray,
  type DType,
  type TypedArray,
  type Shape,
  type NestedArray,
  type Backend,
  type MatmulFlags,
  Generator,
  manualSeed,
  getDefaultGenerator,
  setBackend,
  useBackend,
  getBackend,
  registerBackend,
  availableBackends,
  formatShape,
  shapesEqual,
  sizeOf,
  enableRelaxedSimd,
} from '@grok/tensor';

// Optimizers, schedules, clipping and gradient filters.
export { Optimizer } from './optim/optimizer.js';
export { AdamW, type AdamWOptions } from './optim/adamw.js';
export { SGD, type SGDOptions } from './optim/sgd.js';
export * as schedules from './optim/schedules.js';
export { type Schedule, type LearningRate, type CosineOptions, linearWarmup, cosine, sequential, scaled } from './optim/schedules.js';
export { clipGradNorm, type ClipOptions } from './optim/clip.js';
export { GrokfastEMA, GrokfastMA, type GrokfastEMAOptions, type GrokfastMAOptions } from './optim/filters.js';
export { type StateDict } from './state-dict.js';
export { type ParamState, type StateSchema } from './optim/param-state.js';
