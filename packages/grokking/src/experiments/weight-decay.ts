/**
 * How critical is weight decay? The same model trained with decoupled weight decay 0, 0.1, 0.3, 1 and 3
 * (two seeds each): steps to grok, and the excluded loss (from the analysis) beside Σw² for every run —
 * the paper's story is that decay shrinks the memorising weights until the generalising circuit, which is
 * cheaper in norm, takes over. Our decay-0.1 runs are drawn beside the original's decay-0.1 run.
 */
import * as path from 'node:path';
import { lineChart } from '../report/charts/lines.js';
import { stepsToGrokChart, sweepPoint } from '../report/charts/steps-to-grok.js';
import { escapeHtml, table } from '../report/html.js';
import { ensureAnalysis } from './analysis.js';
import { type RunFacts, facts, fmt, fmtInt, grokPhrase, groupBy, listPhrase, pairs, toPoints } from './curves.js';
import { type Experiment, experimentDir } from './experiment.js';
import { originalWd01Facts, originalWd01Run } from './original-wd.js';
import { SectionBuilder } from './report.js';
import { type ExperimentOptions, STOP_WHEN_GROKKED, baseConfig, describeSettings, seedsOf } from './settings.js';
import type { FinishedRun, PlannedRun } from './sweep.js';

export const DECAYS = [0, 0.1, 0.3, 1, 3];

export interface DecayRun extends RunFacts {
  decay: number;
  /** [step, value] thinned: Σw² from the metrics, test loss, excluded loss from the analysis. */
  weightNorm: [number, number][];
  testLoss: [number, number][];
  trainLoss: [number, number][];
  excludedLoss: [number, number][];
}

export interface WeightDecaySummary {
  settings: string;
  steps: number;
  runs: DecayRun[];
  /** Seconds the analyses took (for the excluded loss), all runs together. */
  analysisSeconds: number;
  original: { stepsToGrok: number | null; lastStep: number; testLoss: [number, number][]; trainLoss: [number, number][] };
}

/** The runs of a decay sweep (shared with the phases experiment). */
export function decayPlan(o: ExperimentOptions, name = 'weight-decay'): PlannedRun[] {
  // The runs that grok soonest go first: their results (and the distill experiment's run) come early.
  return [1, 3, 0.3, 0.1, 0].filter((d) => DECAYS.includes(d)).flatMap((decay) =>
    seedsOf(o, 2).map((seed) => ({
      dir: path.join(experimentDir(o, name), `wd${decay}-seed${seed}`),
      label: `wd ${decay}, seed ${seed}`,
      // Stop once grokked for good (STOP_WHEN_GROKKED): the fast runs need no more.
      config: baseConfig(o, { weight_decay: decay, seed, ...STOP_WHEN_GROKKED }),
    })),
  );
}

function summarize(runs: FinishedRun[], o: ExperimentOptions): WeightDecaySummary {
  let analysisSeconds = 0;
  const sorted = [...runs].sort((a, b) => a.config.weight_decay - b.config.weight_decay || a.config.seed - b.config.seed);
  const out = sorted.map((r): DecayRun => {
    const { analysis, seconds } = ensureAnalysis(r.dir, o.log);
    analysisSeconds += seconds;
    return {
      ...facts(r),
      decay: r.config.weight_decay,
      weightNorm: pairs(r.rows, (x) => x.weight_norm),
      testLoss: pairs(r.rows, (x) => x.test_loss),
      trainLoss: pairs(r.rows, (x) => x.train_loss),
      excludedLoss: analysis.overTraining.map((m) => [m.step, m.excludedLoss]),
    };
  });
  const original = originalWd01Run();
  const thin = (key: 'test_loss' | 'train_loss') => original.filter((_, i) => i % 4 === 0 || i === original.length - 1).map((x): [number, number] => [x.step, x[key]]);
  return {
    settings: describeSettings(runs[0]!.config, ['weight_decay']),
    steps: runs[0]!.config.steps,
    runs: out,
    analysisSeconds,
    original: { ...originalWd01Facts(), testLoss: thin('test_loss'), trainLoss: thin('train_loss') },
  };
}

/** The finding, from the numbers: which decays grokked, when, and how decay 0.1 compares with the original. */
export function weightDecayFinding(s: WeightDecaySummary): string {
  const byDecay = groupBy(s.runs, (r) => r.decay);
  const parts: string[] = [];
  const never: number[] = [];
  let fastest: { decay: number; mean: number } | null = null;
  for (const [decay, runs] of [...byDecay].sort((a, b) => a[0] - b[0])) {
    const grokked = runs.filter((r) => r.stepsToGrok !== null);
    if (grokked.length === 0) {
      never.push(decay);
      continue;
    }
    const mean = grokked.reduce((t, r) => t + r.stepsToGrok!, 0) / grokked.length;
    if (!fastest || mean < fastest.mean) fastest = { decay, mean };
    const steps = listPhrase(runs.map((r) => (r.stepsToGrok === null ? `not within ${fmtInt(r.lastStep)}` : fmtInt(r.stepsToGrok))));
    parts.push(`decay ${decay} at ${steps} steps`);
  }
  const longest = Math.max(...s.runs.map((r) => r.lastStep));
  let text = parts.length ? `Grokked: ${parts.join('; ')}.` : `No decay grokked within ${fmtInt(longest)} steps.`;
  if (never.length && parts.length) text += ` Decay ${listPhrase(never.map(String))} did not grok within ${fmtInt(longest)} steps.`;
  if (fastest && parts.length > 1) text += ` Fastest on average: decay ${fastest.decay} (${fmtInt(fastest.mean)} steps).`;
  const ours01 = s.runs.filter((r) => r.decay === 0.1);
  if (ours01.length) {
    // Seeds with the same outcome are said once: "ours did not grok within 8,000 steps (2 seeds)".
    const phrases = groupBy(ours01, (r) => grokPhrase(r.stepsToGrok, r.lastStep));
    const ours = listPhrase([...phrases].map(([phrase, runs]) => (runs.length > 1 ? `${phrase} (${runs.length} seeds)` : phrase)));
    text += ` The original decay-0.1 run (p = 113) ${grokPhrase(s.original.stepsToGrok, s.original.lastStep)}; ours ${ours}.`;
  }
  return text;
}

async function section(s: WeightDecaySummary) {
  const b = new SectionBuilder('weight-decay');
  const label = (r: DecayRun) => `wd ${r.decay} s${r.seed}`;
  const series = (key: 'excludedLoss' | 'weightNorm' | 'testLoss') => s.runs.flatMap((r) => toPoints(label(r), r[key]));
  b.add(
    `<p class="subtitle">Settings: ${escapeHtml(s.settings)}; the weight decay as swept, decoupled (AdamW); runs stop early once the test loss has stayed below 5·10⁻³ for 10 logged steps. ` +
      `The analyses behind the excluded loss took ${fmt(s.analysisSeconds)} s in all.</p>`,
    '<div class="grid">',
    await b.draw(
      'steps',
      stepsToGrokChart({
        title: 'Steps to grok against weight decay',
        xTitle: 'weight decay',
        ours: s.runs.map((r) => sweepPoint(r.decay, r, r.label)),
      }),
      'Hollow triangles: did not grok, drawn at the last step (a lower bound).',
    ),
    await b.draw('test-loss', lineChart({ title: 'Test loss', yTitle: 'test loss', logY: true, points: series('testLoss') }), 'Every run; grokking is the fall below 0.01.'),
    '</div><div class="grid">',
    await b.draw(
      'excluded-loss',
      lineChart({ title: 'Excluded loss (key frequencies removed)', yTitle: 'excluded loss (train)', logY: true, points: series('excludedLoss') }),
      "Train loss once the final checkpoint's key frequencies are removed from the logits (in the paper it rises while the circuit forms). A run that never grokked has no real key frequencies.",
    ),
    await b.draw('weight-norm', lineChart({ title: 'Sum of squared weights', yTitle: 'Σ w²', logY: true, points: series('weightNorm') }), 'Σw² of every run, from the metrics, beside the excluded loss.'),
    '</div><div class="grid">',
    await b.draw(
      'ours-wd0.1',
      lineChart({
        title: 'Ours at weight decay 0.1',
        yTitle: 'loss',
        logY: true,
        points: s.runs.filter((r) => r.decay === 0.1).flatMap((r) => [...toPoints(`train s${r.seed}`, r.trainLoss), ...toPoints(`test s${r.seed}`, r.testLoss)]),
      }),
      'Our small model at decay 0.1.',
    ),
    await b.draw(
      'original-wd0.1',
      lineChart({
        title: 'Original at weight decay 0.1 (p = 113)',
        yTitle: 'loss',
        logY: true,
        points: [...toPoints('train', s.original.trainLoss), ...toPoints('test', s.original.testLoss)],
        rules: s.original.stepsToGrok !== null ? [{ step: s.original.stepsToGrok, label: `groks: ${fmtInt(s.original.stepsToGrok)}` }] : [],
      }),
      'The original paper\'s decay-0.1 run (data/original_wd0.1_run.csv), on the paper-size model: mind the step axis.',
    ),
    '</div>',
    table(
      ['run', 'weight decay', 'seed', 'steps to grok', 'steps run', 'final test loss', 'final test acc.', 'train time (s)'],
      s.runs.map((r) => [escapeHtml(r.label), String(r.decay), r.seed, r.stepsToGrok ?? '—', r.lastStep, r.finalTestLoss, `${(100 * r.finalTestAcc).toFixed(1)} %`, Math.round(r.wallSeconds)]),
    ),
  );
  return b.done();
}

export const weightDecay: Experiment<WeightDecaySummary> = {
  name: 'weight-decay',
  title: 'How critical is weight decay?',
  plan: (o) => decayPlan(o),
  summarize,
  finding: weightDecayFinding,
  section,
};
