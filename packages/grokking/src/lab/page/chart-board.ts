/**
 * The page's figures: each a <figure> whose SVG is re-rendered (report/vega-svg.ts's renderSvg, the same
 * Vega-Lite → SVG path as the HTML report) when its spec changes. Rendering takes from a few ms (a line) to
 * a few hundred (the p² cells of a heat-map), so it never runs in step with training: a changed spec marks
 * its figure dirty, and one render at a time catches up, each figure at most every `minIntervalMs`. After a
 * render the board rests 4 times as long as it took, so drawing takes at most a fifth of the page's thread: on a
 * machine with few cores the training worker needs the others.
 * The board's element carries data-charts="idle" once everything asked for is drawn (tests wait for it).
 */
import { type ChartSpec, renderSvg } from '../../report/vega-svg.js';

export class ChartBoard {
  readonly #figures = new Map<string, { element: HTMLElement; spec: ChartSpec | null; renderedAt: number }>();
  #busy = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** No render starts before this time (performance.now()): the rest after the previous one. */
  #restUntil = 0;

  /** `order`: the figures' ids, in the order they appear (each stays empty until its first spec). */
  constructor(
    private readonly root: HTMLElement,
    private readonly order: readonly string[],
    private readonly minIntervalMs = 400,
    private readonly onError: (e: Error) => void = () => {},
  ) {
    root.dataset['charts'] = 'idle';
  }

  /** Shows `spec` in the figure `id`. */
  set(id: string, spec: ChartSpec): void {
    let figure = this.#figures.get(id);
    if (!figure) {
      if (!this.order.includes(id)) throw new Error(`ChartBoard: unknown figure '${id}'`);
      const element = document.createElement('figure');
      element.className = 'chart';
      element.id = id;
      // Before the first figure that comes later in the order, if there is one.
      const later = this.order.slice(this.order.indexOf(id) + 1).map((x) => this.#figures.get(x)?.element).find((e) => e);
      this.root.insertBefore(element, later ?? null);
      figure = { element, spec: null, renderedAt: 0 };
      this.#figures.set(id, figure);
    }
    figure.spec = spec;
    this.root.dataset['charts'] = 'busy';
    this.#schedule(0);
  }

  /** Removes every figure. */
  clear(): void {
    for (const f of this.#figures.values()) f.element.remove();
    this.#figures.clear();
    this.root.dataset['charts'] = 'idle';
  }

  #schedule(ms: number): void {
    if (this.#timer === null) this.#timer = setTimeout(() => void this.#renderNext(), ms);
  }

  async #renderNext(): Promise<void> {
    this.#timer = null;
    if (this.#busy) return;
    const now = performance.now();
    const dirty = [...this.#figures.values()].filter((f) => f.spec !== null);
    if (dirty.length === 0) {
      this.root.dataset['charts'] = 'idle';
      return;
    }
    if (now < this.#restUntil) {
      this.#schedule(this.#restUntil - now);
      return;
    }
    const due = dirty.filter((f) => now - f.renderedAt >= this.minIntervalMs);
    if (due.length === 0) {
      this.#schedule(Math.max(0, Math.min(...dirty.map((f) => f.renderedAt + this.minIntervalMs - now))));
      return;
    }
    const figure = due.sort((a, b) => a.renderedAt - b.renderedAt)[0]!;
    const spec = figure.spec!;
    figure.spec = null;
    this.#busy = true;
    try {
      figure.element.innerHTML = await renderSvg(spec);
    } catch (e) {
      this.onError(e as Error);
    } finally {
      figure.renderedAt = performance.now();
      this.#restUntil = figure.renderedAt + 4 * (figure.renderedAt - now);
      this.#busy = false;
    }
    this.#schedule(0);
  }
}
