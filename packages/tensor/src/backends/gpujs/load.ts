/**
 * Loading GPU.js lazily, and refusing modes that cannot work here with an error that says what to do.
 *
 * `@grok/tensor` must import, and type-check, without gpu.js (the cpu backend needs nothing), so gpu.js is
 * required only when a gpujs backend is created, and no type of it reaches the package's public declarations.
 * gpu.js is CommonJS, so Node loads it synchronously (runtime.ts) and `setBackend` stays synchronous; a
 * browser bundle has it bundled in (runtime.browser.ts).
 *
 * GPU.js itself falls back silently (its default mode picks whatever works). We never let it: the mode is
 * pinned, and a mode that cannot run throws.
 */
import { type GpuJsModule, requireGpuJs } from '../../runtime.js';
import { GPUJS_MODES, type GpuJsMode, headlessGlMessage } from './modes.js';

export type { GpuJsModule };

let loaded: GpuJsModule | undefined;

/**
 * gpu.js, loaded once. It is an optional peer dependency of @grok/tensor: `npm install @grok/tensor` does
 * not install it (nor the native `gl` and `webgpu` packages it pulls in); installing it turns this backend on.
 */
export function loadGpuJs(): GpuJsModule {
  if (!loaded) {
    try {
      loaded = requireGpuJs();
    } catch (e) {
      const why = (e as Error).message.split('\n')[0];
      throw new Error(
        `gpujs backend: the 'gpu.js' package is not installed (it is an optional peer dependency of @grok/tensor). ` +
          `Install it to use this backend: npm install gpu.js@2.24.1 (or pnpm add gpu.js@2.24.1). (${why})`,
      );
    }
  }
  return loaded;
}

/** Checks `mode` and that it can run here; returns gpu.js. Throws an error that says what to install. */
export function loadForMode(mode: unknown): GpuJsModule {
  if (mode === undefined) {
    throw new Error(
      `gpujs backend: the GPU.js mode must be given explicitly (one of ${GPUJS_MODES.join(', ')}): ` +
        `setBackend('gpujs', { mode: 'webasm' }) or GROK_BACKEND=gpujs GROK_GPUJS_MODE=webasm`,
    );
  }
  if (!GPUJS_MODES.includes(mode as GpuJsMode)) {
    throw new Error(`gpujs backend: unknown mode '${String(mode)}' (expected one of ${GPUJS_MODES.join(', ')})`);
  }
  const gpujs = loadGpuJs();
  const { GPU } = gpujs;
  switch (mode as GpuJsMode) {
    case 'headlessgl':
      if (!GPU.isHeadlessGLSupported) throw new Error(headlessGlMessage());
      break;
    case 'webgl2':
    case 'webgl':
      if (!(mode === 'webgl2' ? GPU.isWebGL2Supported : GPU.isWebGLSupported)) {
        throw new Error(
          `gpujs backend: mode '${mode}' needs a browser with ${mode === 'webgl2' ? 'WebGL2' : 'WebGL'}; ` +
            `in Node use mode 'headlessgl' (a GPU through the 'gl' package) or 'webasm'`,
        );
      }
      break;
    case 'webgpu':
      // Two separate reasons, both stated. The Backend interface is synchronous (read() returns an array)
      // and GPU.js's webgpu kernels only ever return Promises. And in Node, WebGPU comes from the 'webgpu'
      // package (Dawn), whose binary needs glibc ≥ 2.38 / GLIBCXX_3.4.32 (Debian 12 has 2.36).
      throw new Error(
        `gpujs backend: mode 'webgpu' is not supported: GPU.js webgpu kernels are asynchronous only (every call ` +
          `returns a Promise) while the Backend interface is synchronous; besides, in Node WebGPU comes from the ` +
          `'webgpu' package (Dawn), which needs glibc >= 2.38 (Debian 12 has 2.36). ` +
          `Use mode 'headlessgl' for a GPU in Node, or 'webasm'`,
      );
    case 'webasm':
      if (!GPU.isWebAssemblySupported) throw new Error(`gpujs backend: mode 'webasm' needs WebAssembly, which this runtime lacks`);
      break;
    case 'cpu':
      break;
  }
  return gpujs;
}
