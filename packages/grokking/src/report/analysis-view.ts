/**
 * What the report reads from analysis.json, in the report's own terms. The analysis owns the file's
 * format (src/analysis/types.ts, AnalysisFile); `analysisView` below is the one place that knows it, so a
 * change there touches one function here and no figure.
 */
import * as fs from 'node:fs';
import type { AnalysisFile, CheckpointMeasures, PhaseDetection } from '../analysis/types.js';
import type { RunDir } from '../run-dir.js';
import { type FourierBars, fourierBars } from './charts/fourier-bars.js';

export { type FourierBars, fourierBars }; // (they live with their chart, which the lab's page also draws)

export interface Phase {
  name: string;
  start: number;
  end: number;
}

/** One value per analysed checkpoint, in step order. */
export interface CheckpointSeries {
  steps: number[];
  trainLoss?: number[];
  testLoss?: number[];
  restrictedLoss?: number[];
  excludedLoss?: number[];
  giniWE?: number[];
  giniWL?: number[];
  sumSquaredWeights?: number[];
  /** Per checkpoint, by frequency (index 0: the constant): the norms of W_E's Fourier components. */
  embeddingFrequencyNorms?: number[][];
}


export interface ReportAnalysis {
  p: number;
  /** The checkpoint step the end-of-training figures describe. */
  finalStep: number;
  keyFrequencies: number[];
  phases: Phase[];
  series: CheckpointSeries;
  fourierWE?: FourierBars;
  fourierWL?: FourierBars;
  /** Neurons per key frequency (the paper's cluster: > 85 % of a neuron's energy in one frequency). */
  clusters?: { frequency: number; neurons: number }[];
  unclustered?: number;
  /** The frequencies the restricted and excluded losses project on. */
  restrictedLossFrequencies?: number[];
  ablations?: AblationRow[];
  /** Which neuron the heat-map should show, and the frequency it belongs to. */
  heatmapNeuron?: { neuron: number; frequency: number };
  /** Share of the logits' variance fitted by Σ_k α_k cos(ω_k(a+b−c)). */
  logitFitVariance?: number;
  /** Set when the rows are the live report's (live-view.ts), not analysis.json's. */
  live?: LiveInfo;
}

/** What the live rows are, for the page to say (the live curves are not the final analysis's). */
export interface LiveInfo {
  /** Checkpoints measured so far, and those on disk not measured yet (ascending). */
  measured: number;
  checkpoints: number;
  pending: number[];
  /** The same as runs of consecutive checkpoints [first, last]. */
  pendingRanges: [number, number][];
  /** Every measured checkpoint from this step on has the newest one's key frequencies. */
  keysSinceStep: number;
}

export interface AblationRow {
  name: string;
  description: string;
  trainLossBefore: number;
  trainLossAfter: number;
  testLossBefore: number;
  testLossAfter: number;
  testAccuracyAfter: number;
}

/** Reads runs/NAME/analysis.json, or null when the analysis has not been run. */
export function readAnalysis(run: RunDir): ReportAnalysis | null {
  if (!fs.existsSync(run.analysisPath)) return null;
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(run.analysisPath, 'utf8'));
  } catch (e) {
    throw new Error(`${run.analysisPath}: cannot read it as JSON (${(e as Error).message})`);
  }
  const file = json as AnalysisFile;
  if (file?.schemaVersion !== 1 || !Array.isArray(file.overTraining) || !file.final) {
    throw new Error(`${run.analysisPath}: not an analysis file of schema version 1; re-run pnpm grok analyze ${run.dir}`);
  }
  return analysisView(file);
}

/** Maps analysis.json (src/analysis/types.ts) onto the report's view. */
export function analysisView(a: AnalysisFile): ReportAnalysis {
  const rows = a.overTraining;
  const f = a.final;
  const clustered = f.neurons?.clusters.reduce((n, c) => n + c.size, 0) ?? 0;
  // The heat-map shows a neuron of the largest cluster: the clearest example of the algorithm.
  const biggest = f.neurons?.clusters.slice().sort((x, y) => y.size - x.size)[0];
  return {
    p: a.run.p,
    finalStep: f.step,
    keyFrequencies: f.keyFrequencies,
    phases: phaseSpans(a.phases),
    series: checkpointSeries(rows),
    restrictedLossFrequencies: a.restrictedLossFrequencies,
    fourierWE: fourierBars(f.embedding.componentNorms),
    fourierWL: f.neuronLogitMap ? fourierBars(f.neuronLogitMap.componentNorms) : undefined,
    clusters: f.neurons?.clusters.map((c) => ({ frequency: c.frequency, neurons: c.size })),
    unclustered: f.neurons ? f.neurons.count - clustered : undefined,
    ablations: f.ablations.map((x) => ({
      name: x.name,
      description: x.description,
      trainLossBefore: x.trainLossBefore,
      trainLossAfter: x.trainLossAfter,
      testLossBefore: x.testLossBefore,
      testLossAfter: x.testLossAfter,
      testAccuracyAfter: x.testAccuracyAfter,
    })),
    heatmapNeuron: biggest?.neurons[0] !== undefined ? { neuron: biggest.neurons[0], frequency: biggest.frequency } : undefined,
    logitFitVariance: f.logitFit.varianceExplained,
  };
}

/** The phases that were found, as spans to shade. */
export function phaseSpans(d: PhaseDetection): Phase[] {
  const phases: Phase[] = [];
  const span = (name: string, x: [number, number] | null) => x && phases.push({ name, start: x[0], end: x[1] });
  span('memorisation', d.memorisation);
  span('circuit formation', d.circuitFormation);
  span('cleanup', d.cleanup);
  return phases;
}

/** The curves of measured checkpoints (analysis.json's `overTraining`, or the live report's rows), in step order. */
export function checkpointSeries(rows: readonly CheckpointMeasures[]): CheckpointSeries {
  return {
    steps: rows.map((r) => r.step),
    trainLoss: rows.map((r) => r.trainLoss),
    testLoss: rows.map((r) => r.testLoss),
    restrictedLoss: rows.map((r) => r.restrictedLoss),
    excludedLoss: rows.map((r) => r.excludedLoss),
    giniWE: rows.map((r) => r.giniWE),
    giniWL: rows.every((r) => r.giniWL !== null) ? rows.map((r) => r.giniWL!) : undefined,
    sumSquaredWeights: rows.map((r) => r.sumSquaredWeights),
    embeddingFrequencyNorms: rows.length > 0 && rows.every((r) => r.embeddingFrequencyNorms?.length > 1) ? rows.map((r) => r.embeddingFrequencyNorms) : undefined,
  };
}
