/**
 * The report of a sweep: any directory whose subdirectories are runs (they hold a config.json). It asks
 * the sweep's question — how long does grokking take as weight decay and data fraction change? — with
 * steps to grok (see steps-to-grok.ts) against each, the original paper's data-fraction sweep beside ours,
 * every run's test loss on one chart, and a table linking each run's own report.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunConfig } from '../config.js';
import { type MetricsRow, RunDir, writeFileAtomic } from '../run-dir.js';
import { type Point, lineChart } from './charts/lines.js';
import { type SweepPoint, stepsToGrokChart, sweepPoint } from './charts/steps-to-grok.js';
import { downsample } from './downsample.js';
import { escapeHtml, figure, page, table } from './html.js';
import { originalStepsToGrok } from './reference-data.js';
import { GROK_TEST_LOSS, stepsToGrok } from '../steps-to-grok.js';
import { renderSvg } from './vega-svg.js';

export interface SweepRun {
  name: string;
  dir: string;
  config: RunConfig;
  rows: MetricsRow[];
  /** First logged step with test loss < 0.01, or null if the run never got there. */
  stepsToGrok: number | null;
  lastStep: number;
}

/** The runs directly inside `dir`, by name. */
export function findRuns(dir: string): SweepRun[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`report: ${dir} is not a directory`);
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && new RunDir(path.join(dir, e.name)).exists())
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const run = new RunDir(path.join(dir, name));
      const rows = run.readMetrics();
      return { name, dir: run.dir, config: run.readConfig(), rows, stepsToGrok: stepsToGrok(rows), lastStep: rows.at(-1)?.step ?? 0 };
    });
}

/** A run that has not grokked is placed at its last step, marked as a lower bound. */
function points(runs: readonly SweepRun[], x: (c: RunConfig) => number): SweepPoint[] {
  return runs
    .filter((r) => r.rows.length > 0)
    .map((r) => sweepPoint(x(r.config), r, r.name));
}

export async function buildSweepReport(dir: string): Promise<{ html: string; figures: Map<string, string> }> {
  const runs = findRuns(dir);
  if (runs.length === 0) throw new Error(`report: ${dir} is neither a run (no config.json) nor a sweep (no subdirectory holds a run)`);
  const figures = new Map<string, string>();
  const draw = async (id: string, spec: Parameters<typeof renderSvg>[0], caption: string) => {
    const svg = await renderSvg(spec);
    figures.set(id, svg);
    return figure(id, svg, caption);
  };
  const name = path.basename(path.resolve(dir));
  const parts = [
    `<h1>Sweep ${escapeHtml(name)}</h1>`,
    `<p class="subtitle">${runs.length} runs. Steps to grok = the first logged step with test loss &lt; ${GROK_TEST_LOSS} ` +
      "(the original sweep's definition); hollow triangles are runs that never got there, drawn at their last step.</p>",
    '<div class="grid">',
    await draw(
      'steps-vs-weight-decay',
      stepsToGrokChart({ title: 'Steps to grok against weight decay', xTitle: 'weight decay', ours: points(runs, (c) => c.weight_decay) }),
      'More weight decay, faster grokking: the original saw ~8k steps at weight decay 1 and ~99k at 0.1 (30 % data).',
    ),
    await draw(
      'steps-vs-data-fraction',
      stepsToGrokChart({
        title: 'Steps to grok against data fraction',
        xTitle: 'fraction of pairs for training',
        ours: points(runs, (c) => c.frac_train),
        reference: originalStepsToGrok().map((r) => ({ x: r.frac_train, steps: r.steps_to_grok })),
      }),
      'Grey squares: the original paper\'s data-fraction sweep (p = 113, weight decay 1). Less data, later grokking.',
    ),
    '</div>',
  ];
  const withRows = runs.filter((r) => r.rows.length > 0);
  if (withRows.length > 0) {
    const testLoss: Point[] = withRows.flatMap((r) =>
      downsample(r.rows, 300, (x) => Math.log(x.test_loss)).map((x) => ({ step: x.step, series: r.name, value: x.test_loss })),
    );
    parts.push(
      '<div class="grid">',
      await draw('test-loss', lineChart({ title: 'Test loss of every run (log scale)', yTitle: 'test loss', logY: true, points: testLoss, width: 760 }), 'One line per run.'),
      '</div>',
    );
  }
  const link = (r: SweepRun) =>
    fs.existsSync(new RunDir(r.dir).reportPath) ? `<a href="${escapeHtml(`${encodeURIComponent(r.name)}/report.html`)}">${escapeHtml(r.name)}</a>` : escapeHtml(r.name);
  parts.push(
    '<h2>Runs</h2>',
    table(
      ['run', 'p', 'data fraction', 'weight decay', 'lr', 'seed', 'steps run', 'steps to grok', 'final test acc.'],
      runs.map((r) => [
        link(r),
        r.config.p,
        String(r.config.frac_train), // config values as given, not reformatted
        String(r.config.weight_decay),
        String(r.config.lr),
        r.config.seed,
        r.lastStep,
        r.stepsToGrok ?? '—',
        r.rows.length ? `${(100 * r.rows.at(-1)!.test_acc).toFixed(1)} %` : '—',
      ]),
    ),
    `<p class="subtitle">Written ${escapeHtml(new Date().toISOString())} by <code>pnpm grok report ${escapeHtml(dir)}</code>.</p>`,
  );
  return { html: page({ title: `grok sweep: ${name}`, body: parts.join('\n') }), figures };
}

export async function writeSweepReport(dir: string): Promise<string> {
  const report = await buildSweepReport(dir);
  const figuresDir = path.join(dir, 'figures');
  fs.mkdirSync(figuresDir, { recursive: true });
  for (const [id, svg] of report.figures) writeFileAtomic(path.join(figuresDir, `${id}.svg`), svg);
  const file = path.join(dir, 'report.html');
  writeFileAtomic(file, report.html);
  return file;
}
