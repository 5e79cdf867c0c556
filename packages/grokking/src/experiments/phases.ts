/**
 * Thresholds of the phases: the analysis's phase boundaries (memorisation → circuit formation → cleanup; see
 * analysis/phases.ts for the rule) for every run of the weight-decay and data-fraction sweeps, and how they
 * move with each. It trains nothing of its own: it reuses (or runs) those two sweeps' runs.
 *
 * The boundaries are recomputed here from each run's measures with the current rule (so an analysis.json
 * written under an older rule cannot leak in), and the same rule is applied to the original runs' curves
 * (30 % data at decay 1, and decay 0.1) next to the phases the paper states for its run: the calibration.
 */
import { type LossRow, detectPhases } from '../analysis/phases.js';
import type { PhaseDetection } from '../analysis/types.js';
import { originalRun } from '../report/reference-data.js';
import { escapeHtml, table } from '../report/html.js';
import type { ChartSpec } from '../report/vega-svg.js';
import { ensureAnalysis } from './analysis.js';
import { fmtInt, listPhrase } from './curves.js';
import { fractionPlan, trend } from './data-fraction.js';
import { originalWd01Run } from './original-wd.js';
import type { Experiment } from './experiment.js';
import { SectionBuilder } from './report.js';
import type { FinishedRun } from './sweep.js';
import { decayPlan } from './weight-decay.js';

/** A sweep run's boundaries (label and the three ends, as in the calibration table) and what was swept. */
export interface PhaseRun extends CalibrationRow {
  sweep: 'weight-decay' | 'data-fraction';
  decay: number;
  fraction: number;
  grokked: boolean;
}

/** One run's boundaries for the calibration table: the paper's statement, or our rule on an original curve. */
export interface CalibrationRow {
  label: string;
  memorisationEnd: number | null;
  circuitFormationEnd: number | null;
  cleanupEnd: number | null;
}

export interface PhasesSummary {
  runs: PhaseRun[];
  /** First row: the phases the paper states for its run; then our rule on the original curves. */
  calibration: CalibrationRow[];
}

/** The paper: memorisation 0–1.4k, circuit formation 1.4k–9.4k, cleanup 9.4k–14k steps. */
export const PAPER_PHASES: CalibrationRow = { label: 'the paper (its 30 % run, as stated)', memorisationEnd: 1400, circuitFormationEnd: 9400, cleanupEnd: 14000 };

const ends = (label: string, ph: PhaseDetection): CalibrationRow => ({
  label,
  memorisationEnd: ph.memorisation?.[1] ?? null,
  circuitFormationEnd: ph.circuitFormation?.[1] ?? null,
  cleanupEnd: ph.cleanup?.[1] ?? null,
});

/** Our rule applied to the original runs' curves (p = 113). */
export function calibration(): CalibrationRow[] {
  const asRows = (xs: readonly { step: number; train_loss: number; test_loss: number }[]): LossRow[] =>
    xs.map((x) => ({ step: x.step, trainLoss: x.train_loss, testLoss: x.test_loss }));
  return [
    PAPER_PHASES,
    ends('our rule on the original 30 % curve (decay 1)', detectPhases(asRows(originalRun()), 113)),
    ends('our rule on the original decay-0.1 curve', detectPhases(asRows(originalWd01Run()), 113)),
  ];
}

const BOUNDARIES = [
  ['memorisationEnd', 'memorisation ends'],
  ['circuitFormationEnd', 'circuit formation ends'],
  ['cleanupEnd', 'cleanup ends'],
] as const;

export function phaseRun(r: { label: string; weight_decay: number; frac_train: number }, sweep: PhaseRun['sweep'], ph: PhaseDetection): PhaseRun {
  return { ...ends(r.label, ph), sweep, decay: r.weight_decay, fraction: r.frac_train, grokked: ph.inputs.grokked };
}

/** For one sweep: how each boundary moves along the swept value (mean over seeds). */
function movement(runs: readonly PhaseRun[], x: (r: PhaseRun) => number, what: string): string {
  const parts = BOUNDARIES.map(([key, words]) => {
    const xs = [...new Set(runs.filter((r) => r[key] !== null).map(x))].sort((a, b) => a - b);
    const pts = xs.map((v) => {
      const ys = runs.filter((r) => x(r) === v && r[key] !== null).map((r) => r[key]!);
      return { x: v, y: ys.reduce((t, y) => t + y, 0) / ys.length };
    });
    if (pts.length === 0) return `${words}: never`;
    const span = `${fmtInt(pts[0]!.y)} at ${pts[0]!.x} to ${fmtInt(pts.at(-1)!.y)} at ${pts.at(-1)!.x}`;
    return pts.length > 1 ? `${words} ${trend(pts) === 'falls' ? 'earlier' : trend(pts) === 'rises' ? 'later' : 'non-monotonically'} (${span})` : `${words} at ${fmtInt(pts[0]!.y)} only at ${pts[0]!.x}`;
  });
  return `As ${what} grows, ${listPhrase(parts)}`;
}

export function phasesFinding(s: PhasesSummary): string {
  const wd = s.runs.filter((r) => r.sweep === 'weight-decay');
  const df = s.runs.filter((r) => r.sweep === 'data-fraction');
  const out: string[] = [];
  const [paper, ours] = s.calibration;
  if (paper && ours) {
    const at = (n: number | null) => (n === null ? 'never' : fmtInt(n));
    out.push(
      `Calibration: on the original 30 % curve the rule ends memorisation at ${at(ours.memorisationEnd)}, circuit formation at ${at(ours.circuitFormationEnd)} and cleanup at ${at(ours.cleanupEnd)} ` +
        `(the paper, for its own run: ${at(paper.memorisationEnd)}, ${at(paper.circuitFormationEnd)}, ${at(paper.cleanupEnd)}).`,
    );
  }
  // Only grokked runs: in a run that never generalised the test loss may still be climbing at the last
  // checkpoint, so its "end of memorisation" is only where the budget ran out.
  const grokked = (runs: PhaseRun[]) => runs.filter((r) => r.grokked);
  const skipped = (runs: PhaseRun[]) => runs.length - grokked(runs).length;
  const said = (runs: PhaseRun[], x: (r: PhaseRun) => number, what: string) =>
    grokked(runs).length === 0
      ? `No run of the ${what.replace(/^the /, '')} sweep grokked.`
      : `${movement(grokked(runs), x, what)}${skipped(runs) ? ` (grokked runs only; ${skipped(runs)} of ${runs.length} did not grok)` : ''}.`;
  if (wd.length) out.push(said(wd, (r) => r.decay, 'weight decay'));
  if (df.length) out.push(said(df, (r) => r.fraction, 'the data fraction'));
  return out.join(' ') || 'No runs.';
}

function boundaryChart(runs: readonly PhaseRun[], x: (r: PhaseRun) => number, xTitle: string, title: string): ChartSpec {
  const values = runs.flatMap((r) => BOUNDARIES.filter(([key]) => r[key] !== null).map(([key, words]) => ({ x: x(r), step: r[key]!, boundary: words, run: r.label })));
  return {
    title,
    width: 360,
    height: 240,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: xTitle },
      y: { field: 'step', type: 'quantitative', title: 'step' },
      color: { field: 'boundary', type: 'nominal', title: null, sort: BOUNDARIES.map(([, w]) => w), legend: { orient: 'bottom', labelLimit: 220 } },
      detail: { field: 'run' },
      tooltip: [{ field: 'run' }, { field: 'boundary' }, { field: 'step' }],
    },
    transform: [{ aggregate: [{ op: 'mean', field: 'step', as: 'step' }], groupby: ['x', 'boundary'] }],
  } as unknown as ChartSpec;
}

async function section(s: PhasesSummary) {
  const b = new SectionBuilder('phases');
  const wd = s.runs.filter((r) => r.sweep === 'weight-decay');
  const df = s.runs.filter((r) => r.sweep === 'data-fraction');
  b.add('<p class="subtitle">Boundaries by the rule of analysis/phases.ts for each run; the charts show the runs that grokked (mean over seeds where there are several), the table every run.</p>', '<div class="grid">');
  if (wd.length) b.add(await b.draw('vs-weight-decay', boundaryChart(wd.filter((r) => r.grokked), (r) => r.decay, 'weight decay', 'Phase boundaries against weight decay'), 'Weight-decay sweep.'));
  if (df.length) b.add(await b.draw('vs-data-fraction', boundaryChart(df.filter((r) => r.grokked), (r) => r.fraction, 'data fraction', 'Phase boundaries against data fraction'), 'Data-fraction sweep.'));
  b.add(
    '</div>',
    table(
      ['run', 'sweep', 'memorisation ends', 'circuit formation ends', 'cleanup ends', 'grokked'],
      s.runs.map((r) => [escapeHtml(r.label), r.sweep, r.memorisationEnd ?? '—', r.circuitFormationEnd ?? '—', r.cleanupEnd ?? '—', r.grokked ? 'yes' : 'no']),
    ),
    '<p>Calibration (p = 113): the phases the paper states for its run, and the same rule applied to the original runs\' loss curves. ' +
      'The original 30 % curve crossed test loss 0.01 at step 8,258, sooner than the run in the paper\'s figures, so only the end of memorisation is comparable step for step.</p>',
    table(
      ['curve', 'memorisation ends', 'circuit formation ends', 'cleanup ends'],
      s.calibration.map((r) => [escapeHtml(r.label), r.memorisationEnd ?? '—', r.circuitFormationEnd ?? '—', r.cleanupEnd ?? '—']),
    ),
  );
  return b.done();
}

export const phases: Experiment<PhasesSummary> = {
  name: 'phases',
  title: 'Thresholds of the phases across the sweeps',
  plan: (o) => [...decayPlan(o), ...fractionPlan(o)],
  summarize: (runs: FinishedRun[], o) => ({
    runs: runs.map((r) => {
      const { analysis } = ensureAnalysis(r.dir, o.log);
      return phaseRun(
        { label: r.label, weight_decay: r.config.weight_decay, frac_train: r.config.frac_train },
        r.dir.includes('data-fraction') ? 'data-fraction' : 'weight-decay',
        detectPhases(analysis.overTraining, r.config.p),
      );
    }),
    calibration: calibration(),
  }),
  finding: phasesFinding,
  section,
};
