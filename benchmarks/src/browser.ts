/**
 * The `browser` suite: the lab's training step in headless Chromium, the way a reader's tab runs it
 * (`pnpm grok lab`'s bundle and server, ?autorun=STEPS): steps per second of the worker's training loop after
 * its warm-up steps (the capture, GPU.js's kernel compiles), on wasm at 1 and 2 threads and on webgl2.
 * Here webgl2 is SwiftShader, Chromium's software GPU, on the CPU: it says nothing about a real GPU.
 * Without /usr/bin/chromium every row is `missing`, saying so.
 */
import { existsSync } from 'node:fs';
import { type LabResult, bundleLab, serveLab } from '@grok/grokking';
import type { Row } from './peers.js';

const CHROMIUM = '/usr/bin/chromium';

interface Case {
  impl: string;
  backend: 'wasm' | 'webgl2';
  threads: number;
  p: number;
  steps: number;
}

/**
 * What each row measures. Full: the paper's p = 113 on wasm; webgl2 at p = 23 (same widths), since
 * SwiftShader takes seconds per step at p = 113. Quick: p = 7 and 12 steps (10 of them warm-up). Each with the
 * paper's data fraction (30 %) and lr: 3,830 training pairs at p = 113, as the Node `step` rows.
 */
function cases(quick: boolean): Case[] {
  const wasmP = quick ? 7 : 113;
  const steps = quick ? 12 : 40;
  return [
    { impl: 'lab-wasm', backend: 'wasm', threads: 1, p: wasmP, steps },
    { impl: 'lab-wasm', backend: 'wasm', threads: 2, p: wasmP, steps },
    { impl: 'lab-webgl2', backend: 'webgl2', threads: 1, p: quick ? 7 : 23, steps: quick ? 12 : 30 },
  ];
}

export async function runBrowserBench({ quick = false } = {}): Promise<Row[]> {
  const all = cases(quick);
  const row = (c: Case, extra: Partial<Row>): Row => ({ suite: 'browser', impl: c.impl, threads: c.threads, variant: 'last', p: c.p, steps: c.steps, ...extra });
  if (!existsSync(CHROMIUM)) return all.map((c) => row(c, { missing: `${CHROMIUM} not found (apt-get install -y chromium)` }));
  const server = await serveLab(await bundleLab());
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  const rows: Row[] = [];
  try {
    for (const c of all) {
      const page = await browser.newPage();
      try {
        // The paper's data fraction and lr (the lab's default is its quick demo: 70 % of the pairs, lr 3e-3).
        await page.goto(`${server.url}?autorun=${c.steps}&backend=${c.backend}&p=${c.p}&frac_train=0.3&lr=0.001&threads=${c.threads}`);
        await page.waitForFunction(
          "document.getElementById('lab-result').textContent !== '' || document.getElementById('lab-error').textContent !== ''",
          null,
          { timeout: quick ? 120_000 : 900_000 },
        );
        const error = await page.textContent('#lab-error');
        if (error) {
          rows.push(row(c, { missing: error }));
          continue;
        }
        const result = JSON.parse((await page.textContent('#lab-result'))!) as LabResult;
        rows.push(row(c, { stepsPerSecond: result.steps_per_second, msMedian: 1000 / result.steps_per_second, display: result.backend_detail }));
      } catch (e) {
        rows.push(row(c, { missing: `the page did not finish: ${(e as Error).message.split('\n')[0]}` }));
      } finally {
        await page.close();
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
  return rows;
}
