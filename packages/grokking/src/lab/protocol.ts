/**
 * The messages between the lab page and its training worker. The page only draws; the worker owns the
 * model: it trains, measures, ablates, and turns weights into checkpoint bytes and back.
 */
import type { AblationResult } from '../analysis/types.js';
import type { LabSettings } from './settings.js';

/** Page → worker. */
export type ToWorker =
  /** Set up the backend and a fresh model; train `steps` steps (null: until paused). */
  | { type: 'start'; settings: LabSettings; steps: number | null }
  | { type: 'pause' }
  | { type: 'resume' }
  /** The current weights as a safetensors checkpoint (answered by 'checkpoint'). */
  | { type: 'download' }
  /** A checkpoint file the reader dropped: measure it and show it (answered by 'analysis' or 'error'). */
  | { type: 'open'; name: string; bytes: Uint8Array }
  /** Ablate the model shown (answered by 'ablations'). */
  | { type: 'ablate' };

/** One logged step. */
export interface MetricRow {
  step: number;
  trainLoss: number;
  testLoss: number;
  trainAccuracy: number;
  testAccuracy: number;
  /** Σ w² over every parameter. */
  sumSquaredWeights: number;
}

/** The progress measures of one model (measureCheckpoint), in what the charts need. */
export interface AnalysisRow {
  step: number;
  trainLoss: number;
  testLoss: number;
  restrictedLoss: number;
  excludedLoss: number;
  keyFrequencies: number[];
  restrictedLossFrequencies: number[];
  /** W_E[:p]'s Fourier component norms: const, cos 1, sin 1, … */
  embeddingComponentNorms: number[];
  giniWE: number;
  neuronsClustered: number;
  /** One neuron's post-ReLU activation at `=`, for input (a, b) at index a·p + b (null: no MLP). */
  neuron: { index: number; values: number[] } | null;
}

/** Where the model shown comes from: the training in this tab, or a file. */
export type ModelSource = { kind: 'training' } | { kind: 'file'; name: string; note: string | null };

/** Worker → page. */
export type FromWorker =
  /** The backend is up; `detail` says how it runs (threads, or why one thread). */
  | { type: 'ready'; backend: string; detail: string; p: number; trainPairs: number; testPairs: number; fingerprint: Fingerprint }
  | { type: 'progress'; step: number; stepsPerSecond: number; rows: MetricRow[]; running: boolean }
  | { type: 'analysis'; source: ModelSource; p: number; row: AnalysisRow }
  | { type: 'ablations'; step: number; rows: AblationResult[] }
  | { type: 'checkpoint'; name: string; bytes: Uint8Array }
  /** Autorun finished: what #lab-result shows. */
  | { type: 'result'; result: LabResult }
  /** A line worth showing (how the step runs: compiled or eager, and why). */
  | { type: 'log'; line: string }
  | { type: 'error'; message: string };

/** Same seed ⇒ same init and split: hashes of both, to compare with Node's (FNV-1a over the bytes, hex). */
export interface Fingerprint {
  /** Of the initial parameters' float32 bytes, in their TransformerLens order. */
  init: string;
  /** Of the training pairs' indices (a·p + b), in training order. */
  split: string;
}

/** The JSON written into #lab-result after ?autorun=STEPS. */
export interface LabResult {
  step: number;
  train_loss: number;
  test_loss: number;
  backend: string;
  steps_per_second: number;
  /** How the backend ran (threads, SwiftShader, …). */
  backend_detail: string;
  fingerprint: Fingerprint;
}
