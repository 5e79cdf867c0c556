/**
 * The lab's three backends, set up inside the training worker:
 *   wasm    the cpu backend's fast path: WebAssembly SIMD kernels, the matmul split across Web Workers over
 *           shared wasm memory. Shared memory needs a cross-origin isolated page (the lab's server sends
 *           COOP/COEP); without it the same kernels run on this worker's thread alone, and `detail` says so.
 *   webgl2  the gpujs backend in GPU.js's webgl2 mode, on an OffscreenCanvas: the reader's GPU (in headless
 *           Chromium, SwiftShader: a GPU emulated on the CPU; `detail` names the renderer).
 *   cpu     the reference backend: every kernel a plain JavaScript loop, one thread.
 */
import { raw, setBackend } from '@grok/autograd';
import type { LabBackend } from '../settings.js';

export interface BackendInfo {
  name: LabBackend;
  /** How it runs, in words, for the page. */
  detail: string;
}

export async function setUpBackend(name: LabBackend, threads: number | null): Promise<BackendInfo> {
  switch (name) {
    case 'cpu':
      setBackend('reference');
      return { name, detail: 'reference kernels: plain JavaScript loops, one thread' };
    case 'wasm': {
      setBackend('cpu');
      raw.setFastPath(true);
      const fma = raw.fastMatmulUsesRelaxedSimd() ? 'relaxed-SIMD FMA' : 'SIMD mul + add';
      if (!raw.canShareMemory()) {
        raw.setThreads(1);
        return { name, detail: `WebAssembly SIMD (${fma}) on one thread: this page is not cross-origin isolated, so there is no SharedArrayBuffer for worker threads to share the memory through` };
      }
      const n = threads ?? raw.getThreads();
      raw.setThreads(n);
      await raw.startThreads(n); // the pool's workers, so that the first steps already use them
      return { name, detail: `WebAssembly SIMD (${fma}), ${n} thread${n === 1 ? '' : 's'} over shared memory` };
    }
    case 'webgl2': {
      if (typeof OffscreenCanvas === 'undefined' || !new OffscreenCanvas(1, 1).getContext('webgl2')) {
        throw new Error('backend webgl2: this browser gives a Web Worker no WebGL2 context (OffscreenCanvas); choose wasm or cpu');
      }
      setBackend('gpujs', { mode: 'webgl2' });
      return { name, detail: `GPU.js webgl2 on ${gpuRenderer()}` };
    }
  }
}

/** The WebGL renderer's name, unmasked where the browser allows (SwiftShader shows as such). */
function gpuRenderer(): string {
  try {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
    if (!gl) return 'an unknown GPU';
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return /swiftshader/i.test(renderer) ? `${renderer} — SwiftShader: a GPU emulated on the CPU` : renderer;
  } catch {
    return 'an unknown GPU';
  }
}
