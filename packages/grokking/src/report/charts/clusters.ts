/**
 * Neuron clusters: how many MLP neurons are explained (> 85 % of their energy) by each key frequency. The
 * paper's run puts 433 of 512 neurons in clusters of its 5 key frequencies.
 */
import type { ChartSpec } from '../vega-svg.js';

export function clusterChart(clusters: readonly { frequency: number; neurons: number }[], unclustered?: number): ChartSpec {
  const values = [
    ...clusters.map((c) => ({ group: `k = ${c.frequency}`, neurons: c.neurons, kind: 'cluster' })),
    ...(unclustered !== undefined ? [{ group: 'none', neurons: unclustered, kind: 'unclustered' }] : []),
  ];
  return {
    title: 'MLP neurons per frequency cluster',
    width: Math.max(160, 56 * values.length),
    height: 200,
    data: { values },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          x: { field: 'group', type: 'nominal', title: 'frequency', sort: values.map((v) => v.group), axis: { labelAngle: 0 } },
          y: { field: 'neurons', type: 'quantitative', title: 'neurons' },
          color: { field: 'kind', type: 'nominal', legend: null, scale: { domain: ['cluster', 'unclustered'], range: ['#1f77b4', '#bbb'] } },
        },
      },
      {
        mark: { type: 'text', dy: -6, fontSize: 11 },
        encoding: {
          x: { field: 'group', type: 'nominal', sort: values.map((v) => v.group) },
          y: { field: 'neurons', type: 'quantitative' },
          text: { field: 'neurons' },
        },
      },
    ],
  } as ChartSpec;
}
