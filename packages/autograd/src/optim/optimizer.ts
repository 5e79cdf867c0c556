/**
 * The base of every optimizer: a list of parameters, per-parameter state, a step counter, zeroGrad, and
 * a state dict for checkpoints. Subclasses write one method, `update`: how one parameter moves given its
 * gradient and this step's learning rate. It moves in place: `update` writes the new values into `p.value`
 * with one fused kernel, and never assigns `p.value` (the rule of in-place.ts).
 */
import type { NDArray } from '@grok/tensor';
import { noGrad } from '../graph.js';
import { Tensor } from '../tensor.js';
import { type LearningRate, lrAt } from './schedules.js';
import type { StateDict } from '../state-dict.js';
import { type ParamState, type StateSchema, loadStates, saveStates } from './param-state.js';

export abstract class Optimizer {
  /** The parameters, in order: state and checkpoints refer to them by index. */
  readonly params: readonly Tensor[];
  /** Updates made so far. The schedule sees this value for the next update: 0 for the first. */
  stepCount = 0;
  /** A number, or a schedule of t = stepCount. */
  readonly lrSchedule: LearningRate;
  /** Per-parameter state (moments, momentum buffers), by parameter index; created on first update. */
  protected readonly state = new Map<number, ParamState>();

  constructor(params: Iterable<Tensor>, lr: LearningRate, protected readonly name: string) {
    const list = [...params];
    if (list.length === 0) throw new Error(`${name}: got an empty parameter list`);
    list.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new Error(`${name}: parameter ${i} is not a Tensor`);
      if (!p.requiresGrad) throw new Error(`${name}: parameter ${i} does not require grad`);
      if (!p.isLeaf) throw new Error(`${name}: parameter ${i} is not a leaf (it was computed by ${p.node!.op})`);
    });
    if (new Set(list).size !== list.length) throw new Error(`${name}: some parameters appear more than once`);
    if (typeof lr === 'number') lrAt(lr, 0); // a fixed lr is checked now; a schedule at every step
    else if (typeof lr !== 'function') throw new Error(`${name}: lr must be a number or a schedule, got ${String(lr)}`);
    this.params = list;
    this.lrSchedule = lr;
  }

  /** The learning rate the next step() will use. */
  get lr(): number {
    return lrAt(this.lrSchedule, this.stepCount);
  }

  /** One update of every parameter that has a gradient (those whose .grad is null are skipped). */
  step(): void {
    const lr = this.lr;
    noGrad(() => {
      this.params.forEach((p, i) => {
        if (p.grad) this.update(p, p.grad.value, i, lr);
      });
    });
    this.stepCount++;
  }

  /** Forgets every parameter's gradient (sets .grad to null, as PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /** The state to checkpoint: `step` and `state.<i>.<name>` entries (copies: later steps do not change them). */
  stateDict(): StateDict {
    return saveStates(this.state, { step: this.stepCount });
  }

  /**
   * Restores a state dict from stateDict(): afterwards step() continues bit for bit as the saved optimizer
   * would have. Checks every key, shape and dtype before changing anything.
   */
  loadStateDict(sd: StateDict): void {
    const { scalars, states } = loadStates(sd, this.name, this.params, this.stateSchema(), ['step']);
    const step = scalars['step']!;
    if (!(Number.isInteger(step) && step >= 0)) throw new Error(`${this.name}.loadStateDict: "step" must be an integer ≥ 0, got ${step}`);
    this.stepCount = step;
    this.state.clear();
    for (const [i, s] of states) this.state.set(i, s);
  }

  /** The per-parameter state entries this optimizer keeps, and their kinds. */
  protected abstract stateSchema(): StateSchema;

  /** Moves one parameter, in place. `grad` is an NDArray of p's shape and dtype; runs under noGrad. */
  protected abstract update(p: Tensor, grad: NDArray, index: number, lr: number): void;
}
