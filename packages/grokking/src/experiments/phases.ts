/**
 * Thresholds of the phases: the analysis's phase boundaries (memorisation → circuit formation → cleanup; see
 * analysis/phases.ts for the rule) for every run of the weight-decay and data-fraction sweeps, and how they
 * move with each. It trains nothing of its own: it reuses (or runs) those two sweeps' runs.
 */
import type { PhaseDetection } from '../analysis/types.js';
import { escapeHtml, table } from '../report/html.js';
import type { ChartSpec } from '../report/vega-svg.js';
import { ensureAnalysis } from './analysis.js';
import { fmtInt, listPhrase } from './curves.js';
import { fractionPlan, trend } from './data-fraction.js';
import type { Experiment } from './experiment.js';
import { SectionBuilder } from './report.js';
import type { FinishedRun } from './sweep.js';
import { decayPlan } from './weight-decay.js';

export interface PhaseRun {
  label: string;
  sweep: 'weight-decay' | 'data-fraction';
  decay: number;
  fraction: number;
  memorisationEnd: number | null;
  circuitFormationEnd: number | null;
  cleanupEnd: number | null;
  grokked: boolean;
}

export interface PhasesSummary {
  runs: PhaseRun[];
}

const BOUNDARIES = [
  ['memorisationEnd', 'memorisation ends'],
  ['circuitFormationEnd', 'circuit formation ends'],
  ['cleanupEnd', 'cleanup ends'],
] as const;

export function phaseRun(r: { label: string; weight_decay: number; frac_train: number }, sweep: PhaseRun['sweep'], ph: PhaseDetection): PhaseRun {
  return {
    label: r.label,
    sweep,
    decay: r.weight_decay,
    fraction: r.frac_train,
    memorisationEnd: ph.memorisation?.[1] ?? null,
    circuitFormationEnd: ph.circuitFormation?.[1] ?? null,
    cleanupEnd: ph.cleanup?.[1] ?? null,
    grokked: ph.inputs.grokked,
  };
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
  if (wd.length) out.push(movement(wd, (r) => r.decay, 'weight decay') + '.');
  if (df.length) out.push(movement(df, (r) => r.fraction, 'the data fraction') + '.');
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
  b.add('<p class="subtitle">Boundaries from analysis.json of each run (mean over seeds where there are several); a boundary that was never reached is left out.</p>', '<div class="grid">');
  if (wd.length) b.add(await b.draw('vs-weight-decay', boundaryChart(wd, (r) => r.decay, 'weight decay', 'Phase boundaries against weight decay'), 'Weight-decay sweep.'));
  if (df.length) b.add(await b.draw('vs-data-fraction', boundaryChart(df, (r) => r.fraction, 'data fraction', 'Phase boundaries against data fraction'), 'Data-fraction sweep.'));
  b.add(
    '</div>',
    table(
      ['run', 'sweep', 'memorisation ends', 'circuit formation ends', 'cleanup ends', 'grokked'],
      s.runs.map((r) => [escapeHtml(r.label), r.sweep, r.memorisationEnd ?? '—', r.circuitFormationEnd ?? '—', r.cleanupEnd ?? '—', r.grokked ? 'yes' : 'no']),
    ),
  );
  return b.done();
}

export const phases: Experiment<PhasesSummary> = {
  name: 'phases',
  title: 'Thresholds of the phases across the sweeps',
  plan: (o) => [...decayPlan(o), ...fractionPlan(o)],
  summarize: (runs: FinishedRun[], o) => ({
    runs: runs.map((r) =>
      phaseRun(
        { label: r.label, weight_decay: r.config.weight_decay, frac_train: r.config.frac_train },
        r.dir.includes('data-fraction') ? 'data-fraction' : 'weight-decay',
        ensureAnalysis(r.dir, o.log).analysis.phases,
      ),
    ),
  }),
  finding: phasesFinding,
  section,
};
