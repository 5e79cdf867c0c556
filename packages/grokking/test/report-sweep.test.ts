import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSweepReport, findRuns, writeSweepReport } from '../src/report/sweep-report.js';
import { writeReport } from '../src/report/write-report.js';
import { syntheticRun, tmpDir } from './report-fixtures.js';

/** A sweep: three weight decays (one never groks) and two data fractions, plus a stray non-run folder. */
function makeSweep(): string {
  const dir = tmpDir();
  syntheticRun(path.join(dir, 'wd0.3'), { grokAt: 3000, config: { weight_decay: 0.3 } });
  syntheticRun(path.join(dir, 'wd1'), { grokAt: 1200, config: { weight_decay: 1 } });
  syntheticRun(path.join(dir, 'wd0'), { grokAt: null, config: { weight_decay: 0 } });
  syntheticRun(path.join(dir, 'frac0.7'), { grokAt: 400, config: { frac_train: 0.7 } });
  fs.mkdirSync(path.join(dir, 'figures-old'));
  return dir;
}

describe('sweep report', () => {
  it('finds the runs of a directory and their steps to grok (first logged test loss < 0.01)', () => {
    const runs = findRuns(makeSweep());
    expect(runs.map((r) => r.name)).toEqual(['frac0.7', 'wd0', 'wd0.3', 'wd1']);
    expect(runs.map((r) => r.stepsToGrok)).toEqual([400, null, 3000, 1200]);
    expect(runs.find((r) => r.name === 'wd0')!.lastStep).toBe(3990);
  });

  it('draws steps to grok against weight decay and data fraction, with every run in the table', async () => {
    const dir = makeSweep();
    const { html, figures } = await buildSweepReport(dir);
    expect([...figures.keys()]).toEqual(['steps-vs-weight-decay', 'steps-vs-data-fraction', 'test-loss']);
    for (const name of ['wd0', 'wd0.3', 'wd1', 'frac0.7']) expect(html).toContain(`<td>${name}</td>`);
    expect(html).toContain('original paper'); // the original sweep's points beside ours
    expect(html).not.toMatch(/(src|href)="https?:/);
    // The run that never grokked is drawn at its last step as a lower bound.
    expect(figures.get('steps-vs-weight-decay')).toContain('not grokked');
  });

  it('links each run that has a report; writeReport picks run or sweep by the directory', async () => {
    const dir = makeSweep();
    const run = await writeReport(path.join(dir, 'wd1'), { neuronMap: false });
    expect(run.kind).toBe('run');
    const sweep = await writeReport(dir);
    expect(sweep.kind).toBe('sweep');
    const html = fs.readFileSync(sweep.file, 'utf8');
    expect(html).toContain('<a href="wd1/report.html">wd1</a>');
    expect(fs.existsSync(path.join(dir, 'figures', 'steps-vs-data-fraction.svg'))).toBe(true);
  });

  it('refuses a directory without runs', async () => {
    await expect(writeSweepReport(tmpDir())).rejects.toThrow(/neither a run .* nor a sweep/);
  });
});
