/**
 * Vega-Lite → Vega → SVG, headless. Vega-Lite is a grammar of graphics (data + marks + encodings); it
 * compiles to a Vega spec, and a Vega View with renderer 'none' lays the scene out in Node without a
 * browser or canvas and serialises it as an SVG string. Text widths are estimated (no canvas to measure
 * them), which is why labels are kept short.
 */
import * as vega from 'vega';
import { type TopLevelSpec, compile } from 'vega-lite';

/** Defaults shared by every figure: the page's font and quiet axes. */
const CONFIG = {
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' as const },
  view: { stroke: '#ccc' },
};

export type ChartSpec = TopLevelSpec;

export async function renderSvg(spec: ChartSpec): Promise<string> {
  const withConfig = { ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
  const compiled = compile(withConfig).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize(); // releases the dataflow's timers and listeners
  }
}
