/**
 * "The paper vs this run": each number the paper (or its original code's runs) reports, beside ours and
 * where ours comes from. The paper's numbers are written out here once, from shared/reference/PAPER.md;
 * ours are read from the run's analysis.json and metrics.jsonl, never typed in, so the table in the README
 * and in report.html cannot drift from the run.
 *
 * The rules that turn curves into one number (first step below a threshold, and so on) are spelled out in
 * each row's `source`, so a reader can check them against the files by hand.
 */
import type { AblationResult, AnalysisFile, CheckpointMeasures } from '../analysis/types.js';
import type { MetricsRow } from '../run-dir.js';
import { GROK_TEST_LOSS, stepsToGrok } from '../steps-to-grok.js';

export interface ComparisonRow {
  measure: string;
  paper: string;
  ours: string;
  /** Which file and which rule our number comes from. */
  source: string;
}

/** What the paper says each ablation does to the loss (PAPER.md, "Mechanistic findings"). */
const PAPER_ABLATIONS: Record<string, string> = {
  'remove-key-frequencies-from-logits': 'destroys performance: loss far above uniform (ln 113 = 4.73)',
  'keep-only-key-frequencies-in-logits': 'improves the loss',
  'replace-clustered-neurons-by-quadratic-fit': 'barely changes the loss',
};

const int = (n: number) => n.toLocaleString('en-US');
const loss = (x: number) => (Math.abs(x) >= 0.01 ? x.toFixed(2) : x.toExponential(1));
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const end = (phase: [number, number] | null) => (phase ? int(phase[1]) : '—');

/** The first checkpoint at or after `from` where `value` passes `threshold` (below, or above with `above`). */
function firstStep(rows: readonly CheckpointMeasures[], value: (r: CheckpointMeasures) => number, threshold: number, above = false): number | null {
  for (const r of rows) if (above ? value(r) > threshold : value(r) < threshold) return r.step;
  return null;
}

/** "N steps before/after" between two steps, or why not. */
function lead(ours: number | null, test: number | null, what: string): string {
  if (ours === null) return `${what} never`;
  if (test === null) return `${what} at ${int(ours)}; the test loss never did`;
  const d = test - ours;
  return `${what} at ${int(ours)}, ${int(Math.abs(d))} steps ${d >= 0 ? 'before' : 'after'} the test loss (${int(test)})`;
}

export function paperComparison(analysis: AnalysisFile, metrics: readonly MetricsRow[]): ComparisonRow[] {
  const { final, phases, overTraining: rows } = analysis;
  const p = final.p;
  const chance = Math.log(p);
  const grok = stepsToGrok(metrics);
  const peak = metrics.reduce<MetricsRow | null>((best, r) => (best === null || r.test_loss > best.test_loss ? r : best), null);
  const first = rows[0]!;
  const last = rows.at(-1)!;
  const mlp = final.neurons?.count ?? 0;

  // Progress measures against the test loss, all at the checkpoints (every `checkpoint_every` steps).
  const testBelow = firstStep(rows, (r) => r.testLoss, GROK_TEST_LOSS);
  const restrictedBelow = firstStep(rows, (r) => r.restrictedLoss, GROK_TEST_LOSS);
  const memorised = phases.memorisation?.[1] ?? first.step;
  const afterMemorisation = rows.filter((r) => r.step >= memorised);
  const excludedAbove = firstStep(afterMemorisation, (r) => r.excludedLoss, chance, true);
  const excludedPeak = afterMemorisation.reduce((best, r) => (r.excludedLoss > best.excludedLoss ? r : best), afterMemorisation[0] ?? first);

  const out: ComparisonRow[] = [
    {
      measure: 'phase ends: memorisation / circuit formation / cleanup',
      paper: '1.4k / 9.4k / 14k',
      ours: `${end(phases.memorisation)} / ${end(phases.circuitFormation)} / ${end(phases.cleanup)}`,
      source: 'analysis.json `phases` (the rule is written there, from the test-loss curve)',
    },
    {
      measure: `first step with test loss < ${GROK_TEST_LOSS}`,
      paper: '8,258 (the original data-fraction sweep at 30 %)',
      ours: grok === null ? 'never' : int(grok),
      source: 'metrics.jsonl (logged every few steps)',
    },
    {
      measure: 'test-loss peak',
      paper: '≈ 27–40, near step 1.4k',
      ours: peak ? `${peak.test_loss.toFixed(1)} at step ${int(peak.step)}` : '—',
      source: 'metrics.jsonl, the largest test loss',
    },
    {
      measure: 'final test loss (float64)',
      paper: '≈ 1e-7',
      ours: `${loss(last.testLoss)} at step ${int(last.step)}`,
      source: 'analysis.json, the last checkpoint',
    },
    {
      measure: 'key frequencies',
      paper: '14, 35, 41, 42, 52 (5; other seeds: 3–5 others)',
      ours: `${final.keyFrequencies.join(', ') || 'none'} (${final.keyFrequencies.length})`,
      source: `analysis.json \`final.keyFrequencies\` (a frequency counts if ≥ ${final.keyFrequencyRule.minNeurons} neurons have it as their best)`,
    },
    {
      measure: `neurons clustered (fraction > ${final.clusterThreshold})`,
      paper: '433 of 512',
      ours: `${final.neuronsClustered} of ${mlp}`,
      source: 'analysis.json `final.neuronsClustered`',
    },
    {
      measure: 'logit variance explained by Σ αk cos(wk(a+b−c))',
      paper: '≈ 95 %',
      ours: pct(final.logitFit.varianceExplained),
      source: 'analysis.json `final.logitFit` (key frequencies, per-input-centred logits)',
    },
    {
      measure: 'Gini of W_E Fourier norms, start → end',
      paper: 'rises (sparse at the end), jumping at cleanup',
      ours: `${first.giniWE.toFixed(2)} → ${last.giniWE.toFixed(2)}`,
      source: `analysis.json \`overTraining\`, steps ${int(first.step)} and ${int(last.step)}`,
    },
    {
      measure: 'Gini of W_L Fourier norms, start → end',
      paper: 'rises, jumping at cleanup',
      ours: first.giniWL === null || last.giniWL === null ? '— (attention-only)' : `${first.giniWL.toFixed(2)} → ${last.giniWL.toFixed(2)}`,
      source: 'the same rows',
    },
    {
      measure: 'Σ of squared weights, start → end',
      paper: 'falls during circuit formation and cleanup',
      ours: `${first.sumSquaredWeights.toFixed(0)} → ${last.sumSquaredWeights.toFixed(0)}`,
      source: 'the same rows',
    },
    {
      measure: 'restricted loss falls before the test loss',
      paper: 'yes, during circuit formation',
      ours: lead(restrictedBelow, testBelow, `below ${GROK_TEST_LOSS}`),
      source: `analysis.json \`overTraining\`, key frequencies of the final checkpoint, first checkpoint below ${GROK_TEST_LOSS}`,
    },
    {
      measure: 'excluded loss rises',
      paper: 'yes, during circuit formation',
      ours:
        `${loss(afterMemorisation[0]?.excludedLoss ?? NaN)} at the end of memorisation → ${loss(excludedPeak.excludedLoss)} at step ${int(excludedPeak.step)}; ` +
        lead(excludedAbove, testBelow, `above ln ${p} = ${chance.toFixed(2)}`),
      source: 'the same rows (train pairs only), from the end of memorisation',
    },
  ];
  for (const a of final.ablations) out.push(ablationRow(a));
  return out;
}

function ablationRow(a: AblationResult): ComparisonRow {
  return {
    measure: `ablation: ${a.name.replace(/-/g, ' ')}`,
    paper: PAPER_ABLATIONS[a.name] ?? '— (not in the paper)',
    ours: `test loss ${loss(a.testLossBefore)} → ${loss(a.testLossAfter)} (train ${loss(a.trainLossBefore)} → ${loss(a.trainLossAfter)})`,
    source: 'analysis.json `final.ablations`',
  };
}

/** The rows as a Markdown table (for the README and docs/runs). */
export function comparisonMarkdown(rows: readonly ComparisonRow[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '| measure | the paper | this run | from |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${cell(r.measure)} | ${cell(r.paper)} | ${cell(r.ours)} | ${cell(r.source)} |`),
  ].join('\n');
}
