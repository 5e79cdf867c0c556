/**
 * The experiment report: each experiment writes its section to <root>/<name>/report.html (one page with
 * its figures inline, plus figures/*.svg), and the section's HTML fragment to section.html, from which
 * <root>/report.html gathers every experiment run so far into one page. Drawing uses the run report's
 * helpers (Vega-Lite → SVG, the same page style).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { escapeHtml, figure, page } from '../report/html.js';
import { type ChartSpec, renderSvg } from '../report/vega-svg.js';
import { writeFileAtomic } from '../run-dir.js';

export interface Section {
  /** HTML below the heading and the finding: figures, tables, notes. */
  body: string;
  /** The SVG of each figure in the body, by id (also written to figures/<id>.svg). */
  figures: Map<string, string>;
}

/** Collects figures while a section is built: `await s.draw(id, spec, caption)` returns the <figure>. */
export class SectionBuilder {
  readonly figures = new Map<string, string>();
  readonly parts: string[] = [];

  /** `prefix` (the experiment's name) keeps figure ids unique on the page that gathers every section. */
  constructor(private readonly prefix: string) {}

  async draw(name: string, spec: ChartSpec, caption: string): Promise<string> {
    const id = `${this.prefix}-${name}`;
    const svg = await renderSvg(spec);
    this.figures.set(id, svg);
    return figure(id, svg, caption);
  }

  add(...html: string[]): this {
    this.parts.push(...html);
    return this;
  }

  done(): Section {
    return { body: this.parts.join('\n'), figures: this.figures };
  }
}

function sectionHtml(name: string, title: string, finding: string, section: Section): string {
  return `<section id="${escapeHtml(name)}"><h2>${escapeHtml(title)}</h2>
<p class="live"><b>Finding.</b> ${escapeHtml(finding)}</p>
${section.body}
<p class="subtitle">Data: <code>${escapeHtml(name)}/summary.json</code>. Rerun: <code>pnpm grok experiment ${escapeHtml(name)}</code>.</p></section>`;
}

/** Writes the experiment's page and refreshes the index page; returns the experiment page's path. */
export async function writeExperimentReport(root: string, name: string, title: string, finding: string, section: Section): Promise<string> {
  const dir = path.join(root, name);
  fs.mkdirSync(path.join(dir, 'figures'), { recursive: true });
  for (const [id, svg] of section.figures) writeFileAtomic(path.join(dir, 'figures', `${id}.svg`), svg);
  const html = sectionHtml(name, title, finding, section);
  writeFileAtomic(path.join(dir, 'section.html'), html);
  const file = path.join(dir, 'report.html');
  writeFileAtomic(file, page({ title: `grok experiment: ${name}`, body: `<h1>Experiment: ${escapeHtml(name)}</h1>\n${html}` }));
  writeIndex(root);
  return file;
}

/** <root>/report.html: every experiment's section that exists, in a fixed order. */
export function writeIndex(root: string): string {
  const order = ['weight-decay', 'data-fraction', 'grokfast', 'distill', 'double-descent', 'phases'];
  const names = fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(root, e.name, 'section.html')))
    .map((e) => e.name)
    .sort((a, b) => rank(order, a) - rank(order, b) || a.localeCompare(b));
  const sections = names.map((n) => fs.readFileSync(path.join(root, n, 'section.html'), 'utf8'));
  const toc = names.map((n) => `<a href="#${escapeHtml(n)}">${escapeHtml(n)}</a>`).join(' · ');
  const file = path.join(root, 'report.html');
  writeFileAtomic(
    file,
    page({
      title: 'grok experiments',
      body: `<h1>Experiments beyond the paper</h1><p class="subtitle">${toc}</p>\n${sections.join('\n')}`,
    }),
  );
  return file;
}

const rank = (order: string[], name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
