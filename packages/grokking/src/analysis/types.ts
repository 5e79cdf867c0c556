/**
 * The shape of analysis.json (and of `pnpm grok analyze --checkpoint FILE --json`). Other tools (the HTML
 * report) read these names: change them only with `schemaVersion`.
 *
 * Conventions: losses are mean cross-entropies in nats over the p number classes, computed in float64 from
 * the model's logits; "train"/"test" are the run's split; "all pairs" are the p² inputs. Frequencies k are
 * 1 … (p−1)/2 (ω_k = 2πk/p). Arrays "by frequency" have index k (index 0 = the constant term). Arrays "by
 * component" follow the basis order const, cos 1, sin 1, cos 2, sin 2, … (see fourier.ts).
 */
import type { TransformerConfig } from '@grok/transformer';

/** Losses and accuracies of one model (or one ablated model). */
export interface LossSummary {
  trainLoss: number;
  testLoss: number;
  /** Over all p² pairs. */
  loss: number;
  trainAccuracy: number;
  testAccuracy: number;
}

/** The measures computed on every checkpoint (one row of `overTraining`). */
export interface CheckpointMeasures extends LossSummary {
  step: number;
  /**
   * Cross-entropy over all p² pairs of the restricted logits: per class c, the logits' projection onto the
   * cos/sin(ω_k(a+b)) directions of `restrictedLossFrequencies`, plus the mean logit of class c.
   */
  restrictedLoss: number;
  /** Cross-entropy over the train pairs of the logits minus those projections. */
  excludedLoss: number;
  /** The frequencies used for restrictedLoss / excludedLoss (the final checkpoint's key frequencies in a run). */
  restrictedLossFrequencies: number[];
  /** Gini coefficient of the Fourier-component norms of W_E[:p] (N = p components). */
  giniWE: number;
  /** Gini coefficient of the Fourier-component norms of W_L over the output class (null: attention-only model). */
  giniWL: number | null;
  /** Σ of squared weights over every parameter. */
  sumSquaredWeights: number;
  /** This checkpoint's own key frequencies (ascending; see `keyFrequencyRule`). */
  keyFrequencies: number[];
  /** Neurons whose best frequency explains more than `clusterThreshold` of their centred variance. */
  neuronsClustered: number;
  /** By frequency: √(‖cos k‖² + ‖sin k‖²) of W_E[:p] in the Fourier basis (index 0: the constant). */
  embeddingFrequencyNorms: number[];
  /** By frequency: the same for W_L (null: attention-only model). */
  neuronLogitFrequencyNorms: number[] | null;
}

export interface NeuronClusterSummary {
  frequency: number;
  size: number;
  /** Σ over the cluster of the variance in its frequency / Σ of its centred variance. */
  varianceExplained: number;
  /** Neuron indices. */
  neurons: number[];
}

export interface AblationResult {
  /** Stable identifier, e.g. 'remove-key-frequencies-from-logits'. */
  name: string;
  /** What was done, in words (which hook, which projection). */
  description: string;
  /** The hook point(s) used. */
  hooks: string[];
  trainLossBefore: number;
  trainLossAfter: number;
  testLossBefore: number;
  testLossAfter: number;
  trainAccuracyAfter: number;
  testAccuracyAfter: number;
}

/** Everything found on one checkpoint (`final` in analysis.json, `analyze DIR --step N --json`). */
export interface CheckpointFindings extends CheckpointMeasures {
  p: number;
  /** The checkpoint file it came from. */
  checkpoint: string;
  keyFrequencyRule: { minNeuronFraction: number; minNeurons: number };
  clusterThreshold: number;
  embedding: {
    /** By component (p values): ‖(B·W_E[:p])[i, :]‖. */
    componentNorms: number[];
    frequencyNorms: number[];
    gini: number;
  };
  neuronLogitMap: { componentNorms: number[]; frequencyNorms: number[]; gini: number } | null;
  neurons: {
    count: number;
    /** [d_mlp]: each neuron's best frequency (0: dead or constant neuron). */
    bestFrequency: number[];
    /** [d_mlp]: the fraction of its centred variance in that frequency's 8 non-constant block terms. */
    bestFraction: number[];
    clusters: NeuronClusterSummary[];
    /** Neurons in any cluster / d_mlp. */
    clusteredFraction: number;
    /** Σ over clustered neurons of the variance in their frequency / Σ of every neuron's centred variance. */
    varianceExplainedByClusters: number;
  } | null;
  /** Fit of the per-input-centred logits by Σ_k α_k cos(ω_k(a+b−c)) over the key frequencies. */
  logitFit: {
    varianceExplained: number;
    alphas: { frequency: number; alpha: number; varianceExplained: number }[];
  };
  /** Share of the attention-from-`=` pattern's centred variance in the key frequencies' 2D terms. */
  attentionPeriodicity: { toA: number[]; toB: number[]; mean: number };
  ablations: AblationResult[];
}

/**
 * What `analyze --checkpoint FILE --json` prints: the findings, and what the file did or did not say about
 * itself (a converted checkpoint may have no metadata at all).
 */
export interface CheckpointFileFindings extends Omit<CheckpointFindings, 'step'> {
  /** The step in the file's metadata; null when it has none. */
  step: number | null;
  /** The model config: from the metadata, else read off the tensors (TransformerLens names). */
  config: TransformerConfig;
  /** Which split train/test/excluded loss used, and its sizes. */
  split: { from: string; trainPairs: number; testPairs: number };
}

/** A phase boundary rule's inputs, written out so the boundaries can be checked by hand. */
export interface PhaseDetection {
  /** Each phase as [startStep, endStep]; null where the run never got there. */
  memorisation: [number, number] | null;
  circuitFormation: [number, number] | null;
  cleanup: [number, number] | null;
  /** The rule in words. */
  rule: string;
  inputs: {
    /** Train loss at the first checkpoint. */
    initialTrainLoss: number;
    /** The training set counts as fitted at the first checkpoint with train loss below this. */
    memorisationTrainLossThreshold: number;
    /** The first largest test loss at or after the training set is fitted, and its step (memorisation ends there). */
    peakTestLoss: number | null;
    peakTestLossStep: number | null;
    /** The smallest test loss at or after the peak, and its step. */
    floorTestLoss: number | null;
    floorTestLossStep: number | null;
    /** The run counts as grokked if the floor test loss is below this. */
    grokkedTestLossThreshold: number;
    grokked: boolean;
    /** Circuit formation ends once log10(test loss) has fallen this fraction of the way from peak to floor. */
    cleanupStartFraction: number;
    /** Cleanup ends once it has fallen this fraction of the way. */
    cleanupEndFraction: number;
    /** The test-loss levels those fractions correspond to. */
    cleanupStartTestLoss: number | null;
    cleanupEndTestLoss: number | null;
  };
}

export interface AnalysisFile {
  schemaVersion: 1;
  /** ISO time of writing. */
  createdAt: string;
  /** Seconds the analysis took. */
  durationSeconds: number;
  run: {
    dir: string;
    p: number;
    /** The run's config.json. */
    config: Record<string, unknown>;
    trainPairs: number;
    testPairs: number;
  };
  clusterThreshold: number;
  keyFrequencyRule: { minNeuronFraction: number; minNeurons: number };
  /** The key frequencies used for the restricted and excluded loss at every step, and where they came from. */
  restrictedLossFrequencies: number[];
  restrictedLossFrequenciesFromStep: number;
  /** Steps of the checkpoints analysed, ascending. */
  steps: number[];
  /** One row per checkpoint, in step order. */
  overTraining: CheckpointMeasures[];
  phases: PhaseDetection;
  /** Findings and ablations on the final checkpoint. */
  final: CheckpointFindings;
}
