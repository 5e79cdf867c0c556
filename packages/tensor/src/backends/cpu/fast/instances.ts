import type { MemoryPages } from './wasm-arena.js';

/** Compiling a kernel module once per memory limits (they are part of its memory import), and reusing it. */
export function compiledOnce(cache: Map<string, WebAssembly.Module>, pages: MemoryPages, emit: () => Uint8Array): WebAssembly.Module {
  const key = `${pages.initial}:${pages.maximum}:${pages.shared ?? true}`;
  let module = cache.get(key);
  if (!module) {
    module = new WebAssembly.Module(emit());
    cache.set(key, module);
  }
  return module;
}

/** Instantiating a kernel module over a shared memory once, on first use, and reusing that instance. */
export function instanceOver<K>(cache: WeakMap<WebAssembly.Memory, K>, memory: WebAssembly.Memory, compile: () => WebAssembly.Module): K {
  let kernels = cache.get(memory);
  if (!kernels) {
    const instance = new WebAssembly.Instance(compile(), { env: { memory } });
    kernels = instance.exports as unknown as K;
    cache.set(memory, kernels);
  }
  return kernels;
}
