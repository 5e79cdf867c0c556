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
  const dMlp = shape[shape.length - 1]!;
  const positions = shape.length === 3 ? shape[1]! : 1;
  const data = post.data;
  const at = (pair: number, neuron: number) => Number(data[(pair * positions + positions - 1) * dMlp + neuron]);

  let best = neuron !== undefined && neuron < dMlp ? neuron : 0;
  let bestVar = -1;
  for (let n = 0; n < dMlp && (neuron === undefined || neuron >= dMlp); n++) {
    let sum = 0;
    let sq = 0;
    for (let k = 0; k < p * p; k++) {
      const v = at(k, n);
      sum += v;
      sq += v * v;
    }
    const variance = sq / (p * p) - (sum / (p * p)) ** 2;
    if (variance > bestVar) [best, bestVar] = [n, variance];
  }
  const values = Float64Array.from({ length: p * p }, (_, k) => at(k, best));
  return { step, neuron: best, p, values };
}
