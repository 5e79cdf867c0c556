/**
 * Synthetic runs for the report tests: a config, a metrics.jsonl shaped like a grokking run (train loss
 * falls at once, test loss peaks and collapses late), an analysis.json with the fields the report reads,
 * and optionally a real (untrained) checkpoint so the neuron heat-map can be computed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { saveCheckpoint } from '@grok/transformer';
import type { AnalysisFile } from '../src/analysis/types.js';
import { resolveConfig } from '../src/config.js';
import { buildModel } from '../src/model.js';
import { type MetricsRow, RunDir } from '../src/run-dir.js';

export const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'grok-report-'));

export const P = 23;

/** test loss crosses below 0.01 at `grokAt` (a multiple of logEvery), or never if null. */
export function syntheticMetrics(o: { rows: number; logEvery?: number; grokAt: number | null }): MetricsRow[] {
  const every = o.logEvery ?? 10;
  return Array.from({ length: o.rows }, (_, i) => {
    const step = i * every;
    const trainLoss = Math.max(1e-7, 3.2 * Math.exp(-step / 80));
    const testLoss = o.grokAt === null || step < o.grokAt ? 3 + 10 * Math.min(1, step / 200) : 0.009 * Math.exp(-(step - o.grokAt) / 500);
    return {
      step,
      train_loss: trainLoss,
      test_loss: testLoss,
      train_acc: Math.min(1, step / 300),
      test_acc: o.grokAt !== null && step >= o.grokAt ? 1 : 0.05,
      weight_norm: 300 + 200 * Math.exp(-step / 3000),
      lr: 1e-3,
      step_ms: 12,
    };
  });
}

export function syntheticRun(dir: string, o: { rows?: number; grokAt?: number | null; config?: Record<string, unknown>; analysis?: boolean; checkpoint?: boolean } = {}): RunDir {
  const config = resolveConfig({ p: P, frac_train: 0.5, d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32, steps: 10 * ((o.rows ?? 400) - 1), ...o.config });
  const run = new RunDir(dir);
  run.init(config);
  const rows = syntheticMetrics({ rows: o.rows ?? 400, grokAt: o.grokAt === undefined ? 2000 : o.grokAt });
  fs.writeFileSync(run.metricsPath, rows.map((r) => JSON.stringify(r) + '\n').join(''));
  if (o.analysis) fs.writeFileSync(run.analysisPath, JSON.stringify(syntheticAnalysis(rows.at(-1)!.step)));
  if (o.checkpoint) saveCheckpoint(run.checkpointPath(rows.at(-1)!.step), buildModel(config), { step: rows.at(-1)!.step });
  return run;
}

/** Fourier-component norms (const, cos 1, sin 1, …): large on the key frequencies, small elsewhere. */
function componentNorms(keys: number[]): number[] {
  return Array.from({ length: P }, (_, i) => (keys.includes(Math.ceil(i / 2)) && i > 0 ? 3 : 0.2));
}

export function syntheticAnalysis(finalStep: number): AnalysisFile {
  const keys = [3, 7];
  const steps = Array.from({ length: Math.floor(finalStep / 100) + 1 }, (_, i) => i * 100);
  const overTraining = steps.map((step) => ({
    step,
    trainLoss: Math.max(1e-7, 3.2 * Math.exp(-step / 80)),
    testLoss: step < 2000 ? 10 : 0.005,
    loss: 1,
    trainAccuracy: 1,
    testAccuracy: step < 2000 ? 0.05 : 1,
    restrictedLoss: Math.max(1e-3, 5 * Math.exp(-step / 700)),
    excludedLoss: 1 + step / 500,
    restrictedLossFrequencies: keys,
    giniWE: Math.min(0.9, 0.2 + step / 5000),
    giniWL: Math.min(0.95, 0.25 + step / 4000),
    sumSquaredWeights: 500 - step / 20,
    keyFrequencies: keys,
    neuronsClustered: 20,
    embeddingFrequencyNorms: [],
    neuronLogitFrequencyNorms: [],
  }));
  const ablation = (name: string, after: number) => ({
    name,
    description: `${name} <test>`,
    hooks: ['blocks.0.hook_mlp_out'],
    trainLossBefore: 1e-7,
    trainLossAfter: after,
    testLossBefore: 0.005,
    testLossAfter: after,
    trainAccuracyAfter: 0.5,
    testAccuracyAfter: 0.5,
  });
  // Only the fields the report reads are filled in; the rest of the type is not needed here.
  return {
    schemaVersion: 1,
    run: { dir: 'x', p: P, config: {}, trainPairs: 264, testPairs: 265 },
    restrictedLossFrequencies: keys,
    steps,
    overTraining,
    phases: { memorisation: [0, 400], circuitFormation: [400, 1900], cleanup: [1900, 2300] },
    final: {
      ...overTraining.at(-1)!,
      p: P,
      step: finalStep,
      keyFrequencies: keys,
      keyFrequencyRule: { minNeuronFraction: 0.05, minNeurons: 2 },
      clusterThreshold: 0.85,
      neuronsClustered: 26,
      embedding: { componentNorms: componentNorms(keys) },
      neuronLogitMap: { componentNorms: componentNorms(keys) },
      neurons: {
        count: 32,
        clusters: [
          { frequency: 3, size: 12, varianceExplained: 0.9, neurons: [1, 4, 5] },
          { frequency: 7, size: 14, varianceExplained: 0.9, neurons: [2, 3] },
        ],
      },
      logitFit: { varianceExplained: 0.93, alphas: [] },
      ablations: [ablation('remove-key-frequencies-from-logits', 9.5), ablation('keep-only-key-frequencies-in-logits', 1e-8)],
    },
  } as unknown as AnalysisFile;
}
