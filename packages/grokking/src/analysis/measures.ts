/**
 * The progress measures of one checkpoint (a row of analysis.json's `overTraining`): losses, restricted
 * and excluded loss, Gini coefficients, sum of squared weights, key frequencies. One forward pass over the
 * p² pairs (most of the time: ≈ 2.1 G multiply-adds at p = 113); the rest is arithmetic on its logits and neurons.
 */
import type { HookedTransformer } from '@grok/transformer';
import type { Split } from '../data.js';
import { type AllPairs, runAllPairs } from './activations.js';
import { meanOverRows, rowLosses } from './losses.js';
import { restrictedAndExcludedLoss } from './restricted-loss.js';
import {
  type KeyFrequencyRule,
  type NeuronFrequencies,
  defaultKeyFrequencyRule,
  keyFrequencies,
  neuronClusters,
  neuronFrequencies,
} from './neurons.js';
import type { CheckpointMeasures } from './types.js';
import { sumOfSquares } from '../evaluate.js';
import { type FourierNorms, embeddingFourierNorms, neuronLogitFourierNorms } from './weights.js';

export const CLUSTER_THRESHOLD = 0.85;

export interface MeasureOptions {
  /** Frequencies for the restricted/excluded loss (default: this checkpoint's own key frequencies). */
  restrictTo?: readonly number[];
  keyFrequencyRule?: KeyFrequencyRule;
  clusterThreshold?: number;
  /** Also record the attention pattern (the findings need it; the per-step measures do not). */
  pattern?: boolean;
  /**
   * The forward over all pairs (default: runAllPairs, eagerly). A run's analysis passes allPairsReplay's,
   * which replays one captured forward for every checkpoint; it must collect the neurons.
   */
  forward?: () => AllPairs;
  /** Adds the milliseconds of each piece here (see MeasureTimings). */
  timings?: MeasureTimings;
}

/** The measures with what they were computed from, for the findings to reuse. */
export interface Measured {
  measures: CheckpointMeasures;
  p: number;
  run: AllPairs;
  neurons: NeuronFrequencies | null;
  embedding: FourierNorms;
  neuronLogit: FourierNorms | null;
  rule: KeyFrequencyRule;
  clusterThreshold: number;
}

/** Milliseconds per piece of measureCheckpoint, added up over the calls given the same record. */
export interface MeasureTimings {
  /** The forward over all pairs, with copying its logits out. */
  forward: number;
  /** Train, test and all-pairs loss and accuracy. */
  losses: number;
  /** Neuron frequencies, key frequencies, clusters. */
  neurons: number;
  restrictedAndExcluded: number;
  /** Fourier norms and Gini of W_E and W_L, Σw². */
  weights: number;
}

export const emptyTimings = (): MeasureTimings => ({ forward: 0, losses: 0, neurons: 0, restrictedAndExcluded: 0, weights: 0 });

export function measureCheckpoint(model: HookedTransformer, split: Split, step: number, options: MeasureOptions = {}): Measured {
  let mark = performance.now();
  const lap = (piece: keyof MeasureTimings) => {
    const now = performance.now();
    if (options.timings) options.timings[piece] += now - mark;
    mark = now;
  };
  const run = options.forward ? options.forward() : runAllPairs(model, { neurons: true, pattern: options.pattern ?? false });
  const { p, logits } = run;
  if (split.p !== p) throw new Error(`the split is for p = ${split.p} but the model's p is ${p} (d_vocab − 1)`);
  lap('forward');
  const rows = rowLosses(logits, p); // one pass: train, test and all pairs are means of its rows
  const train = meanOverRows(rows, split.train);
  const test = meanOverRows(rows, split.test);
  const all = meanOverRows(rows);
  lap('losses');
  const nf = run.neurons ? neuronFrequencies(run.neurons, p, run.dMlp) : null;
  const rule = options.keyFrequencyRule ?? defaultKeyFrequencyRule(run.dMlp);
  const clusterThreshold = options.clusterThreshold ?? CLUSTER_THRESHOLD;
  const keys = nf ? keyFrequencies(nf, rule) : [];
  const neuronsClustered = nf ? neuronClusters(nf, clusterThreshold).reduce((s, c) => s + c.size, 0) : 0;
  lap('neurons');
  const restrictTo = [...(options.restrictTo ?? keys)].sort((a, b) => a - b);
  const restricted = restrictedAndExcludedLoss(logits, p, restrictTo, split.train);
  lap('restrictedAndExcluded');
  const embedding = embeddingFourierNorms(model, p);
  const neuronLogit = neuronLogitFourierNorms(model, p);
  const sumSquaredWeights = sumOfSquares(model.parameters());
  lap('weights');
  const measures: CheckpointMeasures = {
    step,
    trainLoss: train.loss,
    testLoss: test.loss,
    loss: all.loss,
    trainAccuracy: train.accuracy,
    testAccuracy: test.accuracy,
    ...restricted,
    restrictedLossFrequencies: restrictTo,
    giniWE: embedding.gini,
    giniWL: neuronLogit ? neuronLogit.gini : null,
    sumSquaredWeights,
    keyFrequencies: keys,
    neuronsClustered,
    embeddingFrequencyNorms: [...embedding.frequencyNorms],
    neuronLogitFrequencyNorms: neuronLogit ? [...neuronLogit.frequencyNorms] : null,
  };
  return { measures, p, run, neurons: nf, embedding, neuronLogit, rule, clusterThreshold };
}
