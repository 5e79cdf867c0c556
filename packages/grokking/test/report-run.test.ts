import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildRunReport, writeRunReport } from '../src/report/run-report.js';
import { downsample } from '../src/report/downsample.js';
import { originalRun, originalStepsToGrok } from '../src/report/reference-data.js';
import { stepsToGrok } from '../src/steps-to-grok.js';
import { syntheticRun, tmpDir } from './report-fixtures.js';

/** Every src= or href= in the page must stay inside it (no network, no other files but sibling reports). */
function externalReferences(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)\s*=\s*["']?([^"'\s>]+)/gi)].map((m) => m[1]!).filter((u) => /^(https?:)?\/\//i.test(u));
}

const svgIds = (html: string) => [...html.matchAll(/<figure class="chart" id="fig-([^"]+)"><svg/g)].map((m) => m[1]);

describe('run report', () => {
  it('draws the metrics figures from metrics.jsonl alone and says how to get the analysis', async () => {
    const run = syntheticRun(path.join(tmpDir(), 'run'));
    const { html, figures } = await buildRunReport(run.dir);
    expect([...figures.keys()]).toEqual(['loss', 'accuracy', 'ours', 'original', 'weights']);
    expect(svgIds(html)).toEqual([...figures.keys()]);
    expect(html).toContain('analysis not run yet');
    expect(html).toContain(`pnpm grok analyze ${run.dir}`);
    expect(html).not.toContain('http-equiv="refresh"');
    expect(html).toContain('2000'); // steps to grok of the synthetic run
    expect(externalReferences(html)).toEqual([]);
    expect(html).not.toMatch(/<script|<link|<img|@import|url\((?!#)/i); // url(#clip) is an in-page reference
  });

  it('adds every analysis figure and the ablation table when analysis.json exists', async () => {
    const run = syntheticRun(path.join(tmpDir(), 'run'), { analysis: true, checkpoint: true });
    const { html, figures } = await buildRunReport(run.dir);
    expect([...figures.keys()]).toEqual([
      'loss', 'accuracy', 'ours', 'original', 'restricted-excluded', 'gini', 'weights',
      'fourier-we', 'fourier-wl', 'clusters', 'neuron-heatmap',
    ]);
    expect(html).not.toContain('analysis not run yet');
    expect(html).toContain('memorisation');
    expect(html).toContain('circuit formation');
    expect(html).toContain('cleanup');
    expect(html).toContain('remove-key-frequencies-from-logits');
    expect(html).toContain('&lt;test&gt;'); // table text is escaped
    expect(html).toContain('Neuron 2, cluster k = 7'); // the first neuron of the largest cluster
    expect(externalReferences(html)).toEqual([]);
  });

  it('captions say what this run did, computed from its metrics and analysis', async () => {
    const grokked = await buildRunReport(syntheticRun(path.join(tmpDir(), 'run'), { analysis: true }).dir, { neuronMap: false });
    const caption = (html: string, id: string) => new RegExp(`id="fig-${id}">[\\s\\S]*?<figcaption>([\\s\\S]*?)</figcaption>`).exec(html)![1]!;
    // syntheticMetrics: train accuracy 100 % from step 300, test accuracy and the test-loss crossing at 2000.
    expect(caption(grokked.html, 'loss')).toContain('The test loss fell below 0.01 at step 2000');
    expect(caption(grokked.html, 'accuracy')).toBe('Train accuracy reached 100 % at step 300; test accuracy reached 99 % at step 2000, 1700 steps later.');
    expect(caption(grokked.html, 'weights')).toMatch(/went from 500 at step 0 to 3\d\d\.\d+ at step 3990/);
    // syntheticAnalysis: the restricted loss 5·e^(−step/700) stays above 0.01 up to step 3900; excluded 1 + step/500.
    expect(caption(grokked.html, 'restricted-excluded')).toContain('In this run the restricted loss has not fallen below 0.01; the excluded loss went from 1 to 8.8');
    expect(caption(grokked.html, 'gini')).toContain('W_E from 0.20 to 0.90');

    // A run stopped before it grokked: no caption claims that it did.
    const early = await buildRunReport(syntheticRun(path.join(tmpDir(), 'run'), { rows: 100, grokAt: null }).dir, { neuronMap: false });
    expect(caption(early.html, 'loss')).toContain('has not fallen below 0.01 yet');
    expect(caption(early.html, 'accuracy')).toBe('Train accuracy reached 100 % at step 300; test accuracy has not reached 99 % (at most 5.0 %).');
  });

  it('writes report.html and each figure as an .svg file; a live report refreshes itself', async () => {
    const run = syntheticRun(path.join(tmpDir(), 'run'));
    const file = await writeRunReport(run.dir, { live: true, neuronMap: false });
    const html = fs.readFileSync(file, 'utf8');
    expect(html).toContain('<meta http-equiv="refresh" content="30">');
    expect(html).toContain('Training in progress');
    for (const id of ['loss', 'accuracy', 'ours', 'original', 'weights']) {
      const svg = fs.readFileSync(path.join(run.dir, 'figures', `${id}.svg`), 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
    }
    await writeRunReport(run.dir, { neuronMap: false });
    expect(fs.readFileSync(file, 'utf8')).not.toContain('http-equiv="refresh"');
  });

  it('is fast on a long run (4,000 metric rows)', async () => {
    const run = syntheticRun(path.join(tmpDir(), 'run'), { rows: 4000, analysis: true });
    const started = performance.now();
    await writeRunReport(run.dir, { neuronMap: false });
    expect((performance.now() - started) / 1000).toBeLessThan(10);
  });

  it('refuses a directory that is not a run', async () => {
    await expect(buildRunReport(tmpDir())).rejects.toThrow(/config.json is missing/);
  });
});

describe('report helpers', () => {
  it('downsample keeps the ends, the extremes, and at most about maxPoints rows', () => {
    const rows = Array.from({ length: 4000 }, (_, i) => ({ step: i, v: i === 1234 ? 100 : 1 }));
    const thin = downsample(rows, 600, (r) => r.v);
    expect(thin.length).toBeLessThanOrEqual(610);
    expect(thin[0]!.step).toBe(0);
    expect(thin.at(-1)!.step).toBe(3999);
    expect(thin.some((r) => r.step === 1234)).toBe(true); // the spike survives
    expect(downsample(rows.slice(0, 10), 600)).toHaveLength(10);
  });

  it('steps to grok is the first logged step with test loss below 0.01', () => {
    expect(stepsToGrok([{ step: 0, test_loss: 5 }, { step: 10, test_loss: 0.01 }, { step: 20, test_loss: 0.0099 }, { step: 30, test_loss: 0.5 }])).toBe(20);
    expect(stepsToGrok([{ step: 0, test_loss: 5 }])).toBeNull();
  });

  it('the copied reference data matches the original sweep (30 % data groks at step 8,258)', () => {
    const rows = originalRun();
    expect(rows).toHaveLength(8996);
    expect(rows[0]!.step).toBe(0);
    expect(stepsToGrok(rows)).toBe(8258);
    expect(originalStepsToGrok().find((r) => r.frac_train === 0.3)?.steps_to_grok).toBe(8258);
  });
});
