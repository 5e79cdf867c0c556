/**
 * Which backend new arrays are created on. Backends register a factory under their name; the cpu backend is
 * the default. The registry knows no backend's options: a factory reads its own (gpujs reads its mode).
 */
import type { Backend } from './backend.js';
import { envVar } from './runtime.js';

export type BackendFactory = (options: Record<string, unknown>) => Backend;

const factories = new Map<string, BackendFactory>();
let current: Backend | undefined;

export function registerBackend(name: string, factory: BackendFactory): void {
  factories.set(name, factory);
}

export function availableBackends(): string[] {
  return [...factories.keys()];
}

/** A new backend instance, without making it current. Throws, naming the known backends, if there is none. */
export function createBackend(name: string, options: Record<string, unknown> = {}): Backend {
  const factory = factories.get(name);
  if (!factory) throw new Error(`setBackend: unknown backend '${name}' (known: ${availableBackends().join(', ')})`);
  return factory(options);
}

/** Makes a new `name` backend the backend of new arrays. */
export function setBackend(name: string, options: Record<string, unknown> = {}): Backend {
  current = createBackend(name, options);
  return current;
}

/** Makes an existing backend instance current (for tests and tools that hold several). */
export function useBackend(backend: Backend): void {
  current = backend;
}

/** The current backend; on first use, the one GROK_BACKEND names (default cpu). */
export function getBackend(): Backend {
  current ??= setBackend(envVar('GROK_BACKEND') ?? 'cpu');
  return current;
}
