/**
 * The paper's three phases (memorisation, circuit formation, cleanup) as shaded bands behind a chart of
 * steps. The bands come from analysis.json, or before it exists from the live report (the rule applied to
 * the losses logged so far); without either there are none.
 */
import type { Phase } from '../analysis-view.js';

const PHASE_COLORS = ['#fde2b8', '#cfe3f7', '#d4eed1', '#eadcf3'];

/** A Vega-Lite layer: one translucent rectangle per phase spanning the chart's height. */
export function phaseLayer(phases: readonly Phase[]) {
  return {
    data: { values: phases.map((p) => ({ ...p })) },
    mark: { type: 'rect' as const, opacity: 0.6 },
    encoding: {
      x: { field: 'start', type: 'quantitative' as const },
      x2: { field: 'end' },
      color: {
        field: 'name',
        type: 'nominal' as const,
        title: 'phase',
        sort: phases.map((p) => p.name),
        scale: { domain: phases.map((p) => p.name), range: PHASE_COLORS.slice(0, phases.length) },
        legend: { orient: 'bottom' as const, direction: 'horizontal' as const },
      },
      tooltip: [{ field: 'name' }, { field: 'start' }, { field: 'end' }],
    },
  };
}
