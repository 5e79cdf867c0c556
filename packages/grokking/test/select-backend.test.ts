/** `pnpm grok --backend gpujs --gpujs-mode webasm` and GROK_BACKEND / GROK_GPUJS_MODE pick the backend. */
import { afterEach, describe, expect, it } from 'vitest';
import { getBackend, raw, useBackend } from '@grok/autograd';
import { selectBackend } from '../src/select-backend.js';

const before = getBackend();
afterEach(() => useBackend(before));

describe('selectBackend', () => {
  it('--backend gpujs --gpujs-mode webasm', () => {
    const be = selectBackend({ backend: 'gpujs', 'gpujs-mode': 'webasm' }, {});
    expect(be).toBeInstanceOf(raw.GpuJsBackend);
    expect((be as raw.GpuJsBackend).mode).toBe('webasm');
    expect(getBackend()).toBe(be);
    expect(raw.tensor([1, 2]).backend).toBe(be);
  });

  it('GROK_BACKEND=gpujs GROK_GPUJS_MODE=cpu, and options win over the environment', () => {
    const env = { GROK_BACKEND: 'gpujs', GROK_GPUJS_MODE: 'cpu' };
    expect((selectBackend({}, env) as raw.GpuJsBackend).mode).toBe('cpu');
    expect((selectBackend({ 'gpujs-mode': 'webasm' }, env) as raw.GpuJsBackend).mode).toBe('webasm');
    expect(selectBackend({ backend: 'cpu' }, env).name).toBe('cpu');
  });

  it('errors say what is wrong', () => {
    expect(() => selectBackend({ backend: 'gpujs' }, {})).toThrow(/mode must be given explicitly.*GROK_GPUJS_MODE=webasm/);
    expect(() => selectBackend({ backend: 'gpu' }, {})).toThrow(/unknown backend 'gpu' \(known: .*gpujs/);
    expect(() => selectBackend({ 'gpujs-mode': 'webasm' }, {})).toThrow(/--gpujs-mode webasm applies to the gpujs backend only/);
    let headless: raw.Backend | undefined;
    try {
      headless = selectBackend({ backend: 'gpujs', 'gpujs-mode': 'headlessgl' }, {});
    } catch (e) {
      expect((e as Error).message).toMatch(/mode 'headlessgl' is unavailable: .*apt-get install .*libxi-dev.*xvfb-run/);
    }
    (headless as raw.GpuJsBackend | undefined)?.destroy();
  });
});
