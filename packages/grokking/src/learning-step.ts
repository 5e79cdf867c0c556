/**
 * The learning step, the heart of training: forward pass, loss, backward pass, update. The training loop
 * (train.ts) is bookkeeping around it: resuming, logging, early stopping, checkpoints.
 *
 * Full batch: every step sees the whole training set. The loss is the cross-entropy of the answer, read at
 * the last position (`=`), accumulated in float64 as in the paper. The forward and backward pass are three
 * lines in compiled.ts (answerLogits → crossEntropy → loss.backward()), traced once and replayed as a flat
 * list of kernels, bit for bit the same as running them eagerly.
 */
import { AdamW, type CompiledStep, GrokfastEMA, GrokfastMA, Tensor, linearWarmup, noGrad, raw, scaleInPlace } from '@grok/autograd';
import type { HookedTransformer } from '@grok/transformer';
import { type ForwardOutput, compiledForwardBackward } from './compiled.js';
import type { RunConfig } from './config.js';
import type { Batch } from './data.js';
import { sumOfSquares } from './evaluate.js';
import { buildModel } from './model.js';

/** Everything a learning step touches. */
export interface Learner {
  config: RunConfig;
  model: HookedTransformer;
  params: readonly Tensor[];
  optimizer: AdamW;
  /** Grokfast's gradient filter (Lee et al. 2024), when the config asks for one. */
  filter: GrokfastEMA | GrokfastMA | null;
  /** The training set: tokens [n, 3], labels [n]. */
  batch: Batch;
  /** forward → loss → backward on the whole training set: the gradients land in each parameter's .grad. */
  forwardBackward: CompiledStep<StepOutput>;
}

/** What the forward pass of a step computed, for logging: the loss [] and the answer's logits [n, p]. */
export type StepOutput = ForwardOutput;

/**
 * The model (seeded init), AdamW with linear warm-up, the gradient filter, and the compiled forward and
 * backward pass of a config (captured at its first call). `say` hears once why a step runs eagerly, if it does.
 */
export function makeLearner(config: RunConfig, batch: Batch, say?: (line: string) => void): Learner {
  const model = buildModel(config);
  const params = model.parameters();
  const optimizer = new AdamW(params, {
    lr: linearWarmup(config.lr, config.warmup_steps),
    betas: [config.beta1, config.beta2],
    eps: config.eps,
    weightDecay: config.decay_kind === 'decoupled' ? config.weight_decay : 0,
  });
  const g = config.grokfast;
  const filter =
    g?.kind === 'ema'
      ? new GrokfastEMA(params, { alpha: g.alpha, lambda: g.lambda })
      : g?.kind === 'ma'
        ? new GrokfastMA(params, { windowSize: g.window, lambda: g.lambda })
        : null;
  const precision = config.loss_precision === 'float64' ? 'float64' : 'input';
  const forwardBackward = compiledForwardBackward(model, batch, { lastPositionOnly: config.last_position_only, precision, say });
  return { config, model, params, optimizer, filter, batch, forwardBackward };
}

/**
 * One step of learning. `beforeUpdate` runs between the backward pass and the update, while the weights are
 * still those the loss was computed with (the loop logs there, evaluating the test set on the same
 * weights); if it returns false the weights are left as they are. Returns whether they were updated.
 */
export function learningStep(l: Learner, beforeUpdate: (out: StepOutput) => boolean): boolean {
  const out = l.forwardBackward(); // forward, loss, backward: ∂loss/∂w into every parameter's .grad
  if (!beforeUpdate(out)) return false;
  addCoupledDecay(l.config, l.params); // decay_kind 'l1' or 'l2' only
  l.filter?.apply(); // grokfast only: amplify the slow part of the gradient
  l.optimizer.step(); // AdamW: w ← w·(1 − lr·λ) − lr·m̂/(√v̂ + ε)
  fixNorm(l.config, l.params); // fixed_norm only: back onto the sphere
  l.optimizer.zeroGrad();
  return true;
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
export function fixNorm(config: RunConfig, params: readonly Tensor[]): void {
  if (config.fixed_norm === null) return;
  const norm = Math.sqrt(sumOfSquares(params));
  if (!(norm > 0)) return;
  const scale = config.fixed_norm / norm;
  noGrad(() => {
    for (const p of params) scaleInPlace(p.value, scale); // in place, as every parameter update
  });
}
