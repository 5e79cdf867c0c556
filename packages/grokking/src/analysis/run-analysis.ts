/**
 * `analyze` on a whole run (every checkpoint → analysis.json) or on one checkpoint file.
 *
 * Order of work: the final checkpoint first (its key frequencies are the ones the restricted and excluded
 * loss use at every step, as in the paper), then every checkpoint in step order, one model reused (weights
 * loaded into it, its forward over the p² pairs captured once and replayed). Memory stays at one
 * checkpoint's activations (and the captured forward's buffers).
 */
import * as fs from 'node:fs';
import { loadCheckpointInto, loadModelFromCheckpoint } from '@grok/transformer';
import type { RunConfig } from '../config.js';
import { makeSplit } from '../data.js';
import { type OpenOptions, openCheckpoint } from '../open-checkpoint.js';
import { RunDir, writeFileAtomic } from '../run-dir.js';
import { allPairsReplay } from './activations.js';
import { analyzeCheckpoint } from './findings.js';
import { emptyTimings, measureCheckpoint } from './measures.js';
import { detectPhases } from './phases.js';
import type { AnalysisFile, CheckpointFileFindings, CheckpointFindings, CheckpointMeasures } from './types.js';

export interface AnalyzeRunOptions {
  /** A line of progress (default: none). */
  log?: (line: string) => void;
  /** Write analysis.json (default true). */
  write?: boolean;
}

function openRun(dir: string): { run: RunDir; config: RunConfig; steps: number[] } {
  const run = new RunDir(dir);
  if (!fs.existsSync(dir)) throw new Error(`analyze: no run at ${dir} (the directory does not exist)`);
  if (!run.exists()) throw new Error(`analyze: no run at ${dir} (config.json is missing)`);
  const config = run.readConfig();
  const steps = run.checkpointSteps();
  if (steps.length === 0) throw new Error(`analyze: run ${dir} has no checkpoints yet (${run.checkpointDir} is empty)`);
  return { run, config, steps };
}

/** The findings for one checkpoint of a run (`analyze DIR --step N`). */
export function analyzeRunStep(dir: string, step: number): CheckpointFindings {
  const { run, config, steps } = openRun(dir);
  if (!steps.includes(step)) {
    const shown = steps.length > 12 ? [...steps.slice(0, 6), '…', ...steps.slice(-6)] : steps;
    throw new Error(`analyze: run ${dir} has no checkpoint at step ${step} (checkpoints: ${shown.join(', ')})`);
  }
  const file = run.checkpointPath(step);
  const { model } = loadModelFromCheckpoint(file);
  return analyzeCheckpoint(model, makeSplit(config), step, file);
}

/** Every checkpoint of a run → analysis.json (written atomically) and its contents. */
export function analyzeRun(dir: string, options: AnalyzeRunOptions = {}): AnalysisFile {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const { run, config, steps } = openRun(dir);
  const split = makeSplit(config);
  const lastStep = steps.at(-1)!;
  const lastFile = run.checkpointPath(lastStep);
  const { model } = loadModelFromCheckpoint(lastFile);

  log(`analyze: ${steps.length} checkpoints in ${dir}; final checkpoint (step ${lastStep}) first`);
  const findingsStart = performance.now();
  const final = analyzeCheckpoint(model, split, lastStep, lastFile);
  const findingsSeconds = (performance.now() - findingsStart) / 1000;
  const keys = final.keyFrequencies;
  log(`analyze: key frequencies at step ${lastStep}: ${keys.join(', ') || '(none)'}; ${final.neuronsClustered} neurons clustered`);

  const rows: CheckpointMeasures[] = [];
  const every = Math.max(1, Math.round(steps.length / 20));
  const forward = allPairsReplay(model, { neurons: true }); // one captured forward, replayed per checkpoint
  const timings = emptyTimings();
  let loadMs = 0;
  const loopStart = performance.now();
  steps.forEach((step, i) => {
    if (step === lastStep) {
      rows.push(measuresOf(final));
    } else {
      const t = performance.now();
      loadCheckpointInto(model, run.checkpointPath(step));
      loadMs += performance.now() - t;
      rows.push(measureCheckpoint(model, split, step, { restrictTo: keys, forward, timings }).measures);
    }
    if ((i + 1) % every === 0 || i + 1 === steps.length) {
      const r = rows.at(-1)!;
      const per = (performance.now() - loopStart) / 1000 / (i + 1);
      log(
        `analyze: ${i + 1}/${steps.length} step ${step}: train ${fmt(r.trainLoss)} test ${fmt(r.testLoss)} ` +
          `restricted ${fmt(r.restrictedLoss)} excluded ${fmt(r.excludedLoss)} keys [${r.keyFrequencies.join(' ')}] (${per.toFixed(2)} s/checkpoint)`,
      );
    }
  });

  const measured = steps.length - 1; // the final checkpoint's row came with its findings
  if (measured > 0) {
    const loopSeconds = (performance.now() - loopStart) / 1000;
    const per = (ms: number) => (ms / measured).toFixed(0);
    log(
      `analyze: measured ${measured} checkpoints in ${loopSeconds.toFixed(1)} s, ${(loopSeconds / measured).toFixed(3)} s/checkpoint ` +
        `(ms each: load ${per(loadMs)}, forward ${per(timings.forward)}, losses ${per(timings.losses)}, neurons ${per(timings.neurons)}, ` +
        `restricted/excluded ${per(timings.restrictedAndExcluded)}, weights ${per(timings.weights)}); the final checkpoint's findings ${findingsSeconds.toFixed(1)} s`,
    );
  }
  const phases = detectPhases(rows, final.p);
  const analysis: AnalysisFile = {
    schemaVersion: 1,
    createdAt: new Date().toISOString(),
    durationSeconds: (performance.now() - started) / 1000,
    run: {
      dir,
      p: final.p,
      config: config as unknown as Record<string, unknown>,
      trainPairs: split.train.length,
      testPairs: split.test.length,
    },
    clusterThreshold: final.clusterThreshold,
    keyFrequencyRule: final.keyFrequencyRule,
    restrictedLossFrequencies: keys,
    restrictedLossFrequenciesFromStep: lastStep,
    steps,
    overTraining: rows,
    phases,
    final,
  };
  if (options.write ?? true) writeFileAtomic(run.analysisPath, JSON.stringify(analysis) + '\n');
  return analysis;
}

/** The CheckpointMeasures part of findings. */
function measuresOf(f: CheckpointFindings): CheckpointMeasures {
  return {
    step: f.step,
    trainLoss: f.trainLoss,
    testLoss: f.testLoss,
    loss: f.loss,
    trainAccuracy: f.trainAccuracy,
    testAccuracy: f.testAccuracy,
    restrictedLoss: f.restrictedLoss,
    excludedLoss: f.excludedLoss,
    restrictedLossFrequencies: f.restrictedLossFrequencies,
    giniWE: f.giniWE,
    giniWL: f.giniWL,
    sumSquaredWeights: f.sumSquaredWeights,
    keyFrequencies: f.keyFrequencies,
    neuronsClustered: f.neuronsClustered,
    embeddingFrequencyNorms: f.embeddingFrequencyNorms,
    neuronLogitFrequencyNorms: f.neuronLogitFrequencyNorms,
  };
}

/**
 * One safetensors checkpoint, ours or converted (`analyze --checkpoint FILE [--split FILE] [--p P …]`): the
 * model config and the split as open-checkpoint.ts finds them, then the same findings as for a run's checkpoint.
 */
export function analyzeCheckpointFile(file: string, options: Omit<OpenOptions, 'command'> = {}): CheckpointFileFindings {
  const opened = openCheckpoint(file, { ...options, command: 'analyze' });
  const { model, split, step, config } = opened;
  const findings = analyzeCheckpoint(model, split, step ?? 0, file);
  return {
    ...findings,
    step,
    config,
    split: { from: opened.splitFrom, trainPairs: split.train.length, testPairs: split.test.length },
  };
}

const fmt = (x: number) => (Math.abs(x) >= 0.01 ? x.toFixed(3) : x.toExponential(2));

/** A short human summary of one checkpoint's findings. */
export function formatFindings(f: CheckpointFindings | CheckpointFileFindings): string {
  const lines = [
    `step ${f.step ?? 'unknown'} (p = ${f.p}): train loss ${fmt(f.trainLoss)}, test loss ${fmt(f.testLoss)}, test accuracy ${(100 * f.testAccuracy).toFixed(1)} %`,
    `key frequencies: ${f.keyFrequencies.join(', ') || '(none)'}`,
    `neurons clustered (> ${f.clusterThreshold}): ${f.neuronsClustered}${f.neurons ? ` of ${f.neurons.count}` : ''}` +
      (f.neurons ? ` — ${f.neurons.clusters.map((c) => `k=${c.frequency}: ${c.size} (${(100 * c.varianceExplained).toFixed(0)} %)`).join(', ')}` : ''),
    `restricted loss ${fmt(f.restrictedLoss)}, excluded loss ${fmt(f.excludedLoss)}, Gini W_E ${f.giniWE.toFixed(3)}, Gini W_L ${f.giniWL?.toFixed(3) ?? '—'}, Σw² ${f.sumSquaredWeights.toFixed(1)}`,
    `logits explained by Σ α_k cos(ω_k(a+b−c)): ${(100 * f.logitFit.varianceExplained).toFixed(1)} %; attention periodicity ${(100 * f.attentionPeriodicity.mean).toFixed(1)} %`,
    'ablations (loss before → after, train | test):',
    ...f.ablations.map(
      (a) => `  ${a.name.padEnd(44)} ${fmt(a.trainLossBefore)} → ${fmt(a.trainLossAfter)} | ${fmt(a.testLossBefore)} → ${fmt(a.testLossAfter)}`,
    ),
  ];
  return lines.join('\n');
}
