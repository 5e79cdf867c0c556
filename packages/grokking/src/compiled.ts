/**
 * The training step's forward and backward pass, and the test-set evaluation, compiled with @grok/autograd's
 * `compileStep`: traced once, then replayed as a flat list of kernels over a static memory plan in wasm memory
 * (no tensors, graph nodes or allocations per step). The numbers are those of the eager ops, bit for bit.
 *
 * Where a step cannot be replayed (a backend without capture, such as gpujs; a parameter replaced instead of
 * updated in place, as `fixed_norm` does), it runs eagerly, and `say` is told why, once.
 */
import { type CompiledStep, Tensor, compileStep, crossEntropy, noGrad, raw } from '@grok/autograd';
import type { HookedTransformer } from '@grok/transformer';
import type { Batch } from './data.js';
import { type Scores, accuracy } from './evaluate.js';

type Precision = 'float64' | 'input';

/** What a forward pass computed, for logging. */
export interface ForwardOutput {
  /** [] the training loss. */
  loss: Tensor;
  /** [n, p] the logits at the answer position. */
  logits: Tensor;
}

/** [n, p] logits at the last position, where the answer is read. */
export function answerLogits(model: HookedTransformer, tokens: Batch['tokens'], lastPositionOnly: boolean): Tensor {
  const logits = model.run(tokens, { lastPositionOnly }); // [n, p] or [n, 3, p]
  return lastPositionOnly ? logits : logits.slice([0, -1]).squeeze(1);
}

/**
 * forward → loss → backward on the whole training batch, as one compiled step: each call leaves the
 * gradients in the parameters' `.grad` (zeroGrad between calls) and returns the loss and logits.
 */
export function compiledForwardBackward(
  model: HookedTransformer, batch: Batch, options: { lastPositionOnly: boolean; precision: Precision; say?: (line: string) => void },
): CompiledStep<ForwardOutput> {
  const labels = new Tensor(batch.labels);
  return compileStep(
    () => {
      const logits = answerLogits(model, batch.tokens, options.lastPositionOnly); // [n, p]
      const loss = crossEntropy(logits, labels, { precision: options.precision });
      loss.backward(); // ∂loss/∂w into every parameter's .grad
      return { loss, logits };
    },
    {
      onFallback: (why) => options.say?.(`training step: running eagerly (${why})`),
      onCapture: ({ kernels, bytes }) =>
        options.say?.(`training step: compiled, ${kernels} kernels replayed per step over ${(bytes / 2 ** 20).toFixed(0)} MiB of wasm memory`),
    },
  );
}

/**
 * Rows per compiled evaluation pass: more than evaluate's EVAL_CHUNK, because each pass rebuilds the model's
 * token and MLP tables. Measured on the paper's 8,939 test rows at 2 threads: 5 chunks of 2,048 take 63 ms,
 * 2 of 4,480 take 52 ms, one pass 48 ms but with 65 MB more peak memory (2 chunks: 27 MB).
 */
export const COMPILED_EVAL_CHUNK = 4480;

/**
 * Loss and accuracy on a fixed batch (the test set), evaluated in chunks of COMPILED_EVAL_CHUNK rows, each chunk a
 * compiled forward pass (no graph). The same numbers as `evaluate` in evaluate.ts, its readable form.
 */
export class CompiledEvaluation {
  readonly #chunks: { labels: raw.NDArray; run: CompiledStep<{ loss: Tensor; logits: Tensor }> }[] = [];
  readonly #n: number;

  constructor(model: HookedTransformer, batch: Batch, precision: Precision, say?: (line: string) => void) {
    this.#n = batch.labels.size;
    let told = false;
    const onFallback = (why: string) => {
      if (!told) say?.(`evaluation: running eagerly (${why})`);
      told = true;
    };
    for (let start = 0; start < this.#n; start += COMPILED_EVAL_CHUNK) {
      const rows = Math.min(COMPILED_EVAL_CHUNK, this.#n - start);
      const tokens = raw.narrow(batch.tokens, 0, start, rows); // [rows, 3]
      const labels = raw.narrow(batch.labels, 0, start, rows); // [rows]
      const target = new Tensor(labels);
      const run = compileStep(
        () =>
          noGrad(() => {
            const logits = model.run(tokens, { lastPositionOnly: true }); // [rows, p]
            return { logits, loss: crossEntropy(logits, target, { precision, reduction: 'sum' }) };
          }),
        { onFallback },
      );
      this.#chunks.push({ labels, run });
    }
  }

  run(): Scores {
    let lossSum = 0;
    let hits = 0;
    for (const { labels, run } of this.#chunks) {
      const { loss, logits } = run();
      lossSum += loss.item();
      hits += Math.round(accuracy(logits.value, labels) * labels.size);
    }
    return { loss: lossSum / this.#n, accuracy: hits / this.#n };
  }
}
