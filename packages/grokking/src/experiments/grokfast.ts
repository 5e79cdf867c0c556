/**
 * Can grokking be made fast? Four runs on the same split and init:
 *  - baseline: the default (AdamW, weight decay 1);
 *  - Grokfast EMA (Lee et al. 2024): the gradient plus λ × its exponential moving average (α 0.98, λ 2),
 *    amplifying the slow-moving gradient component that the generalising circuit follows;
 *  - Grokfast MA: the same with a moving average over the last 100 gradients (λ 5);
 *  - fixed norm (Omnigrok, Liu et al. 2022): no weight decay, and the total weight norm √Σw² pinned after
 *    every step at a multiple of the init norm (FIXED_NORM_FACTORS: one run each). Omnigrok's claim is that
 *    at the right norm the network generalises without the long memorised detour; the norm is the one knob,
 *    so several values are tried (a too small norm cannot even fit the training set).
 * Compared by steps to grok and by wall time (a filter costs time per step).
 */
import * as path from 'node:path';
import type { RunConfig } from '../config.js';
import { sumOfSquares } from '../evaluate.js';
import { buildModel } from '../model.js';
import { lineChart } from '../report/charts/lines.js';
import { escapeHtml, table } from '../report/html.js';
import { type RunFacts, facts, fmt, grokPhrase, listPhrase, pairs, toPoints } from './curves.js';
import { type Experiment, experimentDir } from './experiment.js';
import { SectionBuilder } from './report.js';
import { type ExperimentOptions, STOP_WHEN_GROKKED, baseConfig, describeSettings } from './settings.js';
import type { FinishedRun, PlannedRun } from './sweep.js';

/** The fixed norms tried, as multiples of the init norm. */
export const FIXED_NORM_FACTORS = [0.8, 1, 1.2, 1.5];

export const fixedNormLabel = (factor: number) => `fixed norm ${factor}× init`;

/** √(Σ w²) of the seeded init of a config. */
export function initNorm(config: RunConfig): number {
  return Math.sqrt(sumOfSquares(buildModel(config).parameters()));
}

export interface MethodRun extends RunFacts {
  method: string;
  /** Milliseconds per step, mean over the run. */
  msPerStep: number;
  testLoss: [number, number][];
  trainLoss: [number, number][];
  weightNorm: [number, number][];
}

export interface GrokfastSummary {
  settings: string;
  /** √Σw² of the init, and the fixed norms tried. */
  initNorm: number;
  fixedNorms: { factor: number; norm: number }[];
  runs: MethodRun[];
}

export function grokfastPlan(o: ExperimentOptions): PlannedRun[] {
  const base = baseConfig(o, { ...STOP_WHEN_GROKKED });
  const dir = (name: string) => path.join(experimentDir(o, 'grokfast'), name);
  const norm0 = initNorm(base);
  return [
    { dir: dir('baseline'), label: 'baseline', config: base },
    { dir: dir('ema'), label: 'Grokfast EMA', config: { ...base, grokfast: { kind: 'ema', alpha: 0.98, lambda: 2 } } },
    { dir: dir('ma'), label: 'Grokfast MA', config: { ...base, grokfast: { kind: 'ma', window: 100, lambda: 5 } } },
    ...FIXED_NORM_FACTORS.map((factor) => ({
      dir: dir(`fixed-norm-${factor}`),
      label: fixedNormLabel(factor),
      config: { ...base, weight_decay: 0, fixed_norm: Number((factor * norm0).toPrecision(6)) },
    })),
  ];
}

function summarize(runs: FinishedRun[]): GrokfastSummary {
  const norm0 = initNorm(runs[0]!.config);
  return {
    settings: describeSettings(runs[0]!.config),
    initNorm: norm0,
    fixedNorms: runs.filter((r) => r.config.fixed_norm !== null).map((r) => ({ factor: Number((r.config.fixed_norm! / norm0).toFixed(3)), norm: r.config.fixed_norm! })),
    runs: runs.map((r) => ({
      ...facts(r),
      method: r.label,
      msPerStep: r.lastStep > 0 ? (1000 * r.wallSeconds) / r.lastStep : NaN,
      testLoss: pairs(r.rows, (x) => x.test_loss),
      trainLoss: pairs(r.rows, (x) => x.train_loss),
      weightNorm: pairs(r.rows, (x) => x.weight_norm),
    })),
  };
}

/** Seconds of training until the run grokked (its mean step time × steps to grok). */
const secondsToGrok = (r: MethodRun) => (r.stepsToGrok === null ? null : (r.stepsToGrok * r.msPerStep) / 1000);

export function grokfastFinding(s: GrokfastSummary): string {
  const base = s.runs.find((r) => r.method === 'baseline');
  const others = s.runs.filter((r) => r !== base);
  if (!base) return 'No baseline run.';
  const baseText = `The baseline ${grokPhrase(base.stepsToGrok, base.lastStep)}${base.stepsToGrok !== null ? ` (${fmt(secondsToGrok(base)!)} s)` : ''}`;
  const works: string[] = [];
  const fails: string[] = [];
  const lines = others.map((r) => {
    const t = secondsToGrok(r);
    let verdict = grokPhrase(r.stepsToGrok, r.lastStep);
    if (r.stepsToGrok !== null && base.stepsToGrok !== null) {
      verdict += ` (${fmt(base.stepsToGrok / r.stepsToGrok)}× the baseline's speed in steps, ${fmt(t!)} s)`;
      (r.stepsToGrok < base.stepsToGrok ? works : fails).push(r.method);
    } else if (r.stepsToGrok !== null) works.push(r.method);
    else fails.push(r.method);
    return `${r.method} ${verdict}`;
  });
  let text = `${baseText}; ${lines.join('; ')}.`;
  if (works.length === 0) return `${text} With AdamW here, none of them groks sooner than the baseline.`;
  text += ` With AdamW here, ${listPhrase(works)} ${works.length > 1 ? 'grok' : 'groks'} sooner than the baseline`;
  if (fails.length) text += `, while ${listPhrase(fails)} ${fails.length > 1 ? 'do' : 'does'} not`;
  return text + '.';
}

async function section(s: GrokfastSummary) {
  const b = new SectionBuilder('grokfast');
  const pts = (key: 'testLoss' | 'weightNorm') => s.runs.flatMap((r) => toPoints(r.method, r[key]));
  b.add(
    `<p class="subtitle">Settings: ${escapeHtml(s.settings)}. Grokfast EMA: α 0.98, λ 2; MA: window 100, λ 5; fixed norm: weight decay 0 and √Σw² pinned at ${escapeHtml(listPhrase(s.fixedNorms.map((f) => `${fmt(f.norm)} (${f.factor}×)`)))}, the init norm being ${fmt(s.initNorm)}. Same seed, split and init for all.</p>`,
    '<div class="grid">',
    await b.draw('test-loss', lineChart({ title: 'Test loss by method', yTitle: 'test loss', logY: true, points: pts('testLoss') }), 'Grokking is the fall below 0.01.'),
    await b.draw('weight-norm', lineChart({ title: 'Sum of squared weights', yTitle: 'Σ w²', logY: true, points: pts('weightNorm') }), 'The fixed-norm runs are flat by construction.'),
    '</div>',
    table(
      ['method', 'steps to grok', 'steps run', 'ms per step', 'seconds to grok', 'final test loss'],
      s.runs.map((r) => [escapeHtml(r.method), r.stepsToGrok ?? '—', r.lastStep, r.msPerStep, secondsToGrok(r) ?? '—', r.finalTestLoss]),
    ),
  );
  return b.done();
}

export const grokfast: Experiment<GrokfastSummary> = {
  name: 'grokfast',
  title: 'Can grokking be made fast? Grokfast and a fixed weight norm',
  plan: grokfastPlan,
  summarize: (runs) => summarize(runs),
  finding: grokfastFinding,
  section,
};
