/** Instantiating a kernel module over a shared memory once, on first use, and reusing that instance. */
export function instanceOver<K>(cache: WeakMap<WebAssembly.Memory, K>, memory: WebAssembly.Memory, emit: () => Uint8Array): K {
  let kernels = cache.get(memory);
  if (!kernels) {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(emit()), { env: { memory } });
    kernels = instance.exports as unknown as K;
    cache.set(memory, kernels);
  }
  return kernels;
}
