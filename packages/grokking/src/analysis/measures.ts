/**
 * The progress measures of one checkpoint (a row of analysis.json's `overTraining`): losses, restricted
 * and excluded loss, Gini coefficients, sum of squared weights, key frequencies. One forward pass over the
 * p² pairs; the rest is arithmetic on its logits and neurons (the neuron analysis, ≈ p³·d_mlp/2
 * multiply-adds, dominates).
 */
import type { HookedTransformer } from '@grok/transformer';
import type { Split } from '../data.js';
import { type AllPairs, runAllPairs } from './activations.js';
import { crossEntropyOnRows } from './losses.js';
import { keepSumFrequencies, removeSumFrequencies } from './logits.js';
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

/** Restricted loss (all pairs) and excluded loss (train pairs) of logits [p*p, p]. */
export function restrictedAndExcludedLoss(logits: Float64Array, p: number, frequencies: readonly number[], train: Int32Array) {
  return {
    restrictedLoss: crossEntropyOnRows(keepSumFrequencies(logits, p, p, frequencies), p).loss,
    excludedLoss: crossEntropyOnRows(removeSumFrequencies(logits, p, p, frequencies), p, train).loss,
  };
}

export function measureCheckpoint(model: HookedTransformer, split: Split, step: number, options: MeasureOptions = {}): Measured {
  const run = runAllPairs(model, { neurons: true, pattern: options.pattern ?? false });
  const { p, logits } = run;
  if (split.p !== p) throw new Error(`the split is for p = ${split.p} but the model's p is ${p} (d_vocab − 1)`);
  const train = crossEntropyOnRows(logits, p, split.train);
  const test = crossEntropyOnRows(logits, p, split.test);
  const nf = run.neurons ? neuronFrequencies(run.neurons, p, run.dMlp) : null;
  const rule = options.keyFrequencyRule ?? defaultKeyFrequencyRule(run.dMlp);
  const clusterThreshold = options.clusterThreshold ?? CLUSTER_THRESHOLD;
  const keys = nf ? keyFrequencies(nf, rule) : [];
  const restrictTo = [...(options.restrictTo ?? keys)].sort((a, b) => a - b);
  const embedding = embeddingFourierNorms(model, p);
  const neuronLogit = neuronLogitFourierNorms(model, p);
  const measures: CheckpointMeasures = {
    step,
    trainLoss: train.loss,
    testLoss: test.loss,
    loss: crossEntropyOnRows(logits, p).loss,
    trainAccuracy: train.accuracy,
    testAccuracy: test.accuracy,
    ...restrictedAndExcludedLoss(logits, p, restrictTo, split.train),
    restrictedLossFrequencies: restrictTo,
    giniWE: embedding.gini,
    giniWL: neuronLogit ? neuronLogit.gini : null,
    sumSquaredWeights: sumOfSquares(model.parameters()),
    keyFrequencies: keys,
    neuronsClustered: nf ? neuronClusters(nf, clusterThreshold).reduce((s, c) => s + c.size, 0) : 0,
    embeddingFrequencyNorms: [...embedding.frequencyNorms],
    neuronLogitFrequencyNorms: neuronLogit ? [...neuronLogit.frequencyNorms] : null,
  };
  return { measures, p, run, neurons: nf, embedding, neuronLogit, rule, clusterThreshold };
}
