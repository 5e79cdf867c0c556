/**
 * The progress measures of the model the lab shows, with the grokking package's own analysis
 * (measureCheckpoint: losses, restricted and excluded loss, Fourier norms, key frequencies) and the
 * report's neuron map, read from the activations the measures already computed (no second forward pass).
 */
import type { HookedTransformer } from '@grok/transformer';
import { runAblations } from '../../analysis/ablations.js';
import { measureCheckpoint } from '../../analysis/measures.js';
import { neuronClusters } from '../../analysis/neurons.js';
import type { AblationResult } from '../../analysis/types.js';
import type { Split } from '../../data.js';
import { type Activations, neuronMapOf, neuronVariances } from '../../report/neuron-map.js';
import type { AnalysisRow } from '../protocol.js';

/**
 * Measures `model` at `step`. `neuron` is the neuron shown last time: it stays while it is still among the
 * lively ones (≥ half the largest variance), so the picture shows one neuron changing, not a new one each time.
 */
export function analyse(model: HookedTransformer, split: Split, step: number, neuron: number | null): AnalysisRow {
  const { measures: m, run, embedding } = measureCheckpoint(model, split, step);
  let shown: AnalysisRow['neuron'] = null;
  if (run.neurons) {
    const activations: Activations = { data: run.neurons, p: run.p, dMlp: run.dMlp, positions: 1 };
    const variances = neuronVariances(activations);
    const keep = neuron !== null && variances[neuron]! >= 0.5 * Math.max(...variances);
    const map = neuronMapOf(activations, step, keep ? neuron! : undefined);
    shown = { index: map.neuron, values: Array.from(map.values, (v) => Number(v.toPrecision(4))) };
  }
  return {
    step,
    trainLoss: m.trainLoss,
    testLoss: m.testLoss,
    restrictedLoss: m.restrictedLoss,
    excludedLoss: m.excludedLoss,
    keyFrequencies: m.keyFrequencies,
    restrictedLossFrequencies: m.restrictedLossFrequencies,
    embeddingComponentNorms: Array.from(embedding.componentNorms),
    giniWE: m.giniWE,
    neuronsClustered: m.neuronsClustered,
    neuron: shown,
  };
}

/**
 * The analysis's ablations of `model` (analysis/ablations.ts), the first two being those of the paper's key
 * frequencies: remove them from the logits, or keep only them.
 */
export function ablate(model: HookedTransformer, split: Split, step: number): AblationResult[] {
  const measured = measureCheckpoint(model, split, step);
  const m = measured.measures;
  const clusters = measured.neurons ? neuronClusters(measured.neurons, measured.clusterThreshold) : [];
  const before = { trainLoss: m.trainLoss, testLoss: m.testLoss, loss: m.loss, trainAccuracy: m.trainAccuracy, testAccuracy: m.testAccuracy };
  return runAblations({ model, split, p: measured.p, keyFrequencies: m.keyFrequencies, clusters, before });
}
