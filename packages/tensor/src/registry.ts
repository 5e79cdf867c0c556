/** Which backend new tensors are created on. The cpu backend is the default. */
import type { Backend } from './backend.js';

export type BackendFactory = (options: Record<string, unknown>) => Backend;

const factories = new Map<string, BackendFactory>();
let current: Backend | undefined;

export function registerBackend(name: string, factory: BackendFactory): void {
  factories.set(name, factory);
}

export function availableBackends(): string[] {
  return [...factories.keys()];
}

/** Makes `name` the backend of new tensors. Throws, naming the known backends, if there is no such backend. */
export function setBackend(name: string, options: Record<string, unknown> = {}): Backend {
  const factory = factories.get(name);
  if (!factory) throw new Error(`setBackend: unknown backend '${name}' (known: ${availableBackends().join(', ')})`);
  current = factory(options);
  return current;
}

/** Makes an existing backend instance current (for tests and tools that hold several). */
export function useBackend(backend: Backend): void {
  current = backend;
}

export function getBackend(): Backend {
  if (!current) {
    const name = process.env['GROK_BACKEND'] ?? 'cpu';
    const options: Record<string, unknown> = {};
    if (process.env['GROK_GPUJS_MODE']) options['mode'] = process.env['GROK_GPUJS_MODE'];
    current = setBackend(name, options);
  }
  return current;
}
