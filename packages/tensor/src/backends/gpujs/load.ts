/**
 * Loading GPU.js lazily, and refusing modes that cannot work here with an error that says what to do.
 *
 * `@grok/tensor` must import without gpu.js (the cpu backend needs nothing), so gpu.js is required only
 * when a gpujs backend is created. gpu.js is CommonJS, so `createRequire` loads it synchronously and
 * `setBackend` stays synchronous.
 *
 * GPU.js itself falls back silently (its default mode picks whatever works). We never let it: the mode is
 * pinned, and a mode that cannot run throws.
 */
import { createRequire } from 'node:module';
import type * as GpuJs from 'gpu.js';

/** The GPU.js modes this backend knows. `webgl`/`webgl2` need a browser; `webgpu` is refused (see below). */
export const GPUJS_MODES = ['headlessgl', 'webgl2', 'webgl', 'webgpu', 'webasm', 'cpu'] as const;
export type GpuJsMode = (typeof GPUJS_MODES)[number];

export type GpuJsModule = typeof GpuJs;

const require = createRequire(import.meta.url);
let loaded: GpuJsModule | undefined;

/** gpu.js, loaded once. */
export function loadGpuJs(): GpuJsModule {
  if (!loaded) {
    try {
      loaded = require('gpu.js') as GpuJsModule;
    } catch (e) {
      throw new Error(`gpujs backend: cannot load the 'gpu.js' package (${(e as Error).message}); install it with \`pnpm add gpu.js@2.24.1\``);
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

/** Why headless-gl is unavailable, and what to install. */
export function headlessGlMessage(): string {
  let reason: string;
  try {
    // 'gl' is gpu.js's optional dependency: resolve it from there, as gpu.js does.
    createRequire(require.resolve('gpu.js'))('gl');
    reason = `the 'gl' package loads but cannot create a WebGL context (no X display: run under Xvfb)`;
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    reason = `the 'gl' package is not built or not installed (${msg})`;
  }
  return (
    `gpujs backend: mode 'headlessgl' is unavailable: ${reason}. ` +
    `To build 'gl' on Debian/Ubuntu: apt-get install build-essential python3 pkg-config libxi-dev libx11-dev ` +
    `libxext-dev libgl1-mesa-dev mesa-common-dev, then \`pnpm rebuild gl\` (pnpm 10 skips its build script ` +
    `unless approved: \`pnpm approve-builds\`). To run without a display: apt-get install xvfb, then ` +
    `\`xvfb-run -s "-ac -screen 0 1280x1024x24" <command>\`. Or choose mode 'webasm'`
  );
}
