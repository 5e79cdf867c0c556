/**
 * What @grok/tensor needs from the JavaScript runtime it runs in, in one place: environment variables, the
 * number of cores, the V8 flag for relaxed SIMD, worker threads for the matmul's pool, and loading gpu.js.
 * This file is Node's. A browser bundle gets runtime.browser.ts in its place: package.json's "browser" field
 * maps one to the other, as bundlers (esbuild, webpack, Vite) read it, so the rest of the package has no
 * `node:` import and runs unchanged in a browser or a Web Worker.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import * as v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import type * as GpuJs from 'gpu.js';

const require = createRequire(import.meta.url);

/** An environment variable (GROK_THREADS, GROK_FAST, …), or undefined. */
export function envVar(name: string): string | undefined {
  return process.env[name];
}

/** Cores this process may use: the default thread count of the fast path. */
export function cpuCount(): number {
  return availableParallelism();
}

const RELAXED_SIMD_FLAG = '--experimental-wasm-relaxed-simd';

/**
 * Node 20 ships relaxed SIMD behind a V8 flag, which NODE_OPTIONS refuses; setting it before the first wasm
 * module is validated works as the command-line flag does (see relaxed-simd.ts). Returns whether it set it.
 */
export function setRelaxedSimdFlag(): boolean {
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== 20 || process.execArgv.includes(RELAXED_SIMD_FLAG)) return false;
  v8.setFlagsFromString(RELAXED_SIMD_FLAG);
  return true;
}

/** What a pool worker receives: the kernel modules by name, the shared memory, and the pool's control block. */
export interface PoolWorkerData {
  modules: Record<string, WebAssembly.Module>;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
}

/** A started pool worker: `ready` resolves once it has called its `signalReady`, or rejects if it failed to start. */
export interface PoolWorker {
  ready: Promise<void>;
  terminate(): Promise<void>;
}

/**
 * Starts a worker running `main`, the source of a function `(modules, memory, control, signalReady) => void`
 * (see thread-pool.ts). The worker is an ES module in a data: URL, so there is no worker file to locate: it
 * runs the same from TypeScript sources (vitest) and from dist/. It is unref'd: it never keeps Node alive.
 */
export function startPoolWorker(main: string, data: PoolWorkerData): PoolWorker {
  const source = `import { workerData, parentPort } from 'node:worker_threads';
const { modules, memory, control } = workerData;
(${main})(modules, memory, control, () => parentPort.postMessage('ready'));`;
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), { workerData: data });
  worker.unref();
  const ready = new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  return { ready, terminate: async () => void (await worker.terminate()) };
}

export type GpuJsModule = typeof GpuJs;

/** gpu.js, loaded synchronously (it is CommonJS), or the loader's error. */
export function requireGpuJs(): GpuJsModule {
  return require('gpu.js') as GpuJsModule;
}

/** Loads gpu.js's optional 'gl' dependency (headless-gl) from where gpu.js resolves it; throws if it cannot. */
export function requireHeadlessGl(): void {
  createRequire(require.resolve('gpu.js'))('gl');
}
