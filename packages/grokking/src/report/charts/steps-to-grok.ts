/**
 * Steps to grok against one hyper-parameter across a sweep's runs. Runs that never reached the threshold
 * are drawn as hollow marks at their last step ("at least this many"), so they are not silently missing.
 * Reference points (the original sweep's) can be drawn beside ours.
 */
import type { ChartSpec } from '../vega-svg.js';

export interface SweepPoint {
  x: number;
  steps: number;
  name: string;
  grokked: boolean;
}

/** A run's point: at its steps to grok, or, if it has not grokked, at its last step as a lower bound. */
export function sweepPoint(x: number, run: { stepsToGrok: number | null; lastStep: number }, name: string): SweepPoint {
  return { x, steps: Math.max(1, run.stepsToGrok ?? run.lastStep), name, grokked: run.stepsToGrok !== null };
}

export function stepsToGrokChart(o: { title: string; xTitle: string; ours: SweepPoint[]; reference?: { x: number; steps: number }[] }): ChartSpec {
  const values = [
    ...o.ours.map((p) => ({ ...p, source: p.grokked ? 'ours' : 'ours: not grokked (≥)' })),
    ...(o.reference ?? []).map((r) => ({ ...r, name: 'original', grokked: true, source: 'original paper' })),
  ];
  const domain = ['ours', 'ours: not grokked (≥)', ...(o.reference ? ['original paper'] : [])];
  const xs = values.map((v) => v.x);
  const logX = xs.every((x) => x > 0) && Math.max(...xs) / Math.min(...xs) > 20;
  return {
    title: o.title,
    width: 360,
    height: 240,
    data: { values },
    layer: [
      {
        transform: [{ filter: "datum.source !== 'ours: not grokked (≥)'" }],
        mark: { type: 'line', opacity: 0.5 },
        encoding: {
          x: { field: 'x', type: 'quantitative' },
          y: { field: 'steps', type: 'quantitative' },
          color: { field: 'source', type: 'nominal', title: null, scale: { domain, range: ['#d62728', '#d62728', '#777'] } },
          detail: { field: 'source' },
        },
      },
      {
        mark: { type: 'point', size: 70, strokeWidth: 2 },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: o.xTitle, scale: { type: logX ? 'log' : 'linear', zero: false } },
          y: { field: 'steps', type: 'quantitative', title: 'steps to grok (test loss < 0.01)', scale: { type: 'log' } },
          color: { field: 'source', type: 'nominal', title: null, scale: { domain, range: ['#d62728', '#d62728', '#777'] } },
          shape: { field: 'source', type: 'nominal', title: null, scale: { domain, range: ['circle', 'triangle-up', 'square'] } },
          fill: { field: 'source', type: 'nominal', legend: null, scale: { domain, range: ['#d62728', 'white', '#777'] } },
          tooltip: [{ field: 'name' }, { field: 'x' }, { field: 'steps' }],
        },
      },
    ],
  } as ChartSpec;
}
