/**
 * The run report while training runs: before analysis.json exists, the progress-measure figures are drawn
 * from the live report's rows (live-measures.jsonl), with a note on how far they got and which key
 * frequencies they use; once analysis.json exists, the page uses it as before. On a tiny run trained here.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeRun } from '../src/analysis/run-analysis.js';
import type { CheckpointMeasures } from '../src/analysis/types.js';
import { resolveConfig } from '../src/config.js';
import { refreshLiveMeasures } from '../src/live/refresh.js';
import { Progress } from '../src/progress.js';
import { buildRunReport } from '../src/report/run-report.js';
import { RunDir } from '../src/run-dir.js';
import { train } from '../src/train.js';

const silent = new Progress({ isTTY: false, write: () => true } as unknown as NodeJS.WriteStream, Infinity);
const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'grok-report-live-')), 'run');
const run = new RunDir(dir);
const quiet = () => {};
const figureIds = (html: string) => [...html.matchAll(/<figure class="chart" id="fig-([^"]+)"><svg/g)].map((m) => m[1]);
const caption = (html: string, id: string) => new RegExp(`id="fig-${id}">[\\s\\S]*?<figcaption>([\\s\\S]*?)</figcaption>`).exec(html)![1]!;
/** The rows on file, by step (the newest last). */
const rowsOnFile = () =>
  fs.readFileSync(run.liveMeasuresPath, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as CheckpointMeasures).sort((a, b) => a.step - b.step);

beforeAll(() => {
  const config = resolveConfig({ p: 11, frac_train: 0.5, d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32, steps: 40, checkpoint_every: 5, log_every: 5 });
  train({ dir, config, progress: silent }); // checkpoints 0, 5, …, 40
});

describe('the live report page', () => {
  it('shows "analysis not run yet" while nothing is measured', async () => {
    const { html, figures } = await buildRunReport(dir, { live: true, neuronMap: false });
    expect([...figures.keys()]).toEqual(['loss', 'accuracy', 'ours', 'original', 'weights']);
    expect(html).toContain('analysis not run yet');
  });

  it('draws the progress measures from the live rows before analysis.json exists, and says what is missing', async () => {
    refreshLiveMeasures(dir, { maxCheckpoints: 3, warn: quiet }); // steps 40, 0 and 20
    const { html, figures } = await buildRunReport(dir, { live: true, neuronMap: false });
    expect(fs.existsSync(run.analysisPath)).toBe(false);
    expect([...figures.keys()]).toEqual(['loss', 'accuracy', 'ours', 'original', 'restricted-excluded', 'gini', 'fourier-over-training', 'weights']);
    expect(figureIds(html)).toEqual([...figures.keys()]);
    expect(html).toContain('Live progress measures: 3 of 9 checkpoints measured (not yet: steps 5–15, 25–35)');
    const newest = rowsOnFile().at(-1)!;
    expect(newest.step).toBe(40);
    const keys = newest.keyFrequencies.join(', ') || 'none';
    expect(html).toContain(`its own key frequencies: the newest (step 40) has ${keys}`);
    expect(caption(html, 'restricted-excluded')).toContain(`Live, each checkpoint uses its own key frequencies (the newest, step 40: ${keys})`);
    expect(html).toContain(`${keys} (live: checkpoint 40)`); // the header's key frequencies
  });

  it('fills in as refreshes go on, and names the step from which every row has the newest keys', async () => {
    refreshLiveMeasures(dir, { warn: quiet });
    const { html } = await buildRunReport(dir, { live: true, neuronMap: false });
    expect(html).toContain('Live progress measures: 9 of 9 checkpoints measured, each once');
    // Worked out from the rows on file: the first step of the last run of rows with the newest key set.
    const rows = rowsOnFile();
    const same = (r: CheckpointMeasures) => r.keyFrequencies.join() === rows.at(-1)!.keyFrequencies.join();
    let i = rows.length - 1;
    while (i > 0 && same(rows[i - 1]!)) i--;
    expect(html).toContain(`the same set at every measured checkpoint since step ${rows[i]!.step}`);
  });

  it('uses analysis.json once it exists, as before', async () => {
    const analysis = analyzeRun(dir);
    const { html, figures } = await buildRunReport(dir, { neuronMap: false });
    expect(html).not.toContain('Live progress measures');
    expect(caption(html, 'restricted-excluded')).toContain(`directions (${analysis.restrictedLossFrequencies.join(', ') || 'none'})`);
    expect([...figures.keys()]).toContain('fourier-over-training'); // the final analysis's rows have the spectra too
    expect(caption(html, 'fourier-over-training')).toContain("the final checkpoint's");
  });

  it('goes back to the live rows while a run extended past its analysis trains on', async () => {
    train({ dir, config: { ...run.readConfig(), steps: 50 }, progress: silent }); // --resume --steps 50: checkpoints 45, 50
    refreshLiveMeasures(dir, { warn: quiet });
    const { html } = await buildRunReport(dir, { live: true, neuronMap: false });
    expect(html).toContain('Live progress measures: 11 of 11 checkpoints measured');
    expect(html).toContain('(live: checkpoint 50)');
  });
});
