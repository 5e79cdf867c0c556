/**
 * The backend of a CLI run: `--backend` / GROK_BACKEND and `--gpujs-mode` / GROK_GPUJS_MODE (options win over
 * the environment). `pnpm grok --backend gpujs --gpujs-mode webasm` trains on GPU.js; the gpujs mode is
 * required and never replaced by another (a mode that cannot run here throws, saying what to install).
 */
import { getBackend, raw, setBackend } from '@grok/autograd';

export interface BackendOptions {
  backend?: string;
  'gpujs-mode'?: string;
  threads?: string;
}

export function selectBackend(options: BackendOptions, env: NodeJS.ProcessEnv = process.env): raw.Backend {
  const name = options.backend ?? env['GROK_BACKEND'];
  const mode = options['gpujs-mode'] ?? env['GROK_GPUJS_MODE'];
  if (options['gpujs-mode'] !== undefined && name !== 'gpujs') {
    throw new Error(`--gpujs-mode ${options['gpujs-mode']} applies to the gpujs backend only: add --backend gpujs`);
  }
  // @grok/tensor read GROK_THREADS when it loaded: an option given now has to go through setThreads.
  if (options.threads !== undefined) raw.setThreads(parseThreads(options.threads));
  return name ? setBackend(name, name === 'gpujs' && mode ? { mode } : {}) : getBackend();
}

function parseThreads(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--threads must be a whole number of threads ≥ 1, got '${value}'`);
  return n;
}
