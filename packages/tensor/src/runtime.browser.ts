/**
 * runtime.ts for browsers and Web Workers (package.json's "browser" field puts this file in its place in a
 * bundle): the same functions, from the web platform instead of Node.
 *   - no environment variables: every setting keeps its default (setThreads, setFastPath change them);
 *   - cores from navigator.hardwareConcurrency;
 *   - relaxed SIMD needs no flag (Chrome ≥ 114, Firefox ≥ 120 ship it);
 *   - pool workers are Web Workers from a Blob URL. A Blob worker shares the page's origin and its
 *     cross-origin isolation, which shared wasm memory needs (a data: URL worker would have an opaque origin);
 *   - gpu.js is bundled in (its "browser" build) rather than required at run time.
 */
import * as gpujs from 'gpu.js';
import type * as NodeRuntime from './runtime.js';

export type { GpuJsModule, PoolWorker, PoolWorkerData } from './runtime.js';

/** The parts of a Web Worker this file uses (the package is compiled without the DOM's types). */
interface WebWorker {
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: { message?: string }) => void) | null;
  postMessage(message: unknown): void;
  terminate(): void;
}
interface WebPlatform {
  navigator?: { hardwareConcurrency?: number };
  Worker: new (url: string, options?: { name?: string }) => WebWorker;
  Blob: new (parts: string[], options: { type: string }) => object;
  URL: { createObjectURL(blob: object): string; revokeObjectURL(url: string): void };
}
const web = globalThis as unknown as WebPlatform;

export const envVar: typeof NodeRuntime.envVar = () => undefined;

export const cpuCount: typeof NodeRuntime.cpuCount = () => Math.max(1, web.navigator?.hardwareConcurrency ?? 1);

export const setRelaxedSimdFlag: typeof NodeRuntime.setRelaxedSimdFlag = () => false;

export const startPoolWorker: typeof NodeRuntime.startPoolWorker = (main, data) => {
  // The worker waits for its data (modules, memory, control block), then enters the pool's loop for good.
  const source = `self.onmessage = (event) => {
  self.onmessage = null;
  const { modules, memory, control } = event.data;
  (${main})(modules, memory, control, () => self.postMessage('ready'));
};`;
  const url = web.URL.createObjectURL(new web.Blob([source], { type: 'text/javascript' }));
  const worker = new web.Worker(url, { name: 'grok kernel pool' });
  const ready = new Promise<void>((resolve, reject) => {
    worker.onmessage = () => resolve();
    worker.onerror = (e) => reject(new Error(`kernel pool worker failed to start: ${e.message ?? 'unknown error'}`));
  });
  void ready.finally(() => web.URL.revokeObjectURL(url)).catch(() => {});
  worker.postMessage(data);
  return { ready, terminate: async () => worker.terminate() };
};

export const requireGpuJs: typeof NodeRuntime.requireGpuJs = () => gpujs as unknown as NodeRuntime.GpuJsModule;

export const requireHeadlessGl: typeof NodeRuntime.requireHeadlessGl = () => {
  throw new Error('headless-gl is a Node package; in a browser use mode webgl2');
};
