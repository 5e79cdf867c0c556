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

  it('--threads N takes effect in this process (the tensor package read GROK_THREADS long before)', () => {
    const threads = raw.getThreads();
    try {
      selectBackend({ backend: 'cpu', threads: '1' }, {});
      expect(raw.getThreads()).toBe(1);
      selectBackend({ backend: 'cpu', threads: '3' }, {});
      expect(raw.getThreads()).toBe(3);
      expect(() => selectBackend({ threads: 'two' }, {})).toThrow(/--threads must be a whole number of threads ≥ 1, got 'two'/);
      expect(() => selectBackend({ threads: '0' }, {})).toThrow(/--threads/);
    } finally {
      raw.setThreads(threads);
    }
  });
});
