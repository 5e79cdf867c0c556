/**
 * The training loop of the paper: full batch, AdamW with linear warm-up, float64 cross-entropy at the last
 * position. Logs metrics every `log_every` steps, checkpoints every `checkpoint_every` steps (weights,
 * optimizer and gradient-filter state), resumes from the last checkpoint bit for bit, and stops cleanly on
 * SIGINT/SIGTERM after saving where it is.
 *
 * Step numbering: "step s" is the model after s updates. The row logged at step s reports the training loss
 * of the forward pass made with those weights, and the test loss evaluated on them.
 */
import * as fs from 'node:fs';
import {
  AdamW,
  GrokfastEMA,
  GrokfastMA,
  Tensor,
  crossEntropy,
  linearWarmup,
  noGrad,
  raw,
  scaleInPlace,
} from '@grok/autograd';
import type { HookedTransformer } from '@grok/transformer';
import type { RunConfig } from './config.js';
import { makeBatch, makeSplit } from './data.js';
import { accuracy, sumOfSquares } from './evaluate.js';
import { CompiledEvaluation, compiledForwardBackward } from './compiled.js';
import { loadTrainingState, loadWeightsInto, saveTrainingState } from './checkpoints.js';
import { buildModel } from './model.js';
import { Progress } from './progress.js';
import { type MetricsRow, RunDir } from './run-dir.js';

export interface TrainOptions {
  /** The run directory (created if missing; an existing one must have the same config). */
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

/** The loop itself, yielding after every step. */
function* trainingLoop(options: TrainOptions, stop: StopFlag): Generator<void, TrainResult> {
  const { config } = options;
  const progress = options.progress ?? new Progress();
  const run = new RunDir(options.dir);
  run.init(config);

  const split = makeSplit(config);
  const trainBatch = makeBatch(config.p, split.train);
  const testBatch = makeBatch(config.p, split.test);

  const model = buildModel(config);
  const params = model.parameters();
  const optimizer = new AdamW(params, {
    lr: linearWarmup(config.lr, config.warmup_steps),
    betas: [config.beta1, config.beta2],
    eps: config.eps,
    weightDecay: config.decay_kind === 'decoupled' ? config.weight_decay : 0,
  });
  const filter =
    config.grokfast?.kind === 'ema'
      ? new GrokfastEMA(params, { alpha: config.grokfast.alpha, lambda: config.grokfast.lambda })
      : config.grokfast?.kind === 'ma'
        ? new GrokfastMA(params, { windowSize: config.grokfast.window, lambda: config.grokfast.lambda })
        : null;

  // Start: the last checkpoint of this run, else the --init weights, else the seeded init.
  let step = 0;
  if (fs.existsSync(run.statePath)) {
    step = loadTrainingState(run, model, optimizer, filter);
    run.truncateMetrics(step);
    progress.log(`resuming ${run.dir} from step ${step}`);
  } else {
    if (config.init) loadWeightsInto(model, config.init);
    fixNorm(config, params); // a fixed norm below the init norm also makes the init smaller
    saveTrainingState(run, 0, model, optimizer, filter, config);
  }
  const precision = config.loss_precision === 'float64' ? 'float64' : 'input';
  const say = (line: string) => progress.log(line);
  const forwardBackward = compiledForwardBackward(model, trainBatch, { lastPositionOnly: config.last_position_only, precision, say });
  const evaluation = new CompiledEvaluation(model, testBatch, precision, say);
  let lastSaved = step;
  const checkpoint = () => {
    saveTrainingState(run, step, model, optimizer, filter, config);
    lastSaved = step;
    options.onCheckpoint?.(step, run);
  };

  let reason: TrainResult['reason'] = 'finished';
  let belowThreshold = 0;
  let windowStart = performance.now();
  let windowSteps = 0;
  const startStep = step;
  try {
    for (;;) {
      const logNow = step % config.log_every === 0 || step === config.steps;
      // Forward, loss and backward with the weights of step `step`.
      const { loss, logits: readLogits } = forwardBackward();

      if (logNow) {
        const test = evaluation.run();
        const now = performance.now();
        const row: MetricsRow = {
          step,
          train_loss: loss.item(),
          test_loss: test.loss,
          train_acc: accuracy(readLogits.value, trainBatch.labels),
          test_acc: test.accuracy,
          weight_norm: sumOfSquares(params),
          lr: optimizer.lr,
          step_ms: windowSteps > 0 ? (now - windowStart) / windowSteps : 0,
        };
        run.appendMetrics(row);
        progress.update({
          step,
          total: config.steps,
          trainLoss: row.train_loss,
          testLoss: row.test_loss,
          trainAcc: row.train_acc,
          testAcc: row.test_acc,
          stepsPerSecond: row.step_ms > 0 ? 1000 / row.step_ms : 0,
        });
        windowStart = performance.now();
        windowSteps = 0;
        if (config.early_stop_loss !== null) {
          belowThreshold = test.loss < config.early_stop_loss ? belowThreshold + 1 : 0;
          if (belowThreshold >= config.early_stop_patience) reason = 'early-stop';
        }
      }
      if (step >= config.steps || reason === 'early-stop') break;
      if (stop.requested) {
        reason = 'interrupted';
        break;
      }
      if (options.stopAfter !== undefined && step - startStep >= options.stopAfter) {
        reason = 'stop-after';
        break;
      }

      // Update: step → step + 1.
      addCoupledDecay(config, params);
      filter?.apply();
      optimizer.step();
      fixNorm(config, params);
      optimizer.zeroGrad();
      step++;
      windowSteps++;
      if (step % config.checkpoint_every === 0) checkpoint();
      yield;
    }
    const stoppedEarly = reason === 'interrupted' || reason === 'stop-after';
    if (lastSaved !== step && (!stoppedEarly || (options.saveOnStop ?? true))) checkpoint();
  } finally {
    progress.done();
  }
  return { model, step, reason, run };
}

/** 'l2' and 'l1' decay act through the gradient (coupled), unlike AdamW's decoupled decay. */
function addCoupledDecay(config: RunConfig, params: readonly Tensor[]): void {
  if (config.decay_kind !== 'l1' && config.decay_kind !== 'l2') return;
  const lambda = config.weight_decay;
  noGrad(() => {
    for (const p of params) {
      if (!p.grad) continue;
      const term = config.decay_kind === 'l2' ? raw.mul(p.value, lambda) : raw.mul(raw.sign(p.value), lambda);
      p.grad = new Tensor(raw.add(p.grad.value, term));
    }
  });
}

/**
 * Omnigrok's norm constraint (Liu et al. 2022, "Omnigrok: grokking beyond algorithmic data"): after each update
 * every parameter is multiplied by the same factor so that the total norm √(Σ w²) stays at `fixed_norm`. The
 * optimizer only chooses a direction on that sphere; the slow drift of the weight norm that weight decay
 * causes (and that Omnigrok blames for the delay of grokking) cannot happen.
 */
function fixNorm(config: RunConfig, params: readonly Tensor[]): void {
  if (config.fixed_norm === null) return;
  const norm = Math.sqrt(sumOfSquares(params));
  if (!(norm > 0)) return;
  const scale = config.fixed_norm / norm;
  noGrad(() => {
    for (const p of params) scaleInPlace(p.value, scale); // in place, as every parameter update
  });
}
