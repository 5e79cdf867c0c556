/**
 * The page around the figures: one HTML file with its CSS inline and the figures as inline SVG, so it
 * opens from disk, offline, and can be mailed as one attachment. Nothing here loads anything.
 */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A figure: its SVG and a caption. `id` names the container (and the separate .svg file). */
export function figure(id: string, svg: string, caption: string): string {
  return `<figure class="chart" id="fig-${escapeHtml(id)}">${stripXmlProlog(svg)}<figcaption>${caption}</figcaption></figure>`;
}

/** A section that cannot be drawn yet, with the command that would fill it. */
export function missing(what: string, command: string): string {
  return `<p class="missing">${what}: <code>${escapeHtml(command)}</code></p>`;
}

export function table(columns: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cell = (v: string | number) => (typeof v === 'number' ? `<td class="num">${formatNumber(v)}</td>` : `<td>${v}</td>`);
  return `<table><thead><tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map(cell).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  const abs = Math.abs(v);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e5) ? v.toExponential(2) : v.toPrecision(4);
}

export interface PageOptions {
  title: string;
  /** While training runs, the browser reloads the page every this many seconds. */
  refreshSeconds?: number;
  body: string;
}

export function page(o: PageOptions): string {
  const refresh = o.refreshSeconds ? `<meta http-equiv="refresh" content="${o.refreshSeconds}">` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${refresh}
<title>${escapeHtml(o.title)}</title>
<style>${CSS}</style>
</head>
<body>
${o.body}
</body>
</html>
`;
}

function stripXmlProlog(svg: string): string {
  return svg.replace(/^<\?xml[^>]*>\s*/, '');
}

const CSS = `
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #222;
  max-width: 1280px; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
.subtitle { color: #555; margin-top: 0; }
.live { background: #fff6d6; border: 1px solid #e8d48a; padding: 0.4rem 0.8rem; border-radius: 4px; }
.grid { display: flex; flex-wrap: wrap; gap: 1rem 2rem; align-items: flex-start; }
figure.chart { margin: 0.5rem 0; display: table; } /* a table: the caption wraps to the figure's width */
figure.chart figcaption { display: table-caption; caption-side: bottom; }
figure.chart svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.85rem; color: #555; }
table { border-collapse: collapse; font-size: 0.9rem; margin: 0.5rem 0; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 0.25rem 0.7rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f6f6f6; }
.note { flex-basis: 100%; margin: 0; }
.missing { color: #8a5a00; background: #fdf3e1; padding: 0.4rem 0.8rem; border-radius: 4px; }
code { background: #f2f2f2; padding: 0 0.25rem; border-radius: 3px; }
`;
