/**
 * Norms of a weight matrix's Fourier components at the end of training (the paper's Fig. 3): a bar per
 * basis direction (const, cos 1, sin 1, …). A grokked model's W_E and W_L are sparse here, with nearly all
 * the norm on the key frequencies, which are drawn in a strong colour.
 */
import type { ChartSpec } from '../vega-svg.js';

/** Norms of a matrix's Fourier components: labels[i] ('const', 'cos 1', 'sin 1', …) and frequency[i] (0 for const). */
export interface FourierBars {
  labels: string[];
  frequency: number[];
  norms: number[];
}

/** Fourier bars for a basis ordered const, cos 1, sin 1, cos 2, sin 2, … (PAPER.md's order). */
export function fourierBars(norms: readonly number[]): FourierBars {
  const labels = norms.map((_, i) => (i === 0 ? 'const' : `${i % 2 === 1 ? 'cos' : 'sin'} ${Math.ceil(i / 2)}`));
  return { labels, frequency: norms.map((_, i) => Math.ceil(i / 2)), norms: norms.slice() };
}

export function fourierBarChart(title: string, bars: FourierBars, keyFrequencies: readonly number[]): ChartSpec {
  const key = new Set(keyFrequencies);
  const values = bars.labels.map((label, i) => ({
    i,
    label,
    norm: bars.norms[i]!,
    kind: key.has(bars.frequency[i]!) && bars.frequency[i]! > 0 ? 'key frequency' : 'other',
  }));
  // Label only the key frequencies' bars on the axis: 113 labels would overlap.
  const tickIndices = values.filter((v) => v.kind === 'key frequency' || v.i === 0).map((v) => v.i);
  return {
    title,
    width: 470,
    height: 180,
    data: { values },
    mark: { type: 'bar', width: { band: 0.85 } },
    encoding: {
      x: {
        field: 'i',
        type: 'ordinal',
        title: 'Fourier component (const, cos k, sin k, …)',
        axis: { values: tickIndices, labelExpr: `[${values.map((v) => JSON.stringify(v.label)).join(',')}][datum.value]`, labelAngle: -45 },
      },
      y: { field: 'norm', type: 'quantitative', title: 'norm' },
      color: {
        field: 'kind',
        type: 'nominal',
        title: null,
        scale: { domain: ['key frequency', 'other'], range: ['#d62728', '#9aa7b8'] },
        legend: { orient: 'top', direction: 'horizontal' },
      },
      tooltip: [{ field: 'label' }, { field: 'norm', format: '.3f' }],
    },
  } as ChartSpec;
}
