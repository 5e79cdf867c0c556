/**
 * A training run inside the lab's worker: the same learner and learning step as `pnpm grok` (makeLearner,
 * learningStep), so the same seed gives the same init, split and numbers as in Node, backend rounding aside.
 * Instead of files it keeps its metric rows in memory for the page, and it logs every `log_every` steps
 * as the CLI does: the forward pass's training loss and accuracy, the test set on the same weights, Σw².
 */
import type { Tensor } from '@grok/autograd';
import { CompiledEvaluation } from '../../compiled.js';
import type { RunConfig } from '../../config.js';
import { type Split, makeBatch, makeSplit } from '../../data.js';
import { accuracy, evaluate, sumOfSquares } from '../../evaluate.js';
import { type Learner, learningStep, makeLearner } from '../../learning-step.js';
import { fnv1a } from '../fingerprint.js';
import type { Fingerprint, MetricRow } from '../protocol.js';

export class TrainingSession {
  readonly split: Split;
  readonly learner: Learner;
  readonly fingerprint: Fingerprint;
  /** The model is the model after `step` updates. */
  step = 0;
  readonly #test: CompiledEvaluation;
  readonly #testBatch;

  constructor(readonly config: RunConfig, say: (line: string) => void) {
    this.split = makeSplit(config); // seeded, as `pnpm grok` makes it
    this.learner = makeLearner(config, makeBatch(config.p, this.split.train), say);
    this.#testBatch = makeBatch(config.p, this.split.test);
    const precision = config.loss_precision === 'float64' ? 'float64' : 'input';
    this.#test = new CompiledEvaluation(this.learner.model, this.#testBatch, precision, say);
    this.fingerprint = { init: weightsFingerprint(this.learner.params), split: fnv1a([this.split.train]) };
  }

  /** One update. Returns the metric row of the weights it started from when that step is logged. */
  advance(): MetricRow | null {
    let row: MetricRow | null = null;
    const { learner, config } = this;
    learningStep(learner, (out) => {
      if (this.step % config.log_every !== 0) return true;
      const test = this.#test.run();
      row = {
        step: this.step,
        trainLoss: out.loss.item(),
        testLoss: test.loss,
        trainAccuracy: accuracy(out.logits.value, learner.batch.labels),
        testAccuracy: test.accuracy,
        sumSquaredWeights: sumOfSquares(learner.params),
      };
      return true;
    });
    this.step++;
    return row;
  }

  /**
   * The metric row of the current weights without an update (where training stops between logged steps),
   * with `evaluate`: the float64 losses that Node's evaluate computes on the same weights.
   */
  currentRow(): MetricRow {
    const precision = this.config.loss_precision === 'float64' ? 'float64' : 'input';
    const train = evaluate(this.learner.model, this.learner.batch, precision);
    const test = evaluate(this.learner.model, this.#testBatch, precision);
    return {
      step: this.step,
      trainLoss: train.loss,
      testLoss: test.loss,
      trainAccuracy: train.accuracy,
      testAccuracy: test.accuracy,
      sumSquaredWeights: sumOfSquares(this.learner.params),
    };
  }
}

/** FNV-1a of the parameters' float32 bytes, in the model's (TransformerLens) order. */
export function weightsFingerprint(params: readonly Tensor[]): string {
  return fnv1a(params.map((p) => p.data));
}
