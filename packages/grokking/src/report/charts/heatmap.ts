/**
 * A map over all inputs (a, b): one cell per pair, coloured by a neuron's activation or a logit. A
 * grokked model's neurons are periodic in a + b: the picture is diagonal stripes (or a checkerboard of
 * cos(wa)·cos(wb) terms), where a memorising model's is noise.
 */
import type { ChartSpec } from '../vega-svg.js';

/** values[a·p + b], as the analysis orders inputs. */
export function heatmapChart(title: string, p: number, values: ArrayLike<number>): ChartSpec {
  const cells = [];
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < p; b++) cells.push({ a, b, v: Number(values[a * p + b]!.toPrecision(4)) });
  }
  const ticks = Array.from({ length: Math.floor((p - 1) / 20) + 1 }, (_, i) => i * 20);
  return {
    title,
    width: 360,
    height: 360,
    data: { values: cells },
    mark: { type: 'rect' },
    encoding: {
      x: { field: 'a', type: 'ordinal', title: 'a', axis: { values: ticks, labelAngle: 0 } },
      y: { field: 'b', type: 'ordinal', title: 'b', axis: { values: ticks } },
      color: { field: 'v', type: 'quantitative', title: null, scale: { scheme: 'viridis' } },
    },
    config: { view: { strokeWidth: 0 } },
  } as ChartSpec;
}
