/**
 * Data fraction: the fraction of the p² pairs used for training, 0.2 … 0.6, at the default weight decay,
 * against the original paper's data-fraction sweep (p = 113; data/original_steps_to_grok.csv). Less data
 * means a larger memorising solution to shrink and fewer examples that reward the general one.
 */
import * as path from 'node:path';
import { lineChart } from '../report/charts/lines.js';
import { stepsToGrokChart, sweepPoint } from '../report/charts/steps-to-grok.js';
import { escapeHtml, table } from '../report/html.js';
import { originalStepsToGrok } from '../report/reference-data.js';
import { type RunFacts, facts, fmtInt, groupBy, listPhrase, pairs, toPoints } from './curves.js';
import { type Experiment, experimentDir } from './experiment.js';
import { SectionBuilder } from './report.js';
import { type ExperimentOptions, STOP_WHEN_GROKKED, baseConfig, describeSettings, seedsOf } from './settings.js';
import type { FinishedRun, PlannedRun } from './sweep.js';

export const FRACTIONS = [0.2, 0.3, 0.4, 0.5, 0.6];

export interface FractionRun extends RunFacts {
  fraction: number;
  testLoss: [number, number][];
}

export interface DataFractionSummary {
  settings: string;
  runs: FractionRun[];
  /** The original sweep's steps to grok, for the fractions it has in 0.2 … 0.6. */
  original: { fraction: number; stepsToGrok: number }[];
}

export function fractionPlan(o: ExperimentOptions, name = 'data-fraction'): PlannedRun[] {
  return (o.fractions ?? FRACTIONS).flatMap((fraction) =>
    seedsOf(o, 2).map((seed) => ({
      dir: path.join(experimentDir(o, name), `frac${fraction}-seed${seed}`),
      label: `frac ${fraction}, seed ${seed}`,
      config: baseConfig(o, { frac_train: fraction, seed, ...STOP_WHEN_GROKKED }),
    })),
  );
}

function summarize(runs: FinishedRun[]): DataFractionSummary {
  return {
    settings: describeSettings(runs[0]!.config, ['frac_train']),
    runs: runs.map((r) => ({ ...facts(r), fraction: r.config.frac_train, testLoss: pairs(r.rows, (x) => x.test_loss) })),
    original: originalStepsToGrok()
      .filter((r) => r.frac_train >= 0.2 && r.frac_train <= 0.6)
      .map((r) => ({ fraction: r.frac_train, stepsToGrok: r.steps_to_grok })),
  };
}

/** 'falls', 'rises' or 'is not monotone' for ys in the order of xs. */
export function trend(points: readonly { x: number; y: number }[]): 'falls' | 'rises' | 'is not monotone' | 'is flat' {
  const sorted = [...points].sort((a, b) => a.x - b.x);
  const d = sorted.slice(1).map((p, i) => Math.sign(p.y - sorted[i]!.y));
  if (d.length === 0 || d.every((s) => s === 0)) return 'is flat';
  if (d.every((s) => s <= 0)) return 'falls';
  if (d.every((s) => s >= 0)) return 'rises';
  return 'is not monotone';
}

export function dataFractionFinding(s: DataFractionSummary): string {
  // Seeds of one fraction are reported together: "1,500 and 1,620 steps with 40 %"; the trend uses their mean.
  const byFraction = [...groupBy(s.runs, (r) => r.fraction)].sort((a, b) => a[0] - b[0]);
  const grokked = byFraction
    .map(([fraction, runs]) => ({ fraction, steps: runs.filter((r) => r.stepsToGrok !== null).map((r) => r.stepsToGrok!) }))
    .filter((g) => g.steps.length > 0);
  const never = byFraction.filter(([, runs]) => runs.some((r) => r.stepsToGrok === null)).map(([fraction, runs]) => ({ fraction, n: runs.filter((r) => r.stepsToGrok === null).length, of: runs.length }));
  const longest = Math.max(...s.runs.map((r) => r.lastStep));
  const pct = (f: number) => `${Math.round(100 * f)} %`;
  let text = grokked.length
    ? `Ours grokked at ${listPhrase(grokked.map((g) => `${listPhrase(g.steps.map(fmtInt))} steps with ${pct(g.fraction)}`))}`
    : `None of our runs grokked within ${fmtInt(longest)} steps`;
  if (grokked.length && never.length) {
    text += `, and did not grok within ${fmtInt(longest)} steps with ${listPhrase(never.map((g) => (g.of > 1 ? `${pct(g.fraction)} (${g.n} of ${g.of} seeds)` : pct(g.fraction))))}`;
  }
  text += '.';
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  if (grokked.length > 1) text += ` Steps to grok ${trend(grokked.map((g) => ({ x: g.fraction, y: mean(g.steps) })))} as the data fraction grows`;
  if (s.original.length > 1) {
    text += `${grokked.length > 1 ? '; in' : ' In'} the original sweep (p = 113) it ${trend(s.original.map((r) => ({ x: r.fraction, y: r.stepsToGrok })))}, from ${fmtInt(s.original[0]!.stepsToGrok)} steps at ${Math.round(100 * s.original[0]!.fraction)} % to ${fmtInt(s.original.at(-1)!.stepsToGrok)} at ${Math.round(100 * s.original.at(-1)!.fraction)} %.`;
  } else if (grokked.length > 1) text += '.';
  return text;
}

async function section(s: DataFractionSummary) {
  const b = new SectionBuilder('data-fraction');
  b.add(
    `<p class="subtitle">Settings: ${escapeHtml(s.settings)}; the data fraction varies. Runs stop early once the test loss has stayed below 5·10⁻³ for 10 logged steps.</p>`,
    '<div class="grid">',
    await b.draw(
      'steps',
      stepsToGrokChart({
        title: 'Steps to grok against data fraction',
        xTitle: 'fraction of pairs for training',
        ours: s.runs.map((r) => sweepPoint(r.fraction, r, r.label)),
        reference: s.original.map((r) => ({ x: r.fraction, steps: r.stepsToGrok })),
      }),
      "Grey squares: the original sweep (p = 113, wd 1, lr 10⁻³). Hollow triangles: ours, not grokked (a lower bound).",
    ),
    await b.draw(
      'test-loss',
      lineChart({ title: 'Test loss by data fraction', yTitle: 'test loss', logY: true, points: s.runs.flatMap((r) => toPoints(`${r.fraction} s${r.seed}`, r.testLoss)) }),
      'One line per run.',
    ),
    '</div>',
    table(
      ['run', 'data fraction', 'steps to grok', 'original (p = 113)', 'steps run', 'final test acc.'],
      s.runs.map((r) => [
        escapeHtml(r.label),
        String(r.fraction),
        r.stepsToGrok ?? '—',
        s.original.find((x) => Math.abs(x.fraction - r.fraction) < 1e-9)?.stepsToGrok ?? '—',
        r.lastStep,
        `${(100 * r.finalTestAcc).toFixed(1)} %`,
      ]),
    ),
  );
  return b.done();
}

export const dataFraction: Experiment<DataFractionSummary> = {
  name: 'data-fraction',
  title: 'Data fraction: how much data does grokking need?',
  plan: (o) => fractionPlan(o),
  summarize: (runs) => summarize(runs),
  finding: dataFractionFinding,
  section,
};
