/**
 * The embedding's Fourier spectrum over training: one column per measured checkpoint, one row per frequency
 * k ≥ 1, coloured by the share of W_E's Fourier energy (‖cos k‖² + ‖sin k‖², the constant left out) at k.
 * Early on the energy is spread over every k; as the circuit forms, the key frequencies become bright rows
 * and the rest goes dark: the sparsity that the Gini coefficient sums up in one number.
 */
import type { ChartSpec } from '../vega-svg.js';

/** At most this many columns: enough for the picture, few enough marks for a page that reloads itself. */
const MAX_COLUMNS = 100;

/** `norms[i]`: checkpoint `steps[i]`'s norms by frequency (index 0: the constant). Steps ascending. */
export function frequencyHeatmapChart(title: string, steps: readonly number[], norms: readonly (readonly number[])[]): ChartSpec {
  const n = steps.length;
  const m = Math.min(n, MAX_COLUMNS);
  const kept = Array.from({ length: m }, (_, j) => (m === 1 ? n - 1 : Math.round((j * (n - 1)) / (m - 1))));
  // Each column spans half-way to its neighbours, so uneven gaps (checkpoints not measured yet) stay honest.
  const at = (j: number) => steps[kept[j]!]!;
  const pad = m === 1 ? 0.5 : 0; // a single column still needs a width
  const edge = (j: number) => (j === 0 ? at(0) - pad : j === m ? at(m - 1) + pad : (at(j - 1) + at(j)) / 2);
  const cells = [];
  for (let j = 0; j < m; j++) {
    const row = norms[kept[j]!]!;
    const energy = row.slice(1).reduce((s, v) => s + v * v, 0);
    for (let k = 1; k < row.length; k++) {
      cells.push({ x: edge(j), x2: edge(j + 1), k: k - 0.5, k2: k + 0.5, share: energy > 0 ? Number(((row[k]! * row[k]!) / energy).toPrecision(3)) : 0 });
    }
  }
  return {
    title,
    width: 470,
    height: 240,
    data: { values: cells },
    mark: { type: 'rect' },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: 'step', scale: { nice: false, zero: false } },
      x2: { field: 'x2' },
      y: { field: 'k', type: 'quantitative', title: 'frequency k', scale: { nice: false, zero: false } },
      y2: { field: 'k2' },
      color: { field: 'share', type: 'quantitative', title: 'share', scale: { scheme: 'viridis' } },
    },
    config: { view: { strokeWidth: 0 } },
  } as ChartSpec;
}
