/**
 * Opens a full report (every figure, from a synthetic run with analysis and a real checkpoint) in a real
 * headless Chromium: every figure must have rendered an <svg> with marks, the page must log no console
 * errors, and a screenshot goes to .output/report.png (ignored by git; CI keeps it as an artifact).
 * Needs Debian's `chromium` (apt-get install chromium); skipped with a message where it is absent.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { writeRunReport } from '../src/report/run-report.js';
import { writeSweepReport } from '../src/report/sweep-report.js';
import { syntheticRun, tmpDir } from './report-fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM);
const OUTPUT = fileURLToPath(new URL('../../../.output/', import.meta.url));

if (!hasChromium && process.env['GROK_REQUIRE_BROWSER'] === '1') {
  throw new Error(`report-browser: ${CHROMIUM} is required here (GROK_REQUIRE_BROWSER=1) but missing`);
}
if (!hasChromium) console.warn(`report-browser: SKIPPED — ${CHROMIUM} not found (apt-get install -y chromium to run it)`);

async function openInChromium(file: string, screenshot: string) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => !r.url().startsWith('file:') && requests.push(r.url()));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    // Per figure: does it hold an <svg>, with how many drawn marks, and how big did it lay out?
    const figures = await page.$$eval('figure.chart', (els) =>
      els.map((el) => {
        const svg = el.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        return {
          id: el.id,
          marks: svg ? svg.querySelectorAll('.role-mark path, .role-mark line, .role-mark text, .role-mark rect').length : 0,
          width: box?.width ?? 0,
          height: box?.height ?? 0,
        };
      }),
    );
    fs.mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    return { figures, errors, requests };
  } finally {
    await browser.close();
  }
}

describe.skipIf(!hasChromium)('report in a real browser (Chromium)', () => {
  it('renders every figure of a run report with no console errors and no network requests', async () => {
    const run = syntheticRun(path.join(tmpDir(), 'run'), { analysis: true, checkpoint: true });
    const file = await writeRunReport(run.dir);
    const { figures, errors, requests } = await openInChromium(file, path.join(OUTPUT, 'report.png'));
    expect(figures.map((f) => f.id)).toEqual([
      'fig-loss', 'fig-accuracy', 'fig-ours', 'fig-original', 'fig-restricted-excluded', 'fig-gini', 'fig-weights',
      'fig-fourier-we', 'fig-fourier-wl', 'fig-clusters', 'fig-neuron-heatmap',
    ]);
    for (const f of figures) {
      expect(f.marks, `${f.id} has marks`).toBeGreaterThan(0);
      expect(f.width, `${f.id} is laid out`).toBeGreaterThan(100);
      expect(f.height, `${f.id} is laid out`).toBeGreaterThan(100);
    }
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
  });

  it('renders a sweep report', async () => {
    const dir = tmpDir();
    syntheticRun(path.join(dir, 'wd1'), { grokAt: 1200 });
    syntheticRun(path.join(dir, 'wd0.3'), { grokAt: 3000, config: { weight_decay: 0.3 } });
    const { figures, errors } = await openInChromium(await writeSweepReport(dir), path.join(OUTPUT, 'sweep-report.png'));
    expect(figures).toHaveLength(3);
    for (const f of figures) expect(f.marks, `${f.id} has marks`).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });
});
