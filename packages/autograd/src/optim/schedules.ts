/**
 * Learning-rate schedules: plain functions from the step t to a learning rate.
 *
 * The step an optimizer passes is t = the number of updates it has already made: 0 for the first
 * update, 1 for the second, and so on (`optimizer.stepCount` before the update). This is PyTorch's
 * LambdaLR convention when `scheduler.step()` follows `optimizer.step()`, so the paper's warm-up
 * `lr · min(t/10, 1)` gives the very first update an lr of 0 (the moments still move, and AdamW's bias
 * correction counts that update).
 */

/** A learning rate as a function of t (updates already made; 0 for the first update). */
export type Schedule = (t: number) => number;

/** What optimizers accept as `lr`: a fixed number or a schedule. */
export type LearningRate = number | Schedule;

/** The same lr at every step. */
export function constant(lr: number): Schedule {
  checkRate('constant', lr);
  return () => lr;
}

/**
 * Linear warm-up, then flat: lr · min(t / warmupSteps, 1). The paper uses warmupSteps = 10, so updates
 * t = 0, 1, …, 9 get 0, lr/10, …, 9lr/10 and every later one gets lr. warmupSteps = 0 means no warm-up.
 */
export function linearWarmup(lr: number, warmupSteps: number): Schedule {
  checkRate('linearWarmup', lr);
  checkSteps('linearWarmup', 'warmupSteps', warmupSteps);
  if (warmupSteps === 0) return () => lr;
  return (t) => lr * Math.min(t / warmupSteps, 1);
}

export interface CosineOptions {
  /** Linear warm-up over the first updates, as linearWarmup (default 0: none). */
  warmupSteps?: number;
  /** The floor the cosine decays to (default 0). */
  minLr?: number;
}

/**
 * Cosine decay from lr to minLr over [warmupSteps, totalSteps], after an optional linear warm-up:
 *   t < w:        lr · t / w
 *   w ≤ t ≤ T:    minLr + (lr − minLr) · ½(1 + cos(π (t − w) / (T − w)))
 *   t > T:        minLr
 */
export function cosine(lr: number, totalSteps: number, options: CosineOptions = {}): Schedule {
  const { warmupSteps = 0, minLr = 0 } = options;
  checkRate('cosine', lr);
  checkRate('cosine', minLr, 'minLr');
  checkSteps('cosine', 'warmupSteps', warmupSteps);
  checkSteps('cosine', 'totalSteps', totalSteps);
  if (totalSteps <= warmupSteps) {
    throw new Error(`cosine: totalSteps (${totalSteps}) must exceed warmupSteps (${warmupSteps})`);
  }
  return (t) => {
    if (t < warmupSteps) return (lr * t) / warmupSteps;
    const progress = Math.min((t - warmupSteps) / (totalSteps - warmupSteps), 1);
    return minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}

/**
 * Schedules one after another, as torch's SequentialLR: schedules[k] runs from milestones[k−1] (0 for
 * the first) until milestones[k], and sees its own clock t − milestones[k−1].
 *   sequential([linearWarmup(1e-3, 10), cosine(1e-3, 990)], [10])
 */
export function sequential(schedules: readonly Schedule[], milestones: readonly number[]): Schedule {
  if (schedules.length === 0) throw new Error('sequential: needs at least one schedule');
  if (milestones.length !== schedules.length - 1) {
    throw new Error(`sequential: ${schedules.length} schedules need ${schedules.length - 1} milestones, got ${milestones.length}`);
  }
  milestones.forEach((m, k) => {
    checkSteps('sequential', `milestones[${k}]`, m);
    if (k > 0 && m <= milestones[k - 1]!) throw new Error(`sequential: milestones must increase, got [${milestones.join(', ')}]`);
  });
  return (t) => {
    let k = 0;
    while (k < milestones.length && t >= milestones[k]!) k++;
    const start = k === 0 ? 0 : milestones[k - 1]!;
    return schedules[k]!(t - start);
  };
}

/** A schedule times a factor that also depends on t: t ↦ schedule(t) · factor(t). */
export function scaled(schedule: Schedule, factor: (t: number) => number): Schedule {
  return (t) => schedule(t) * factor(t);
}

/** The lr an optimizer uses at step t, checked: a schedule must give a finite lr ≥ 0. */
export function lrAt(lr: LearningRate, t: number): number {
  const value = typeof lr === 'number' ? lr : lr(t);
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new Error(`learning rate must be a finite number ≥ 0, got ${value} at step ${t}`);
  }
  return value;
}

function checkRate(fn: string, lr: number, name = 'lr'): void {
  if (!(Number.isFinite(lr) && lr >= 0)) throw new Error(`${fn}: ${name} must be a finite number ≥ 0, got ${lr}`);
}

function checkSteps(fn: string, name: string, n: number): void {
  if (!(Number.isInteger(n) && n >= 0)) throw new Error(`${fn}: ${name} must be an integer ≥ 0, got ${n}`);
}
