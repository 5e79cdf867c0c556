/**
 * Grokfast gradient filters (Lee et al. 2024): amplify the slow-moving part of each parameter's gradient,
 * which is what generalises, so grokking comes sooner. Call `apply()` between backward() and
 * optimizer.step(); it replaces each parameter's .grad (parameters whose .grad is null are skipped).
 *
 *   loss.backward(); filter.apply(); opt.step(); opt.zeroGrad();
 *
 * Both follow the authors' reference code (gradfilter_ema / gradfilter_ma), operation for operation.
 */
import * as T from '@grok/tensor';
import { NDArray } from '@grok/tensor';
import { Tensor } from '../tensor.js';
import type { StateDict } from '../state-dict.js';
import { type ParamState, type StateSchema, loadStates, saveStates } from './param-state.js';

/** Shared by both filters: the parameters, per-parameter state, and its state dict. */
abstract class GradientFilter {
  readonly params: readonly Tensor[];
  protected readonly state = new Map<number, ParamState>();

  constructor(params: Iterable<Tensor>, protected readonly name: string) {
    this.params = [...params];
    this.params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new Error(`${name}: parameter ${i} is not a Tensor`);
    });
  }

  /** Filters every parameter's gradient. */
  apply(): void {
    this.params.forEach((p, i) => {
      if (p.grad) p.grad = new Tensor(this.filter(p.grad.value, i));
    });
  }

  /** `state.<i>.<name>` entries, copied. */
  stateDict(): StateDict {
    return saveStates(this.state, {});
  }

  loadStateDict(sd: StateDict): void {
    const { states } = loadStates(sd, this.name, this.params, this.schema(), []);
    for (const [i, s] of states) this.checkLoaded(s, i); // every check before any change
    this.state.clear();
    for (const [i, s] of states) this.state.set(i, s);
  }

  protected abstract schema(): StateSchema;
  /** The new gradient of parameter i from its raw gradient g. */
  protected abstract filter(g: NDArray, i: number): NDArray;
  /** Extra checks of a loaded parameter state; throws to reject it. */
  protected checkLoaded(_s: ParamState, _i: number): void {}
}

export interface GrokfastEMAOptions {
  /** α, the EMA's momentum (default 0.98). */
  alpha?: number;
  /** λ, how much of the average is added (default 2). */
  lambda?: number;
}

/**
 * Exponential moving average of the gradient:
 *   h ← α·h + (1 − α)·g      (h starts at the first g, so the first h equals g)
 *   g ← g + λ·h
 */
export class GrokfastEMA extends GradientFilter {
  readonly alpha: number;
  readonly lambda: number;

  constructor(params: Iterable<Tensor>, options: GrokfastEMAOptions = {}) {
    super(params, 'GrokfastEMA');
    const { alpha = 0.98, lambda = 2 } = options;
    if (!(alpha >= 0 && alpha <= 1)) throw new Error(`GrokfastEMA: alpha must be in [0, 1], got ${alpha}`);
    if (!Number.isFinite(lambda)) throw new Error(`GrokfastEMA: lambda must be a finite number, got ${lambda}`);
    this.alpha = alpha;
    this.lambda = lambda;
  }

  protected schema(): StateSchema {
    return { ema: 'tensor' };
  }

  protected filter(g: NDArray, i: number): NDArray {
    // The reference sets h = g, then applies the update once: h·α + g·(1 − α), equal to g up to rounding.
    const prev = (this.state.get(i)?.['ema'] as NDArray | undefined) ?? g;
    const h = T.add(T.mul(prev, this.alpha), T.mul(g, 1 - this.alpha));
    this.state.set(i, { ema: h });
    return T.add(g, T.mul(h, this.lambda)); // g + λh
  }
}

export interface GrokfastMAOptions {
  /** w, how many recent gradients are averaged (default 100). */
  windowSize?: number;
  /** λ, how much of the average is added (default 5). */
  lambda?: number;
  /** Leave gradients unchanged until the window is full (default true, as the reference code). */
  warmup?: boolean;
}

/**
 * Moving average of the last w gradients:
 *   window ← the last w raw gradients (this one included)
 *   g ← g + λ · mean(window)          (only once the window is full, unless warmup is false)
 */
export class GrokfastMA extends GradientFilter {
  readonly windowSize: number;
  readonly lambda: number;
  readonly warmup: boolean;
  /** Per parameter, the raw gradients of the window, oldest first. */
  readonly #windows = new Map<number, NDArray[]>();

  constructor(params: Iterable<Tensor>, options: GrokfastMAOptions = {}) {
    super(params, 'GrokfastMA');
    const { windowSize = 100, lambda = 5, warmup = true } = options;
    if (!(Number.isInteger(windowSize) && windowSize >= 1)) {
      throw new Error(`GrokfastMA: windowSize must be an integer ≥ 1, got ${windowSize}`);
    }
    if (!Number.isFinite(lambda)) throw new Error(`GrokfastMA: lambda must be a finite number, got ${lambda}`);
    this.windowSize = windowSize;
    this.lambda = lambda;
    this.warmup = warmup;
  }

  protected schema(): StateSchema {
    return { window: 'stacked' };
  }

  protected filter(g: NDArray, i: number): NDArray {
    const win = this.#windows.get(i) ?? [];
    win.push(g); // NDArrays are never mutated, so keeping g itself is safe
    if (win.length > this.windowSize) win.shift();
    this.#windows.set(i, win);
    if (this.warmup && win.length < this.windowSize) return g;
    let sum = win[0]!;
    for (let k = 1; k < win.length; k++) sum = T.add(sum, win[k]!);
    const avg = T.div(sum, win.length);
    return T.add(g, T.mul(avg, this.lambda)); // g + λ·mean
  }

  /** The window is saved as one tensor [n, ...parameter shape], oldest first. */
  override stateDict(): StateDict {
    this.state.clear();
    for (const [i, win] of this.#windows) this.state.set(i, { window: T.stack(win, 0) });
    return super.stateDict();
  }

  override loadStateDict(sd: StateDict): void {
    super.loadStateDict(sd);
    this.#windows.clear();
    for (const [i, s] of this.state) {
      const w = s['window'] as NDArray;
      const shape = this.params[i]!.shape;
      const win: NDArray[] = [];
      for (let k = 0; k < w.shape[0]!; k++) win.push(T.reshape(T.narrow(w, 0, k, 1), shape));
      this.#windows.set(i, win);
    }
  }

  protected override checkLoaded(s: ParamState, i: number): void {
    const n = (s['window'] as NDArray).shape[0]!;
    if (n < 1 || n > this.windowSize) {
      throw new Error(`GrokfastMA.loadStateDict: "state.${i}.window" holds ${n} gradients; the window size is ${this.windowSize}`);
    }
  }
}
