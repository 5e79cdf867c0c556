/**
 * The report of one run: runs/NAME/report.html, one self-contained page telling the run's story in the
 * paper's figures, and each figure again as runs/NAME/figures/ID.svg. Everything that needs only
 * metrics.jsonl is always drawn; the mechanistic figures appear once analysis.json exists. Before it does,
 * the progress measures come from the live report's rows (live-measures.jsonl), with a note saying so.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PAPER_CONFIG, type RunConfig } from '../config.js';
import type { AnalysisFile } from '../analysis/types.js';
import { paperComparison } from './paper-comparison.js';
import { type MetricsRow, RunDir, writeFileAtomic } from '../run-dir.js';
import { type Phase, type ReportAnalysis, readAnalysis } from './analysis-view.js';
import {
  accuracyCaption,
  frequencyHeatmapCaption,
  giniCaption,
  liveNote,
  lossCaption,
  pct,
  restrictedExcludedCaption,
  weightsCaption,
} from './captions.js';
import { clusterChart } from './charts/clusters.js';
import { fourierBarChart } from './charts/fourier-bars.js';
import { frequencyHeatmapChart } from './charts/frequency-heatmap.js';
import { heatmapChart } from './charts/heatmap.js';
import { type Point, lineChart } from './charts/lines.js';
import { downsample } from './downsample.js';
import { escapeHtml, figure, formatNumber, missing, page, table } from './html.js';
import { readLiveView } from './live-view.js';
import { neuronMap } from './neuron-map.js';
import { originalRun } from './reference-data.js';
import { GROK_TEST_LOSS, stepsToGrok } from '../steps-to-grok.js';
import { type ChartSpec, renderSvg } from './vega-svg.js';

export interface RunReportOptions {
  /** Training is still running: the page reloads itself every `refreshSeconds` (default 30). */
  live?: boolean;
  refreshSeconds?: number;
  /** Draw a neuron's heat-map from the newest checkpoint (default true; costs one forward pass on p² inputs). */
  neuronMap?: boolean;
}

export interface RunReport {
  html: string;
  /** Figure id → SVG, in page order. */
  figures: Map<string, string>;
}

/** At most this many points per line: enough to look exact at the page's width. */
const MAX_POINTS = 600;

const TRAIN = '#1f77b4';
const TEST = '#d62728';

/** What every section of the page draws from. */
interface Run {
  dir: string;
  run: RunDir;
  config: RunConfig;
  rows: MetricsRow[];
  /** analysis.json, for the figures only the final analysis has. */
  analysis: ReportAnalysis | null;
  /**
   * The progress measures over training: analysis.json's, or the live report's (`live` set) where there is no
   * analysis.json or the live rows go further (a run extended after its analysis); else none.
   */
  measures: ReportAnalysis | null;
  grokStep: number | null;
  phases: Phase[];
  /** The metrics thinned to MAX_POINTS per line. */
  thin: MetricsRow[];
  draw: Draw;
}

type Draw = (id: string, spec: ChartSpec, caption: string) => Promise<string>;

/** The page, section by section, in reading order. */
export async function buildRunReport(dir: string, options: RunReportOptions = {}): Promise<RunReport> {
  const run = new RunDir(dir);
  if (!run.exists()) throw new Error(`report: no run at ${dir} (config.json is missing)`);
  const figures = new Map<string, string>();
  const draw: Draw = async (id, spec, caption) => {
    const svg = await renderSvg(spec);
    figures.set(id, svg);
    return figure(id, svg, caption);
  };
  const rows = run.readMetrics();
  const config = run.readConfig();
  const analysis = readAnalysis(run);
  // The live rows stand in until analysis.json exists, and while a run extended past its analysis trains on.
  const live = readLiveView(run, rows, config.p);
  const measures = live && (!analysis || live.finalStep > analysis.finalStep) ? live : analysis;
  const r: Run = {
    dir,
    run,
    config,
    rows,
    analysis,
    measures,
    grokStep: stepsToGrok(rows),
    phases: measures?.phases ?? [],
    thin: downsample(rows, MAX_POINTS, (row) => Math.log(row.test_loss)),
    draw,
  };
  const name = path.basename(path.resolve(dir));
  const parts = [
    header(name, r, options),
    ...(await trainingCurves(r)),
    ...(await besideTheOriginal(r)),
    ...(await progressMeasures(r)),
    ...(await algorithmAtTheEnd(r, options)),
    ...ablations(r),
    ...besideThePaper(r),
    footer(r),
  ];
  const html = page({
    title: `grok: ${name}`,
    refreshSeconds: options.live ? (options.refreshSeconds ?? 30) : undefined,
    body: parts.join('\n'),
  });
  return { html, figures };
}

/** Points of metrics fields, one series per field. */
function series(r: Run, fields: [keyof MetricsRow, string][]): Point[] {
  return r.thin.flatMap((row) => fields.map(([f, label]) => ({ step: row.step, series: label, value: row[f] })));
}

const grokRule = (step: number | null) => (step !== null ? [{ step, label: `test loss < ${GROK_TEST_LOSS} at ${step}` }] : []);

async function trainingCurves(r: Run): Promise<string[]> {
  const out = ['<h2>Training curves</h2><div class="grid">'];
  if (r.rows.length === 0) out.push('<p class="missing">No metrics yet: metrics.jsonl is empty.</p>');
  else {
    out.push(
      await r.draw(
        'loss',
        lineChart({
          title: 'Loss (log scale)',
          yTitle: 'cross-entropy',
          logY: true,
          points: series(r, [['train_loss', 'train'], ['test_loss', 'test']]),
          series: lineSeries(),
          phases: r.phases,
          rules: grokRule(r.grokStep),
        }),
        lossCaption(r.rows, r.grokStep, r.phases.length === 0 ? null : r.analysis ? 'analysis' : 'losses so far'),
      ),
      await r.draw(
        'accuracy',
        lineChart({
          title: 'Accuracy',
          yTitle: 'accuracy',
          points: series(r, [['train_acc', 'train'], ['test_acc', 'test']]),
          series: lineSeries(),
          yDomain: [0, 1],
          phases: r.phases,
        }),
        accuracyCaption(r.rows),
      ),
    );
  }
  out.push('</div>');
  return out;
}

async function besideTheOriginal(r: Run): Promise<string[]> {
  const out = ['<h2>Beside the original paper</h2><div class="grid">'];
  const original = downsample(originalRun(), MAX_POINTS, (row) => Math.log(row.test_loss));
  const lossPoints = (rs: readonly { step: number; train_loss: number; test_loss: number }[]): Point[] =>
    rs.flatMap((row) => [{ step: row.step, series: 'train', value: row.train_loss }, { step: row.step, series: 'test', value: row.test_loss }]);
  const yDomain: [number, number] = [1e-8, 1e2];
  const c = r.config;
  if (r.rows.length > 0) {
    const title = `This run: p = ${c.p}, ${pct(c.frac_train)} data, wd ${c.weight_decay}`;
    out.push(
      await r.draw(
        'ours',
        lineChart({ title, yTitle: 'loss', logY: true, points: lossPoints(r.thin), series: lineSeries(), rules: grokRule(r.grokStep), yDomain, width: 470 }),
        'Our loss curves on the same axes as the original.',
      ),
    );
  }
  out.push(
    await r.draw(
      'original',
      lineChart({
        title: 'Original: p = 113, 30 % data, wd 1',
        yTitle: 'loss',
        logY: true,
        points: lossPoints(original),
        series: lineSeries(),
        rules: grokRule(stepsToGrok(originalRun())),
        yDomain,
        width: 470,
      }),
      'The 30 % run of the original data-fraction sweep (Nanda et al. 2023, <code>original_frac_train_sweep.csv</code>; copied in packages/grokking/data/).',
    ),
    '</div>',
  );
  return out;
}

async function progressMeasures(r: Run): Promise<string[]> {
  const out = ['<h2>Progress measures</h2>'];
  if (!r.measures) out.push(analysisMissing(r));
  else if (r.measures.live) out.push(`<p class="live">${liveNote(r.measures)}</p>`);
  const figures = r.measures ? await progressFigures(r.measures, r.draw) : [];
  if (r.rows.length > 0) {
    const weights = lineChart({
      title: 'Sum of squared weights',
      yTitle: 'Σ w²',
      points: series(r, [['weight_norm', 'Σ w²']]),
      series: [{ name: 'Σ w²', color: '#2ca02c' }],
      phases: r.phases,
    });
    figures.push(await r.draw('weights', weights, weightsCaption(r.rows)));
  }
  if (figures.length > 0) out.push('<div class="grid">', ...figures, '</div>');
  return out;
}

async function algorithmAtTheEnd(r: Run, options: RunReportOptions): Promise<string[]> {
  const out = ['<h2>The algorithm at the end of training</h2>'];
  if (!r.analysis) out.push(analysisMissing(r));
  else out.push('<div class="grid">', ...(await endFigures(r.analysis, r.draw)), '</div>');
  if (!(options.neuronMap ?? true)) return out;
  const wanted = r.analysis?.heatmapNeuron;
  const map = neuronMap(r.run, wanted?.neuron);
  if (!map) return out;
  const freq = wanted && wanted.neuron === map.neuron ? `, cluster k = ${wanted.frequency}` : '';
  out.push(
    '<div class="grid">',
    await r.draw(
      'neuron-heatmap',
      heatmapChart(`Neuron ${map.neuron}${freq} at step ${map.step}`, map.p, map.values),
      `Post-ReLU activation of MLP neuron ${map.neuron} at the <code>=</code> position for every input (a, b) ` +
        '(hook <code>blocks.0.mlp.hook_post</code>). A neuron of the generalising circuit is periodic in a and b; a memorising one is noise.',
    ),
    '</div>',
  );
  return out;
}

function ablations(r: Run): string[] {
  const out = ['<h2>Ablations</h2>'];
  if (!r.analysis) out.push(analysisMissing(r));
  else if (!r.analysis.ablations?.length) out.push('<p>The analysis ran no ablations.</p>');
  else out.push(ablationTable(r.analysis));
  return out;
}

/** The paper's numbers beside the run's (paper-comparison.ts); only once analysis.json exists. */
function besideThePaper(r: Run): string[] {
  if (!fs.existsSync(r.run.analysisPath)) return [];
  const analysis = JSON.parse(fs.readFileSync(r.run.analysisPath, 'utf8')) as AnalysisFile;
  const differs = (Object.keys(PAPER_CONFIG) as (keyof RunConfig)[]).filter(
    (k) => ['p', 'frac_train', 'seed', 'split', 'weight_decay', 'lr', 'd_model', 'd_mlp', 'n_heads', 'd_head', 'steps'].includes(k) && r.config[k] !== PAPER_CONFIG[k],
  );
  const note = differs.length
    ? `<p class="subtitle">This run is not the paper's config: ${differs.map((k) => `${escapeHtml(k)} = ${escapeHtml(JSON.stringify(r.config[k]))}`).join(', ')}.</p>`
    : '';
  const code = (text: string) => escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
  const rows = paperComparison(analysis, r.rows).map((x) => [code(x.measure), code(x.paper), code(x.ours), code(x.source)]);
  return ['<h2>The paper vs this run</h2>', note, table(['measure', 'the paper', 'this run', 'from'], rows)];
}

function footer(r: Run): string {
  const lastStep = r.rows.at(-1)?.step ?? 0;
  return (
    `<p class="subtitle">Written ${escapeHtml(new Date().toISOString())} at step ${lastStep} by <code>pnpm grok report ${escapeHtml(r.dir)}</code>. ` +
    `Steps to grok = the first logged step with test loss &lt; ${GROK_TEST_LOSS}, the original sweep's definition.</p>`
  );
}

const analysisMissing = (r: Run) => missing('analysis not run yet', `pnpm grok analyze ${r.dir}`);

/** Writes report.html and figures/*.svg; returns the report's path. */
export async function writeRunReport(dir: string, options: RunReportOptions = {}): Promise<string> {
  const report = await buildRunReport(dir, options);
  const run = new RunDir(dir);
  const figuresDir = path.join(dir, 'figures');
  fs.mkdirSync(figuresDir, { recursive: true });
  for (const [id, svg] of report.figures) writeFileAtomic(path.join(figuresDir, `${id}.svg`), svg);
  writeFileAtomic(run.reportPath, report.html);
  return run.reportPath;
}

async function progressFigures(a: ReportAnalysis, draw: Draw): Promise<string[]> {
  const s = a.series;
  const at = (label: string, values?: number[]): Point[] => (values ? s.steps.map((step, i) => ({ step, series: label, value: values[i]! })) : []);
  const out = [
    await draw(
      'restricted-excluded',
      lineChart({
        title: 'Restricted and excluded loss',
        yTitle: 'cross-entropy',
        logY: true,
        points: [...at('train', s.trainLoss), ...at('test', s.testLoss), ...at('restricted', s.restrictedLoss), ...at('excluded', s.excludedLoss)],
        series: [
          { name: 'train', color: TRAIN },
          { name: 'test', color: TEST },
          { name: 'restricted', color: '#9467bd', dash: [6, 3] },
          { name: 'excluded', color: '#ff7f0e', dash: [6, 3] },
        ],
        phases: a.phases,
      }),
      restrictedExcludedCaption(a),
    ),
    await draw(
      'gini',
      lineChart({
        title: 'Sparsity in the Fourier basis (Gini)',
        yTitle: 'Gini coefficient',
        points: [...at('W_E', s.giniWE), ...at('W_L', s.giniWL)],
        series: [{ name: 'W_E', color: '#17becf' }, { name: 'W_L', color: '#8c564b' }],
        yDomain: [0, 1],
        phases: a.phases,
      }),
      giniCaption(a),
    ),
  ];
  if (s.embeddingFrequencyNorms) {
    const title = `W_E's Fourier spectrum over training${a.live ? ' (so far)' : ''}`;
    out.push(await draw('fourier-over-training', frequencyHeatmapChart(title, s.steps, s.embeddingFrequencyNorms), frequencyHeatmapCaption(a)));
  }
  return out;
}

async function endFigures(a: ReportAnalysis, draw: Draw): Promise<string[]> {
  const out: string[] = [];
  const keys = a.keyFrequencies.length ? a.keyFrequencies.join(', ') : 'none';
  if (a.fourierWE) {
    out.push(await draw('fourier-we', fourierBarChart(`W_E in the Fourier basis (step ${a.finalStep})`, a.fourierWE, a.keyFrequencies), `Norm of each Fourier component of the embedding; key frequencies (${keys}) in red.`));
  }
  if (a.fourierWL) {
    out.push(await draw('fourier-wl', fourierBarChart(`W_L in the Fourier basis (step ${a.finalStep})`, a.fourierWL, a.keyFrequencies), 'Norm of each Fourier component (over the output class) of the neuron-logit map W_L.'));
  }
  if (a.clusters?.length) {
    const total = a.clusters.reduce((n, c) => n + c.neurons, 0) + (a.unclustered ?? 0);
    const clustered = a.clusters.reduce((n, c) => n + c.neurons, 0);
    out.push(await draw('clusters', clusterChart(a.clusters, a.unclustered), `${clustered} of ${total} neurons have more than 85 % of their variance in one frequency.`));
  }
  if (a.logitFitVariance !== undefined) {
    out.push(`<p class="note">The logits are fitted by Σ<sub>k</sub> α<sub>k</sub> cos(ω<sub>k</sub>(a+b−c)) over the key frequencies with ${pct(a.logitFitVariance)} of their variance explained.</p>`);
  }
  return out;
}

function ablationTable(a: ReportAnalysis): string {
  return table(
    ['ablation', 'what', 'train loss before', 'train loss after', 'test loss before', 'test loss after', 'test acc. after'],
    a.ablations!.map((x) => [escapeHtml(x.name), escapeHtml(x.description), x.trainLossBefore, x.trainLossAfter, x.testLossBefore, x.testLossAfter, pct(x.testAccuracyAfter)]),
  );
}

function header(name: string, r: Run, o: RunReportOptions): string {
  const { config: c, rows, measures: a, grokStep } = r;
  const last = rows.at(-1);
  const msPerStep = rows.filter((r) => r.step_ms > 0);
  const meanMs = msPerStep.length ? msPerStep.reduce((s, r) => s + r.step_ms, 0) / msPerStep.length : NaN;
  const live = o.live
    ? `<p class="live">Training in progress: step ${last?.step ?? 0} of ${c.steps}. This page reloads every ${o.refreshSeconds ?? 30} s.</p>`
    : '';
  const facts: [string, string | number][] = [
    ['steps logged', last ? `${last.step} of ${c.steps}` : `0 of ${c.steps}`],
    ['train / test loss', last ? `${formatNumber(last.train_loss)} / ${formatNumber(last.test_loss)}` : '—'],
    ['train / test accuracy', last ? `${pct(last.train_acc)} / ${pct(last.test_acc)}` : '—'],
    ['steps to grok', grokStep !== null ? grokStep : 'not yet (test loss ≥ 0.01)'],
    ['key frequencies', a ? (a.keyFrequencies.join(', ') || 'none') + (a.live ? ` (live: checkpoint ${a.finalStep})` : '') : 'analysis not run yet'],
    ['time per step', Number.isFinite(meanMs) ? `${meanMs.toFixed(1)} ms` : '—'],
  ];
  const model = `${c.n_layers} layer${c.n_layers > 1 ? 's' : ''}, d_model ${c.d_model}, ${c.n_heads} heads × ${c.d_head}, ${c.attn_only ? 'attention only' : `d_mlp ${c.d_mlp}`}`;
  return `<h1>Grokking run ${escapeHtml(name)}</h1>
<p class="subtitle">(a + b) mod ${c.p} · ${pct(c.frac_train)} of pairs for training · ${escapeHtml(model)} · AdamW lr ${c.lr}, weight decay ${c.weight_decay} · seed ${c.seed}</p>
${live}
${table(['', ''], facts.map(([k, v]) => [escapeHtml(k), typeof v === 'number' ? v : escapeHtml(v)]))}`;
}

function lineSeries() {
  return [{ name: 'train', color: TRAIN }, { name: 'test', color: TEST }];
}
