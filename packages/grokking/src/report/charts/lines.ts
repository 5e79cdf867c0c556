/**
 * The workhorse figure: one line per series against the training step, optionally on a log y scale and
 * over the phase bands. Every curve in the report (losses, accuracy, progress measures) is one of these.
 */
import type { Phase } from '../analysis-view.js';
import type { ChartSpec } from '../vega-svg.js';
import { phaseLayer } from './phases.js';

export interface Point {
  step: number;
  series: string;
  value: number;
}

export interface LineChartOptions {
  title: string;
  yTitle: string;
  points: Point[];
  logY?: boolean;
  phases?: readonly Phase[];
  /** Series names in legend order, and their colours. */
  series?: { name: string; color: string; dash?: number[] }[];
  xDomain?: [number, number];
  yDomain?: [number, number];
  width?: number;
  height?: number;
  /** Vertical rules with a label (e.g. "steps to grok"). */
  rules?: { step: number; label: string }[];
}

export function lineChart(o: LineChartOptions): ChartSpec {
  // A log axis cannot show 0 or a negative number; such points (a loss of exactly 0) are left out.
  const points = o.logY ? o.points.filter((p) => p.value > 0 && Number.isFinite(p.value)) : o.points.filter((p) => Number.isFinite(p.value));
  const names = o.series?.map((s) => s.name) ?? [...new Set(points.map((p) => p.series))];
  const x = {
    field: 'step',
    type: 'quantitative' as const,
    title: 'step',
    ...(o.xDomain ? { scale: { domain: o.xDomain, nice: false } } : {}),
  };
  const lines = {
    data: { values: points },
    mark: { type: 'line' as const, strokeWidth: 1.6, clip: true },
    encoding: {
      x,
      y: {
        field: 'value',
        type: 'quantitative' as const,
        title: o.yTitle,
        scale: { type: o.logY ? ('log' as const) : ('linear' as const), ...(o.yDomain ? { domain: o.yDomain } : {}) },
        axis: o.logY ? { format: '.0e', tickCount: 8 } : {},
      },
      color: {
        field: 'series',
        type: 'nominal' as const,
        title: null,
        sort: names,
        scale: o.series ? { domain: names, range: o.series.map((s) => s.color) } : { scheme: 'tableau10' as const },
        legend: { orient: 'top-right' as const, fillColor: 'white', labelLimit: 200 },
      },
      ...(o.series?.some((s) => s.dash)
        ? {
            strokeDash: {
              field: 'series',
              type: 'nominal' as const,
              title: null, // same field and title as the colour: Vega-Lite merges them into one legend
              sort: names,
              scale: { domain: names, range: o.series.map((s) => s.dash ?? [1, 0]) },
            },
          }
        : {}),
    },
  };
  // A rule's label goes on the side with room: right of the line in the left part of the chart, else left.
  const maxStep = o.xDomain?.[1] ?? Math.max(0, ...points.map((p) => p.step));
  const labelled = (o.rules ?? []).map((r) => ({ ...r, right: r.step > 0.6 * maxStep }));
  const rules = o.rules?.length
    ? [
        {
          data: { values: o.rules },
          mark: { type: 'rule' as const, strokeDash: [4, 3], color: '#555' },
          encoding: { x: { field: 'step', type: 'quantitative' as const } },
        },
        ...[false, true].map((right) => ({
          data: { values: labelled.filter((r) => r.right === right) },
          mark: { type: 'text' as const, align: right ? ('right' as const) : ('left' as const), dx: right ? -4 : 4, y: 8, fontSize: 11, color: '#333' },
          encoding: { x: { field: 'step', type: 'quantitative' as const }, text: { field: 'label' } },
        })),
      ]
    : [];
  return {
    title: o.title,
    width: o.width ?? 470,
    height: o.height ?? 240,
    layer: [...(o.phases?.length ? [phaseLayer(o.phases)] : []), lines, ...rules],
    resolve: { scale: { color: 'independent', strokeDash: 'independent' } },
  } as ChartSpec;
}
