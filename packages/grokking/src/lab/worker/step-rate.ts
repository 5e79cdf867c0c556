/**
 * Steps per second of the training alone (the time inside learning steps, logging included as in the CLI;
 * not the analysis or the messages). `perSecond` is over the last two seconds of stepping, for the live
 * display; `steadyPerSecond` over every step after the first WARM_UP, which include one-off work: the
 * capture of the compiled step (wasm), GPU.js compiling its kernels (webgl2).
 */
const WINDOW_MS = 2000;
export const WARM_UP = 10;

export class StepRate {
  #recent: number[] = [];
  #recentMs = 0;
  #steps = 0;
  #steadyMs = 0;

  add(ms: number): void {
    this.#steps++;
    if (this.#steps > WARM_UP) this.#steadyMs += ms;
    this.#recent.push(ms);
    this.#recentMs += ms;
    while (this.#recent.length > 1 && this.#recentMs - this.#recent[0]! > WINDOW_MS) this.#recentMs -= this.#recent.shift()!;
  }

  perSecond(): number {
    return this.#recentMs > 0 ? (1000 * this.#recent.length) / this.#recentMs : 0;
  }

  /** Over the steps after the warm-up (over all of them when there were no more). */
  steadyPerSecond(): number {
    const steady = this.#steps - WARM_UP;
    if (steady > 0 && this.#steadyMs > 0) return (1000 * steady) / this.#steadyMs;
    return this.perSecond();
  }
}
