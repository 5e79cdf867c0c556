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

/** `phasesFrom`: where the shaded phases come from (null: none are shown). */
export function lossCaption(rows: readonly MetricsRow[], grokStep: number | null, phasesFrom: 'analysis' | 'losses so far' | null): string {
  const over = {
    analysis: ', over the three phases found by the analysis',
    'losses so far': ", over the phases found so far (the analysis's rule on the losses logged up to now)",
  };
  const what = `Train and test loss per step${phasesFrom ? over[phasesFrom] : ''}.`;
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
  const what = a.live
    ? "Restricted loss keeps only the key frequencies' directions of the logits; excluded loss removes them and is " +
      `measured on the training pairs. Live, each checkpoint uses its own key frequencies (the newest, step ${a.finalStep}: ${keys}).`
    : `Restricted loss keeps only the key frequencies' directions (${keys}) of the logits; ` +
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

export function frequencyHeatmapCaption(a: ReportAnalysis): string {
  const keys = a.keyFrequencies.join(', ') || 'none';
  return (
    "Share of the embedding's Fourier energy (‖cos k‖² + ‖sin k‖² of W_E, the constant left out) at each frequency k, " +
    `per ${a.live ? 'measured' : 'analysed'} checkpoint. As the circuit forms, the key frequencies become bright rows ` +
    `(${a.live ? `the newest checkpoint's, step ${a.finalStep}` : 'the final checkpoint\'s'}: ${keys}).`
  );
}

/** The live page's word on its progress measures: how far they got, and which key frequencies they use. */
export function liveNote(a: ReportAnalysis): string {
  const live = a.live!;
  const keys = a.keyFrequencies.join(', ') || 'none';
  const pending = live.pending.length > 0 ? ` (not yet: step${live.pending.length > 1 ? 's' : ''} ${rangeList(live.pendingRanges)})` : '';
  return (
    `Live progress measures: ${live.measured} of ${live.checkpoints} checkpoints measured${pending}, each once, ` +
    'by the live report beside training (<code>live-measures.jsonl</code>). The final key frequencies are not known ' +
    "yet, so each checkpoint's restricted and excluded loss use its own key frequencies: the newest " +
    `(step ${a.finalStep}) has ${keys}, the same set at every measured checkpoint since step ${live.keysSinceStep}. ` +
    "When training ends, the analysis redoes these curves with the final checkpoint's key frequencies at every step, as in the paper."
  );
}

/** At most six ranges of checkpoints: "100, 300–900, 1200 and 4 more". */
function rangeList(ranges: readonly [number, number][]): string {
  const shown = ranges.slice(0, 6).map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`));
  return shown.join(', ') + (ranges.length > 6 ? ` and ${ranges.length - 6} more` : '');
}

export function pct(x: number): string {
  return `${(100 * x).toFixed(x >= 0.995 && x < 1 ? 2 : x < 0.1 ? 1 : 0)} %`;
}
