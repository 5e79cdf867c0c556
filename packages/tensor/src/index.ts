/**
 * @grok/tensor: typed n-dimensional arrays, NumPy broadcasting, a seeded RNG, and kernels behind a
 * Backend interface. Knows nothing of gradients (that is @grok/autograd).
 */
export * from './dtype.js';
export * from './shape.js';
export * from './random.js';
export * from './backend.js';
export * from './registry.js';
export { NDArray, type NestedArray } from './ndarray.js';
export * from './creation.js';
export * from './ops.js';
export * from './attention.js';
export { CpuBackend } from './backends/cpu/index.js';
export { ReferenceBackend } from './backends/reference/index.js';
export { erf } from './backends/reference/math.js';
export { GpuJsBackend, GPUJS_MODES, type GpuJsMode, type GpuJsOptions } from './backends/gpujs/index.js';
export { setThreads, getThreads, setFastPath, isFastPathEnabled, canShareMemory } from './backends/cpu/fast/settings.js';
export {
  fastMatmulUsesRelaxedSimd, startThreads, allocateInWasmMemory, releaseWasmMemory,
} from './backends/cpu/fast/fast-matmul.js';
export { enableRelaxedSimd } from './relaxed-simd.js';
