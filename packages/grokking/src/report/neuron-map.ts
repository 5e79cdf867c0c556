/**
 * When the analysis gives no heat-map, the report makes its own from the newest checkpoint: run the model
 * on all p² inputs, read the MLP's post-ReLU activations at the `=` position (hook
 * `blocks.0.mlp.hook_post`), and show one neuron: the analysis's choice (a neuron of the largest
 * frequency cluster) or else the one whose activation varies most over (a, b) — a live neuron, so the
 * picture shows structure rather than a dead unit's flat zero.
 */
import { noGrad } from '@grok/autograd';
import { loadModelFromCheckpoint } from '@grok/transformer';
import { makeBatch } from '../data.js';
import type { RunDir } from '../run-dir.js';

export interface NeuronMap {
  step: number;
  neuron: number;
  p: number;
  /** Activation for input (a, b) at index a·p + b. */
  values: Float64Array;
}

const HOOK = 'blocks.0.mlp.hook_post';

/** `neuron`: which one to show (the analysis's choice); default the one of largest variance. */
export function neuronMap(run: RunDir, neuron?: number): NeuronMap | null {
  const steps = run.checkpointSteps();
  if (steps.length === 0) return null;
  const step = steps[steps.length - 1]!;
  const { model } = loadModelFromCheckpoint(run.checkpointPath(step));
  if (model.cfg.attn_only) return null; // no MLP, no neurons
  const p = run.readConfig().p;
  const { tokens } = makeBatch(p); // all p² pairs, lexicographic
  const post = noGrad(() => model.runWithCache(tokens, { names: [HOOK], lastPositionOnly: true }).cache.get(HOOK));
  if (!post) return null;
  // [p², positions, d_mlp]: with lastPositionOnly the last position is the only one, but read it generally.
  const shape = post.shape;
  const activations = { data: post.data, p, dMlp: shape[shape.length - 1]!, positions: shape.length === 3 ? shape[1]! : 1 };
  return neuronMapOf(activations, step, neuron);
}

/** The MLP's activations over all p² inputs: data[(pair · positions + position) · dMlp + neuron]. */
export interface Activations {
  data: ArrayLike<number>;
  p: number;
  dMlp: number;
  positions: number;
}

/** Activation of `neuron` for input pair a·p + b, at the last position (`=`). */
const at = (x: Activations, pair: number, neuron: number) => Number(x.data[(pair * x.positions + x.positions - 1) * x.dMlp + neuron]);

/** Each neuron's variance over the p² inputs (a dead neuron's is 0). */
export function neuronVariances(x: Activations): Float64Array {
  const n = x.p * x.p;
  return Float64Array.from({ length: x.dMlp }, (_, neuron) => {
    let sum = 0;
    let sq = 0;
    for (let k = 0; k < n; k++) {
      const v = at(x, k, neuron);
      sum += v;
      sq += v * v;
    }
    return sq / n - (sum / n) ** 2;
  });
}

/**
 * The map of one neuron: `neuron` if given (and there is one of that index), else the one whose activation
 * varies most over (a, b). (The lab's live view uses this on the activations its measures already computed.)
 */
export function neuronMapOf(x: Activations, step: number, neuron?: number): NeuronMap {
  let best = neuron !== undefined && neuron >= 0 && neuron < x.dMlp ? neuron : -1;
  if (best < 0) {
    const variances = neuronVariances(x);
    best = variances.indexOf(Math.max(...variances));
  }
  const values = Float64Array.from({ length: x.p * x.p }, (_, k) => at(x, k, best));
  return { step, neuron: best, p: x.p, values };
}
