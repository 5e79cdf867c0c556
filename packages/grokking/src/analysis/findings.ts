/**
 * Everything the analysis says about one checkpoint: the progress measures, the Fourier norms, the neuron
 * clusters, the logit fit, the attention's periodicity, and the ablation table.
 */
import type { HookedTransformer } from '@grok/transformer';
import type { Split } from '../data.js';
import { runAblations } from './ablations.js';
import { attentionPeriodicity } from './attention.js';
import { fitLogits } from './logits.js';
import { type MeasureOptions, measureCheckpoint } from './measures.js';
import { neuronClusters } from './neurons.js';
import type { CheckpointFindings } from './types.js';

export interface FindingsOptions extends MeasureOptions {
  /** Skip the ablations (each is one more forward pass). */
  ablations?: boolean;
}

export function analyzeCheckpoint(
  model: HookedTransformer,
  split: Split,
  step: number,
  checkpoint: string,
  options: FindingsOptions = {},
): CheckpointFindings {
  const m = measureCheckpoint(model, split, step, { ...options, pattern: true });
  const { p, run, measures } = m;
  const keys = measures.keyFrequencies;
  const clusters = m.neurons ? neuronClusters(m.neurons, m.clusterThreshold) : [];
  let neurons: CheckpointFindings['neurons'] = null;
  if (m.neurons) {
    const nf = m.neurons;
    const clustered = clusters.reduce((s, c) => s + c.size, 0);
    let inClusters = 0;
    for (const c of clusters) inClusters += c.varianceExplained * c.neurons.reduce((s, n) => s + nf.totalEnergy[n]!, 0);
    const total = nf.totalEnergy.reduce((s, e) => s + e, 0);
    neurons = {
      count: nf.dMlp,
      bestFrequency: [...nf.bestFrequency],
      bestFraction: [...nf.bestFraction],
      clusters: clusters.map((c) => ({ frequency: c.frequency, size: c.size, varianceExplained: c.varianceExplained, neurons: c.neurons })),
      clusteredFraction: clustered / nf.dMlp,
      varianceExplainedByClusters: total > 0 ? inClusters / total : 0,
    };
  }
  const before = {
    trainLoss: measures.trainLoss,
    testLoss: measures.testLoss,
    loss: measures.loss,
    trainAccuracy: measures.trainAccuracy,
    testAccuracy: measures.testAccuracy,
  };
  return {
    ...measures,
    p,
    checkpoint,
    keyFrequencyRule: m.rule,
    clusterThreshold: m.clusterThreshold,
    embedding: {
      componentNorms: [...m.embedding.componentNorms],
      frequencyNorms: [...m.embedding.frequencyNorms],
      gini: m.embedding.gini,
    },
    neuronLogitMap: m.neuronLogit && {
      componentNorms: [...m.neuronLogit.componentNorms],
      frequencyNorms: [...m.neuronLogit.frequencyNorms],
      gini: m.neuronLogit.gini,
    },
    neurons,
    logitFit: fitLogits(run.logits, p, keys),
    attentionPeriodicity: attentionPeriodicity(run.pattern!, p, run.nHeads, keys),
    ablations: options.ablations === false ? [] : runAblations({ model, split, p, keyFrequencies: keys, clusters, before }),
  };
}
