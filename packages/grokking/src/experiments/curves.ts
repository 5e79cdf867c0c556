/**
 * Small helpers the experiments share: curves thinned for plotting, steps to grok in words, grouping.
 */
import type { Point } from '../report/charts/lines.js';
import { downsample } from '../report/downsample.js';
import type { MetricsRow } from '../run-dir.js';
import type { FinishedRun } from './sweep.js';

/** One series of a line chart from metric rows (at most `max` points, spikes kept). */
export function curve(rows: readonly MetricsRow[], series: string, value: (r: MetricsRow) => number, max = 200): Point[] {
  return downsample(rows, max, (r) => Math.log(Math.max(1e-300, value(r)))).map((r) => ({ step: r.step, series, value: value(r) }));
}

/** [step, value] pairs, thinned: the compact form curves take in summary.json. */
export function pairs(rows: readonly MetricsRow[], value: (r: MetricsRow) => number, max = 200): [number, number][] {
  return downsample(rows, max, (r) => Math.log(Math.max(1e-300, value(r)))).map((r) => [r.step, value(r)]);
}

export const toPoints = (series: string, xs: readonly [number, number][]): Point[] => xs.map(([step, value]) => ({ step, series, value }));

/** "grokked at step 1,460" or "did not grok within 3,000 steps". */
export function grokPhrase(stepsToGrok: number | null, lastStep: number): string {
  return stepsToGrok === null ? `did not grok within ${fmtInt(lastStep)} steps` : `grokked at step ${fmtInt(stepsToGrok)}`;
}

export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Compact number for sentences: 3 significant digits, exponent form when tiny. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return x.toExponential(1);
  return Number(x.toPrecision(3)).toString();
}

/** Runs grouped by a key, keys in first-seen order. */
export function groupBy<T, K>(items: readonly T[], key: (t: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const t of items) {
    const k = key(t);
    out.set(k, [...(out.get(k) ?? []), t]);
  }
  return out;
}

/** Per-run facts every summary carries. */
export interface RunFacts {
  label: string;
  dir: string;
  seed: number;
  stepsToGrok: number | null;
  lastStep: number;
  wallSeconds: number;
  finalTestLoss: number;
  finalTestAcc: number;
}

export function facts(r: FinishedRun): RunFacts {
  const last = r.rows.at(-1);
  return {
    label: r.label,
    dir: r.dir,
    seed: r.config.seed,
    stepsToGrok: r.stepsToGrok,
    lastStep: r.lastStep,
    wallSeconds: r.wallSeconds,
    finalTestLoss: last?.test_loss ?? NaN,
    finalTestAcc: last?.test_acc ?? NaN,
  };
}

/** "1,460 and 1,620" / "1,460, 1,620 and 1,800": several seeds' results in one phrase. */
export function listPhrase(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
