/**
 * Logging during training: every `log_every` steps (and at the last step) one row of metrics.jsonl — the
 * training loss and accuracy of the step's forward pass, the test loss and accuracy on the same weights, Σw²,
 * the learning rate of the coming update, and the mean time per step since the previous row — and a
 * progress line.
 */
import { CompiledEvaluation } from './compiled.js';
import type { Batch } from './data.js';
import { accuracy, sumOfSquares } from './evaluate.js';
import type { Learner, StepOutput } from './learning-step.js';
import type { Progress } from './progress.js';
import type { MetricsRow, RunDir } from './run-dir.js';

export class MetricsLog {
  #windowStart = performance.now();
  #windowSteps = 0;
  readonly #test: CompiledEvaluation;

  constructor(
    private readonly run: RunDir,
    private readonly learner: Learner,
    /** The test set: tokens [m, 3], labels [m]. */
    test: Batch,
    private readonly progress: Progress,
  ) {
    const precision = learner.config.loss_precision === 'float64' ? 'float64' : 'input';
    this.#test = new CompiledEvaluation(learner.model, test, precision, (line) => progress.log(line));
  }

  /** Whether step `step` is logged. */
  due(step: number): boolean {
    const { log_every, steps } = this.learner.config;
    return step % log_every === 0 || step === steps;
  }

  /** Writes the row of step `step` (call before the update: the weights must be the step's). */
  write(step: number, out: StepOutput): MetricsRow {
    const { config, params, optimizer, batch } = this.learner;
    const test = this.#test.run();
    const now = performance.now();
    const row: MetricsRow = {
      step,
      train_loss: out.loss.item(),
      test_loss: test.loss,
      train_acc: accuracy(out.logits.value, batch.labels),
      test_acc: test.accuracy,
      weight_norm: sumOfSquares(params),
      lr: optimizer.lr,
      step_ms: this.#windowSteps > 0 ? (now - this.#windowStart) / this.#windowSteps : 0,
    };
    this.run.appendMetrics(row);
    this.progress.update({
      step,
      total: config.steps,
      trainLoss: row.train_loss,
      testLoss: row.test_loss,
      trainAcc: row.train_acc,
      testAcc: row.test_acc,
      stepsPerSecond: row.step_ms > 0 ? 1000 / row.step_ms : 0,
    });
    this.#windowStart = performance.now();
    this.#windowSteps = 0;
    return row;
  }

  /** Counts one update, for step_ms. */
  stepped(): void {
    this.#windowSteps++;
  }
}
