/**
 * The backend of a CLI run: `--backend` / GROK_BACKEND and `--gpujs-mode` / GROK_GPUJS_MODE (options win over
 * the environment). `pnpm grok --backend gpujs --gpujs-mode webasm` trains on GPU.js; the gpujs mode is
 * required and never replaced by another (a mode that cannot run here throws, saying what to install).
 */
import { type raw, getBackend, setBackend } from '@grok/autograd';

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
  if (options.threads !== undefined) env['GROK_THREADS'] = options.threads;
  return name ? setBackend(name, name === 'gpujs' && mode ? { mode } : {}) : getBackend();
}
