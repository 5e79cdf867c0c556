/**
 * The run report's captions: what each figure shows, and what this run did in it, computed from its metrics
 * and analysis (a caption never claims an outcome the run did not have).
 */
import type { MetricsRow } from '../run-dir.js';
import { GROK_TEST_LOSS } from '../steps-to-grok.js';
import type { ReportAnalysis } from './analysis-view.js';
import { formatNumber } from './html.js';

/** The first row at which `ok` holds, or undefined. */
const firstStep = <R extends { step: number }>(rows: readonly R[], ok: (r: R) => boolean) => rows.find(ok)?.step;

export function lossCaption(rows: readonly MetricsRow[], grokStep: number | null, hasPhases: boolean): string {
  const what = `Train and test loss per step${hasPhases ? ', over the three phases found by the analysis' : ''}.`;
  if (grokStep === null) return `${what} The test loss has not fallen below ${GROK_TEST_LOSS} yet (it is ${formatNumber(rows.at(-1)!.test_loss)}).`;
  const trainBelow = firstStep(rows, (r) => r.train_loss < GROK_TEST_LOSS);
  const before = trainBelow !== undefined && trainBelow < grokStep ? `, ${grokStep - trainBelow} steps after the train loss did (step ${trainBelow})` : '';
  return `${what} The test loss fell below ${GROK_TEST_LOSS} at step ${grokStep}${before}.`;
}

export function accuracyCaption(rows: readonly MetricsRow[]): string {
  const train = firstStep(rows, (r) => r.train_acc >= 1);
  const test = firstStep(rows, (r) => r.test_acc >= 0.99);
  const trainText = train !== undefined ? `Train accuracy reached 100 % at step ${train}` : `Train accuracy has not reached 100 % (it is ${pct(rows.at(-1)!.train_acc)})`;
  const testText =
    test !== undefined
      ? `test accuracy reached 99 % at step ${test}${train !== undefined && test > train ? `, ${test - train} steps later` : ''}`
      : `test accuracy has not reached 99 % (at most ${pct(Math.max(...rows.map((r) => r.test_acc)))})`;
  return `${trainText}; ${testText}.`;
}

export function weightsCaption(rows: readonly MetricsRow[]): string {
  const peak = rows.reduce((m, r) => (r.weight_norm > m.weight_norm ? r : m), rows[0]!);
  const [first, last] = [rows[0]!, rows.at(-1)!];
  const path = peak !== first && peak !== last ? `, up to ${formatNumber(peak.weight_norm)} at step ${peak.step},` : '';
  return `The sum of squared weights went from ${formatNumber(first.weight_norm)} at step ${first.step}${path} to ${formatNumber(last.weight_norm)} at step ${last.step}. Weight decay pulls it down once the training loss is small.`;
}

export function restrictedExcludedCaption(a: ReportAnalysis): string {
  const keys = (a.restrictedLossFrequencies ?? a.keyFrequencies).join(', ') || 'none';
  const s = a.series;
  const what =
    `Restricted loss keeps only the key frequencies' directions (${keys}) of the logits; ` +
    'excluded loss removes them and is measured on the training pairs.';
  const below = (values?: number[]) => values && s.steps.find((_, i) => values[i]! < GROK_TEST_LOSS);
  const [restricted, test] = [below(s.restrictedLoss), below(s.testLoss)];
  const parts: string[] = [];
  if (restricted !== undefined) {
    parts.push(`the restricted loss fell below ${GROK_TEST_LOSS} at step ${restricted}` + (test !== undefined ? `, the test loss at step ${test}` : ', the test loss not yet'));
  } else if (s.restrictedLoss?.length) parts.push(`the restricted loss has not fallen below ${GROK_TEST_LOSS}`);
  const ex = s.excludedLoss;
  if (ex?.length) parts.push(`the excluded loss went from ${formatNumber(ex[0]!)} to ${formatNumber(ex.at(-1)!)}`);
  return parts.length ? `${what} In this run ${parts.join('; ')}.` : what;
}

export function giniCaption(a: ReportAnalysis): string {
  const change = (name: string, v?: number[]) => (v?.length ? `${name} from ${v[0]!.toFixed(2)} to ${v.at(-1)!.toFixed(2)}` : null);
  const changes = [change('W_E', a.series.giniWE), change('W_L', a.series.giniWL)].filter((c) => c !== null);
  const what = 'Gini coefficient of the norms of the Fourier components of the embedding W_E and of W_L = W_U·W_out (1: all in one component).';
  return changes.length ? `${what} Over the analysed checkpoints: ${changes.join(', ')}.` : what;
}

export function pct(x: number): string {
  return `${(100 * x).toFixed(x >= 0.995 && x < 1 ? 2 : x < 0.1 ? 1 : 0)} %`;
}
