/**
 * The paper model's full-batch training step (Nanda et al. 2023: p = 113, one layer, d_model 128, 4 heads,
 * d_mlp 512, ReLU, no LayerNorm), on the 3,830-example seeded split (30 % of the 113² pairs, seed 0, as
 * `pnpm grok` trains): forward, float64 cross-entropy at the last position, backward, AdamW(lr 1e-3, betas
 * (0.9, 0.98), weight decay 1), zeroGrad. The median over ≥ 20 steps after a warm-up, at 1 and N threads,
 * for two variants:
 *  - 'last': `run(tokens, { lastPositionOnly: true })` — keys and values at every position, everything else
 *    at the last one (same loss, about a third of the work; what `pnpm grok` trains with).
 *  - 'full': all 3 positions computed, the loss read at the last.
 * The model's token tables (`tokenTables: 'auto'`, see @grok/transformer) are on where valid, as in training.
 * The step is compiled (@grok/autograd's compileStep: captured once, then replayed as a tape of kernels over a
 * static memory plan), as `pnpm grok` trains; one 'eager' row runs the same ops op by op, for comparison.
 */
import { availableParallelism } from 'node:os';
import { AdamW, type CompiledStep, Tensor, compileStep, crossEntropy, raw } from '@grok/autograd';
import { makeBatch, randomSplit } from '@grok/grokking';
import { HookedTransformer, type RunOptions, paperConfig } from '@grok/transformer';
import { setThreads, startThreads } from '@grok/tensor';

export type Variant = 'last' | 'full';

export type StepRow = {
  suite: 'step';
  impl: 'grok';
  threads: number;
  variant: Variant;
  /** 'compiled' (a replayed tape, as training runs) or 'eager' (op by op). */
  mode: 'compiled' | 'eager';
  /** Median wall time of one step, ms. */
  msMedian: number;
  msMin: number;
  steps: number;
  batch: number;
  /** Training loss at the last timed step (a sanity check: ≈ 4.7 near the start). */
  loss: number;
};

export interface PaperStepOptions {
  p?: number;
  /** Examples in the batch (default: the 30 % split, 3,830 for p = 113); fewer take the split's first ones. */
  batch?: number;
  variant: Variant;
  /** 'float64' (the paper; default) or 'input' (the logits' own dtype, for float32-only backends). */
  lossPrecision?: 'float64' | 'input';
  /** Replay the step as a compiled tape (default true; a backend without capture runs it eagerly anyway). */
  compiled?: boolean;
  /** Options for model.run beyond lastPositionOnly (e.g. `{ mlpTables: false }` to time a shortcut's effect). */
  run?: Omit<RunOptions, 'lastPositionOnly'>;
}

/** One training step in its three phases (the profile times them apart). */
export interface StepPhases {
  /** Forward pass and loss. */
  forward: () => Tensor;
  backward: (loss: Tensor) => void;
  /** The AdamW update, then zeroGrad. */
  update: () => void;
}

/**
 * Builds the model, batch and optimizer; returns one training step (which returns the loss; compiled unless
 * `compiled: false`), the same step as its eager phases, and the batch size.
 */
export function paperStep({ p = 113, batch, variant, lossPrecision = 'float64', compiled = true, run = {} }: PaperStepOptions): {
  step: () => number;
  phases: StepPhases;
  batch: number;
  /** The compiled forward and backward (null with `compiled: false`): its profile() times a replay. */
  tape: CompiledStep<Tensor> | null;
} {
  const split = randomSplit(p, 0.3, 0);
  const pairs = batch === undefined ? split.train : split.train.subarray(0, batch);
  const data = makeBatch(p, pairs);
  // Inputs on the current backend (makeBatch builds them on the default one).
  const tokens = raw.tensor(data.tokens.data, { shape: data.tokens.shape, dtype: 'int32' });
  const labels = new Tensor(raw.tensor(data.labels.data, { shape: data.labels.shape, dtype: 'int32' }));
  const model = new HookedTransformer(paperConfig(p, { seed: 0 }));
  const optimizer = new AdamW(model.parameters(), { lr: 1e-3, betas: [0.9, 0.98], eps: 1e-8, weightDecay: 1 });
  const last = variant === 'last';
  const phases: StepPhases = {
    forward: () => {
      const out = model.run(tokens, { ...run, lastPositionOnly: last }); // [n, p] or [n, 3, p]
      const logits = last ? out : out.slice([0, -1]).squeeze(1); // [n, p]
      return crossEntropy(logits, labels, { precision: lossPrecision });
    },
    backward: (loss) => loss.backward(),
    update: () => {
      optimizer.step();
      optimizer.zeroGrad();
    },
  };
  const forwardBackward = () => {
    const loss = phases.forward();
    phases.backward(loss);
    return loss;
  };
  const tape = compiled ? compileStep(forwardBackward) : null;
  const step = () => {
    const loss = (tape ?? forwardBackward)();
    phases.update();
    return loss.item();
  };
  return { step, phases, batch: pairs.length, tape };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs `warmup` untimed steps, then times `steps` steps. */
export function timeSteps(step: () => number, warmup: number, steps: number): { msMedian: number; msMin: number; loss: number } {
  for (let i = 0; i < warmup; i++) step();
  const times: number[] = [];
  let loss = NaN;
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    loss = step();
    times.push(performance.now() - t0);
  }
  return { msMedian: median(times), msMin: Math.min(...times), loss };
}

export async function runStepBench({ quick = false } = {}): Promise<StepRow[]> {
  const cores = availableParallelism();
  const threadCounts = [...new Set([1, cores])];
  const warmup = quick ? 0 : 3;
  const steps = quick ? 1 : 20;
  const rows: StepRow[] = [];
  const runs: [Variant, 'compiled' | 'eager', number][] = [
    ...(['last', 'full'] as const).flatMap((v) => threadCounts.map((t): [Variant, 'compiled', number] => [v, 'compiled', t])),
    ['last', 'eager', cores],
  ];
  for (const [variant, mode, threads] of runs) {
    setThreads(threads);
    await startThreads();
    const { step, batch } = paperStep({ variant, compiled: mode === 'compiled' });
    const t = timeSteps(step, warmup, steps);
    rows.push({ suite: 'step', impl: 'grok', threads, variant, mode, ...t, steps, batch });
  }
  setThreads(cores);
  return rows;
}
