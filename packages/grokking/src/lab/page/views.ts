/**
 * The lab's live figures, each a chart spec of the report (report/charts/*) fed with what the worker sent:
 * the logged rows (losses, accuracy, Σw²) and the measures every N steps (restricted and excluded loss,
 * W_E's Fourier norms, one neuron over (a, b)).
 */
import { fourierBarChart, fourierBars } from '../../report/charts/fourier-bars.js';
import { heatmapChart } from '../../report/charts/heatmap.js';
import { type Point, lineChart } from '../../report/charts/lines.js';
import { downsample } from '../../report/downsample.js';
import type { Phase } from '../../report/analysis-view.js';
import type { ChartSpec } from '../../report/vega-svg.js';
import type { AnalysisRow, MetricRow } from '../protocol.js';

const WIDTH = 430;
const HEIGHT = 200;
/** Points per series: plenty for a chart this wide, and quick to render. */
const MAX_POINTS = 400;

const series = (rows: readonly MetricRow[], pick: Record<string, (r: MetricRow) => number>): Point[] =>
  Object.entries(pick).flatMap(([name, value]) => downsample(rows, MAX_POINTS, value).map((r) => ({ step: r.step, series: name, value: value(r) })));

export function lossChart(rows: readonly MetricRow[], phases: readonly Phase[]): ChartSpec {
  return lineChart({
    title: 'Loss', yTitle: 'cross-entropy (log)', logY: true, phases, width: WIDTH, height: HEIGHT,
    points: series(rows, { train: (r) => r.trainLoss, test: (r) => r.testLoss }),
    series: [{ name: 'train', color: '#1f77b4' }, { name: 'test', color: '#d62728' }],
  });
}

export function accuracyChart(rows: readonly MetricRow[], phases: readonly Phase[]): ChartSpec {
  return lineChart({
    title: 'Accuracy', yTitle: 'accuracy', phases, width: WIDTH, height: HEIGHT, yDomain: [0, 1],
    points: series(rows, { train: (r) => r.trainAccuracy, test: (r) => r.testAccuracy }),
    series: [{ name: 'train', color: '#1f77b4' }, { name: 'test', color: '#d62728' }],
  });
}

export function weightsChart(rows: readonly MetricRow[], phases: readonly Phase[]): ChartSpec {
  return lineChart({
    title: 'Sum of squared weights', yTitle: 'Σ w²', phases, width: WIDTH, height: HEIGHT,
    points: series(rows, { 'Σ w²': (r) => r.sumSquaredWeights }),
    series: [{ name: 'Σ w²', color: '#2ca02c' }],
  });
}

/** Restricted loss (only the key frequencies kept) and excluded loss (them removed), with train and test. */
export function restrictedChart(analyses: readonly AnalysisRow[], phases: readonly Phase[]): ChartSpec {
  const points = analyses.flatMap((a) => [
    { step: a.step, series: 'train', value: a.trainLoss },
    { step: a.step, series: 'test', value: a.testLoss },
    { step: a.step, series: 'restricted', value: a.restrictedLoss },
    { step: a.step, series: 'excluded', value: a.excludedLoss },
  ]);
  return lineChart({
    title: 'Restricted and excluded loss', yTitle: 'cross-entropy (log)', logY: true, phases, width: WIDTH, height: HEIGHT, points,
    series: [
      { name: 'train', color: '#1f77b4' },
      { name: 'test', color: '#d62728' },
      { name: 'restricted', color: '#9467bd', dash: [5, 3] },
      { name: 'excluded', color: '#8c564b', dash: [2, 2] },
    ],
  });
}

export function fourierChart(a: AnalysisRow): ChartSpec {
  const spec = fourierBarChart(`W_E in the Fourier basis (step ${a.step})`, fourierBars(a.embeddingComponentNorms), a.keyFrequencies);
  return { ...spec, width: WIDTH } as ChartSpec;
}

export function neuronChart(a: AnalysisRow, p: number): ChartSpec | null {
  if (!a.neuron) return null;
  const spec = heatmapChart(`Neuron ${a.neuron.index} over (a, b) (step ${a.step})`, p, a.neuron.values);
  return { ...spec, width: 300, height: 300 } as ChartSpec;
}
