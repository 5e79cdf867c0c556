/**
 * The training loop of the paper: full batch, AdamW with linear warm-up, float64 cross-entropy at the last
 * position. Logs metrics every `log_every` steps, checkpoints every `checkpoint_every` steps (weights,
 * optimizer and gradient-filter state), resumes from the last checkpoint bit for bit, holds the run's lock
 * (one writer per run), and stops cleanly on SIGINT/SIGTERM after saving where it is.
 *
 * The loop is bookkeeping around the learning step (learning-step.ts); each piece has its own file:
 * resuming (resume.ts), logging (metrics-log.ts), early stopping (early-stop.ts), checkpoints
 * (checkpoints.ts), the lock (run-lock.ts).
 *
 * Step numbering: "step s" is the model after s updates. The row logged at step s reports the training loss
 * of the forward pass made with those weights, and the test loss evaluated on them.
 */
import type { HookedTransformer } from '@grok/transformer';
import type { RunConfig } from './config.js';
import { makeBatch, makeSplit } from './data.js';
import { saveTrainingState } from './checkpoints.js';
import { EarlyStop } from './early-stop.js';
import { learningStep, makeLearner } from './learning-step.js';
import { MetricsLog } from './metrics-log.js';
import { Progress } from './progress.js';
import { startTraining } from './resume.js';
import { RunDir } from './run-dir.js';
import { RunLock } from './run-lock.js';

export interface TrainOptions {
  /** The run directory (created if missing; an existing one must have the same config, budget aside). */
  dir: string;
  config: RunConfig;
  /** Where progress goes (default: stdout, a bar on a TTY). */
  progress?: Progress;
  /** Stop after this many more updates even if `steps` is not reached (tests use it to simulate a kill). */
  stopAfter?: number;
  /** trainAsync only: install SIGINT/SIGTERM handlers that stop between steps (default true). */
  handleSignals?: boolean;
  /** Save a checkpoint where training stops early (default true; false simulates a hard kill). */
  saveOnStop?: boolean;
  /** Called after each checkpoint is written (the CLI refreshes the live report from here). */
  onCheckpoint?: (step: number, run: RunDir) => void;
  /**
   * The run's lock, when the caller holds it already (the CLI holds it through the analysis and report that
   * follow training). Otherwise training takes it, and releases it when it ends.
   */
  lock?: RunLock;
}

export interface TrainResult {
  model: HookedTransformer;
  /** The step training ended at. */
  step: number;
  /** Why it ended. */
  reason: 'finished' | 'early-stop' | 'interrupted' | 'stop-after';
  run: RunDir;
}

/** Set by a signal handler; the loop checks it between steps. */
interface StopFlag {
  requested: boolean;
}

/**
 * Trains synchronously to the end (or early stop / stopAfter). Signals keep their default effect (a kill):
 * checkpoints are atomic, so at most the steps since the last one are lost. The CLI uses trainAsync, which
 * stops cleanly on Ctrl-C.
 */
export function train(options: TrainOptions): TrainResult {
  const loop = trainingLoop(options, { requested: false });
  for (;;) {
    const next = loop.next();
    if (next.done) return next.value;
  }
}

/**
 * Trains, returning to the event loop between steps so that SIGINT/SIGTERM handlers can run: the first
 * signal stops training after the current step and saves a checkpoint; a second one exits at once.
 * (A synchronous loop never lets Node deliver a signal to its handlers.)
 */
export async function trainAsync(options: TrainOptions): Promise<TrainResult> {
  const progress = options.progress ?? new Progress();
  const stop: StopFlag = { requested: false };
  const onSignal = (signal: string) => {
    if (stop.requested) process.exit(130); // a second Ctrl-C: leave now
    stop.requested = true;
    progress.log(`${signal}: stopping after this step (Ctrl-C again to quit at once)`);
  };
  const sigint = () => onSignal('SIGINT');
  const sigterm = () => onSignal('SIGTERM');
  const handlers = options.handleSignals ?? true;
  if (handlers) {
    process.on('SIGINT', sigint);
    process.on('SIGTERM', sigterm);
  }
  try {
    const loop = trainingLoop({ ...options, progress }, stop);
    for (;;) {
      const next = loop.next();
      if (next.done) return next.value;
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    if (handlers) {
      process.off('SIGINT', sigint);
      process.off('SIGTERM', sigterm);
    }
  }
}

/** A step whose training loss is NaN or infinite: nothing of it is applied or saved. */
class NonFiniteLoss extends Error {
  constructor(readonly step: number, readonly loss: number, readonly lastSaved: number) {
    super(`step ${step}: the training loss is ${loss}`);
  }
}

/**
 * The loop itself, yielding after every step. A step whose loss is not finite goes back to the last
 * checkpoint once, and trains on from there: resuming repeats the steps bit for bit, so a run that really
 * diverged fails again at the same step (and stops with an error, its checkpoints intact), while a fault that
 * does not come back costs only the steps since that checkpoint.
 */
function* trainingLoop(options: TrainOptions, stop: StopFlag): Generator<void, TrainResult> {
  const progress = options.progress ?? new Progress();
  const lock = options.lock ?? RunLock.acquire(options.dir); // before anything is read or written
  try {
    if (lock.tookOverFrom) progress.log(`${options.dir}: took over the stale lock of pid ${lock.tookOverFrom.pid} (that process is gone)`);
    let wentBackAt: number | null = null;
    for (;;) {
      try {
        return yield* lockedLoop({ ...options, progress }, stop);
      } catch (e) {
        if (!(e instanceof NonFiniteLoss)) throw e;
        if (e.step === wentBackAt) {
          throw new Error(
            `${e.message} again, after going back to the checkpoint of step ${e.lastSaved}: the run diverged (a smaller lr ` +
              `or init may help). Nothing past step ${e.lastSaved} was saved; the checkpoints in ${options.dir} are intact.`,
          );
        }
        wentBackAt = e.step;
        progress.log(`${e.message}; going back to the checkpoint of step ${e.lastSaved} to train on from there`);
      }
    }
  } finally {
    if (!options.lock) lock.release();
  }
}

function* lockedLoop(options: TrainOptions & { progress: Progress }, stop: StopFlag): Generator<void, TrainResult> {
  const { config, progress } = options;
  const run = new RunDir(options.dir);
  const { budgetChanges } = run.init(config);

  const split = makeSplit(config);
  const learner = makeLearner(config, makeBatch(config.p, split.train), (line) => progress.log(line));
  const log = new MetricsLog(run, learner, makeBatch(config.p, split.test), progress);
  const start = startTraining(run, learner, budgetChanges, (line) => progress.log(line));
  const earlyStop = new EarlyStop(config, start.earlier);
  let step = start.step;

  let lastSaved = step;
  const checkpoint = () => {
    try {
      saveTrainingState(run, step, learner.model, learner.optimizer, learner.filter, config);
    } catch (e) {
      throw new Error(
        `checkpoint of step ${step} in ${run.dir} could not be written (${(e as Error).message}). Training stopped; ` +
          `the checkpoint of step ${lastSaved} and ${run.statePath} are intact. Once the cause is fixed (disk space, ` +
          `permissions), continue from there: pnpm grok train --resume ${run.dir}`,
      );
    }
    lastSaved = step;
    options.onCheckpoint?.(step, run);
  };

  const startStep = step;
  let reason: TrainResult['reason'] | null = null;
  const whyStop = (): TrainResult['reason'] | null => {
    if (step >= config.steps) return 'finished';
    if (stop.requested) return 'interrupted';
    if (options.stopAfter !== undefined && step - startStep >= options.stopAfter) return 'stop-after';
    return null;
  };
  try {
    for (;;) {
      const updated = learningStep(learner, (out) => {
        const loss = out.loss.item();
        if (!Number.isFinite(loss)) throw new NonFiniteLoss(step, loss, lastSaved);
        if (log.due(step) && earlyStop.observe(log.write(step, out).test_loss)) reason = 'early-stop';
        reason ??= whyStop();
        return reason === null;
      });
      if (!updated) break;
      step++; // the weights are now those of step `step`
      log.stepped();
      if (step % config.checkpoint_every === 0) checkpoint();
      yield;
    }
    const stoppedEarly = reason === 'interrupted' || reason === 'stop-after';
    if (lastSaved !== step && (!stoppedEarly || (options.saveOnStop ?? true))) checkpoint();
  } finally {
    progress.done();
  }
  return { model: learner.model, step, reason: reason ?? 'finished', run };
}
