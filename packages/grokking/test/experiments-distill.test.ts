/**
 * Distillation on a tiny trained model (p = 11): every variant gets a parameter count and a loss; with nothing
 * removed, the logits assembled from hooked activations are the model's own; each cut keeps fewer parameters.
 */
import * as os from 'node:os';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModelFromCheckpoint } from '@grok/transformer';
import { resolveConfig } from '../src/config.js';
import { countParameters, evaluateVariant, fewestNeurons, fourierMultiplicationLoss, neuronsByImportance, projectAxis0 } from '../src/experiments/circuit.js';
import { cleanupPhrase, distillFinding, distillPlan, distillRun } from '../src/experiments/distill.js';
import { Progress } from '../src/progress.js';
import { makeSplit } from '../src/data.js';
import { train } from '../src/train.js';

const silent = new Progress({ isTTY: false, write: () => true } as unknown as NodeJS.WriteStream, Infinity);

describe('distill', () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'grok-distill-')), 'run');
  const config = resolveConfig({ p: 11, frac_train: 0.6, d_model: 16, n_heads: 2, d_head: 8, d_mlp: 48, lr: 1e-2, steps: 300, checkpoint_every: 100, log_every: 50 });
  train({ dir, config, progress: silent, handleSignals: false });

  it('gives every variant a parameter count and a loss, and the smallest at 100 % test accuracy', () => {
    const s = distillRun(dir);
    const full = s.variants[0];
    const pruned = s.variants.find((v) => v.name === 'neurons outside the clusters pruned');
    const { model } = loadModelFromCheckpoint(path.join(dir, 'checkpoints', 'step-000300.safetensors'));
    expect(full!.parameters).toBe(model.parameterCount()); // nothing cut: every parameter counted once
    expect(full!.neuronsKept).toBe(48);
    for (const v of s.variants) {
      expect(v.parameters).toBeGreaterThan(0);
      expect(Number.isFinite(v.testLoss)).toBe(true);
    }
    // Each cut keeps fewer parameters: within the all-neuron steps (1–3) and the pruned steps (4 on).
    for (let i = 1; i < s.variants.length; i++) {
      if (i !== 4) expect(s.variants[i]!.parameters).toBeLessThanOrEqual(s.variants[i - 1]!.parameters);
      expect(s.variants[i]!.parameters).toBeLessThanOrEqual(full!.parameters);
    }
    expect(pruned!.neuronsKept).toBe(s.clusters.reduce((t, c) => t + c.size, 0));
    if (s.smallest) expect(s.smallest.testAccuracy).toBe(1);
    expect(s.fourierModel.parameters).toBe(2 * s.keyFrequencies.length);
    const perfectCut = s.variants.slice(1).some((v) => v.testAccuracy === 1);
    expect(distillFinding(s).includes('no cut kept it, the best (')).toBe(!perfectCut);
    expect(distillFinding(s)).toContain(`trained model's ${full!.parameters.toLocaleString('en-US')}`); // both wordings name it
  });

  it('distils the last checkpoint and says how far cleanup went since grokking', () => {
    const s = distillRun(dir);
    expect(s.step).toBe(300);
    expect(s.cleanup.distilled.step).toBe(300);
    const analysis = JSON.parse(fs.readFileSync(path.join(dir, 'analysis.json'), 'utf8'));
    const last = analysis.overTraining.at(-1);
    expect(s.cleanup.distilled).toMatchObject({ giniWE: last.giniWE, sumSquaredWeights: last.sumSquaredWeights });
    if (s.cleanup.stepsToGrok !== null) {
      expect(s.cleanup.atGrok!.step).toBeGreaterThanOrEqual(s.cleanup.stepsToGrok);
      expect(distillFinding(s)).toMatch(/^Distilled at step 300, \d+ steps after grokking at /);
    } else expect(distillFinding(s)).toMatch(/^Distilled at step 300 \(the run never grokked\)/);
  });

  it('searches the fewest neurons, most important first, that keep 100 % test accuracy', () => {
    const file = path.join(dir, 'checkpoints', 'step-000300.safetensors');
    const { order, importance } = neuronsByImportance(file);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 48 }, (_, i) => i)); // a permutation
    for (let i = 1; i < order.length; i++) expect(importance[order[i]!]!).toBeLessThanOrEqual(importance[order[i - 1]!]!);
    const split = makeSplit(config);
    const form = { name: 'as trained', frequencies: [], projectEmbedding: false, restrictWL: false, dropDirect: false };
    const found = fewestNeurons(file, split, form, order);
    const all = evaluateVariant(file, split, { ...form, neurons: null });
    expect(found === null).toBe(all.testAccuracy < 1);
    if (found) {
      expect(found.best.testAccuracy).toBe(1);
      expect(found.best.neuronsKept).toBeLessThanOrEqual(48);
      if (found.below) {
        expect(found.below.neuronsKept).toBe(found.best.neuronsKept - 1);
        expect(found.below.testAccuracy).toBeLessThan(1);
      }
      // Bisection: about log2(48) evaluations, not 48.
      expect(found.evaluations).toBeLessThanOrEqual(9);
    }
    // The summary's smallest is at most the smallest perfect search result.
    const s = distillRun(dir);
    for (const x of s.search) if (x.best) expect(s.smallest!.parameters).toBeLessThanOrEqual(x.best.parameters);
  });

  it('plans its own run: decay 1, seed 0, no early stop, the whole budget', () => {
    const [run] = distillPlan({ root: '/r', full: false, dryRun: true, log: () => {} });
    expect(run!.config).toMatchObject({ weight_decay: 1, seed: 0, early_stop_loss: null, steps: 8000, p: 47 });
    expect(run!.dir).toBe(path.join('/r', 'distill', 'wd1-seed0-8000steps'));
    const cleanup = { stepsToGrok: 660, atGrok: { step: 700, testLoss: 8e-3, giniWE: 0.4, giniWL: 0.5, sumSquaredWeights: 730 }, distilled: { step: 3000, testLoss: 1e-4, giniWE: 0.8, giniWL: 0.9, sumSquaredWeights: 300 } };
    expect(cleanupPhrase(cleanup)).toBe(
      "Distilled at step 3,000, 2,340 steps after grokking at 660; from step 700 to then Σw² went 730 → 300, the Gini coefficient of W_E's Fourier norms 0.4 → 0.8 and of W_L's 0.5 → 0.9, the test loss 0.008 → 1.0e-4",
    );
  });

  it('with nothing removed, the assembled logits are the model\'s own (same loss as the analysis)', () => {
    const s = distillRun(dir);
    const analysis = JSON.parse(fs.readFileSync(path.join(dir, 'analysis.json'), 'utf8'));
    expect(s.variants[0]!.testLoss).toBeCloseTo(analysis.final.testLoss, 4);
    expect(s.variants[0]!.trainLoss).toBeCloseTo(analysis.final.trainLoss, 4);
  });

  it('projection onto all frequencies is the identity, onto none keeps the mean', () => {
    const p = 7;
    const M = Float64Array.from({ length: p * 2 }, (_, i) => Math.sin(i * 1.7) + i);
    const file = path.join(dir, 'checkpoints', 'step-000300.safetensors');
    const split = makeSplit(config);
    const all = evaluateVariant(file, split, { name: 'all', frequencies: [1, 2, 3, 4, 5], neurons: null, projectEmbedding: true, restrictWL: true, dropDirect: false });
    const none = evaluateVariant(file, split, { name: 'none', frequencies: [1, 2, 3, 4, 5], neurons: null, projectEmbedding: false, restrictWL: false, dropDirect: false });
    expect(all.testLoss).toBeCloseTo(none.testLoss, 4); // every frequency of p = 11 kept: nothing changes
    const mean = projectAxis0(M, p, 2, [Float64Array.from({ length: p }, () => 1 / Math.sqrt(p))]);
    for (let j = 0; j < 2; j++) {
      let avg = 0;
      for (let x = 0; x < p; x++) avg += M[x * 2 + j]! / p;
      for (let x = 0; x < p; x++) expect(mean[x * 2 + j]).toBeCloseTo(avg, 10);
    }
    const { model } = loadModelFromCheckpoint(file);
    expect(countParameters(model, { name: 'x', frequencies: [1], neurons: [], projectEmbedding: true, restrictWL: true, dropDirect: true }, 0)).toBeLessThan(model.parameterCount());
  });

  it('the closed-form model scores a planted Fourier multiplication perfectly', () => {
    const p = 11;
    const split = makeSplit(resolveConfig({ p, frac_train: 0.5 }));
    const r = fourierMultiplicationLoss(p, [{ frequency: 2, alpha: 40 }, { frequency: 5, alpha: 40 }], split);
    expect(r.testAccuracy).toBe(1);
    expect(r.testLoss).toBeLessThan(1e-3);
    expect(r.parameters).toBe(4);
  });
});
