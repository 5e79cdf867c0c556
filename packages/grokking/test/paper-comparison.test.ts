import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnalysisFile, CheckpointMeasures } from '../src/analysis/types.js';
import { comparisonMarkdown, paperComparison } from '../src/report/paper-comparison.js';
import { writePaperComparison, writeReport } from '../src/report/write-report.js';
import { syntheticRun, tmpDir } from './report-fixtures.js';

// A hand-made run of 11 checkpoints (p = 23, ln 23 = 3.14): the test loss first goes below 0.01 at step
// 800, the restricted loss at 500; the excluded loss crosses ln p at 400 and peaks (9) at 700.
const test = [4, 20, 18, 18, 17, 15, 8, 1, 0.005, 0.001, 1e-6];
const restricted = [4, 9, 5, 2, 0.5, 0.008, 0.001, 1e-4, 1e-5, 1e-6, 1e-7];
const excluded = [3.2, 1, 1.5, 2.5, 4, 6, 8, 9, 8.5, 8, 7];
const rows: CheckpointMeasures[] = test.map((testLoss, i) => ({
  step: 100 * i,
  trainLoss: i === 0 ? 3.2 : 1e-6,
  testLoss,
  loss: testLoss,
  trainAccuracy: 1,
  testAccuracy: 1,
  restrictedLoss: restricted[i]!,
  excludedLoss: excluded[i]!,
  restrictedLossFrequencies: [3, 7],
  giniWE: 0.1 + 0.05 * i,
  giniWL: 0.2 + 0.05 * i,
  sumSquaredWeights: 1000 - 50 * i,
  keyFrequencies: [3, 7],
  neuronsClustered: 10,
  embeddingFrequencyNorms: [],
  neuronLogitFrequencyNorms: [],
}));
const ablation = (name: string, after: number) => ({
  name, description: '', hooks: [], trainLossBefore: 1e-7, trainLossAfter: after, testLossBefore: 1e-6, testLossAfter: after, trainAccuracyAfter: 0, testAccuracyAfter: 0,
});
const analysis = {
  overTraining: rows,
  phases: { memorisation: [0, 100], circuitFormation: [100, 700], cleanup: [700, 900] },
  final: {
    ...rows.at(-1)!,
    p: 23,
    keyFrequencyRule: { minNeuronFraction: 0, minNeurons: 4 },
    clusterThreshold: 0.85,
    neuronsClustered: 27,
    neurons: { count: 32 },
    logitFit: { varianceExplained: 0.934 },
    ablations: [ablation('remove-key-frequencies-from-logits', 12.3), ablation('some-new-ablation', 0.5)],
  },
} as unknown as AnalysisFile;
const metrics = [
  { step: 0, test_loss: 4.7 },
  { step: 130, test_loss: 21.5 },
  { step: 780, test_loss: 0.02 },
  { step: 790, test_loss: 0.009 },
  { step: 800, test_loss: 0.004 },
].map((m) => ({ ...m, train_loss: 0, train_acc: 1, test_acc: 1, weight_norm: 0, lr: 0, step_ms: 0 }));

describe('paperComparison', () => {
  const table = new Map(paperComparison(analysis, metrics).map((r) => [r.measure, r]));
  const ours = (measure: string) => table.get(measure)?.ours;

  it('reads each of our numbers from the run', () => {
    expect(ours('phase ends: memorisation / circuit formation / cleanup')).toBe('100 / 700 / 900');
    expect(ours('first step with test loss < 0.01')).toBe('790');
    expect(ours('test-loss peak')).toBe('21.5 at step 130');
    expect(ours('key frequencies')).toBe('3, 7 (2)');
    expect(ours('neurons clustered (fraction > 0.85)')).toBe('27 of 32');
    expect(ours('logit variance explained by Σ αk cos(wk(a+b−c))')).toBe('93.4 %');
    expect(ours('Gini of W_E Fourier norms, start → end')).toBe('0.10 → 0.60');
    expect(ours('Gini of W_L Fourier norms, start → end')).toBe('0.20 → 0.70');
    expect(ours('Σ of squared weights, start → end')).toBe('1000 → 500');
    expect(ours('restricted loss falls before the test loss')).toBe('below 0.01 at 500, 300 steps before the test loss (800)');
    expect(ours('excluded loss rises')).toBe('1.00 at the end of memorisation → 9.00 at step 700; above ln 23 = 3.14 at 400, 400 steps before the test loss (800)');
    expect(ours('ablation: remove key frequencies from logits')).toBe('test loss 1.0e-6 → 12.30 (train 1.0e-7 → 12.30)');
  });

  it("gives the paper's number beside each, and says where an ablation is not in the paper", () => {
    expect(table.get('phase ends: memorisation / circuit formation / cleanup')?.paper).toBe('1.4k / 9.4k / 14k');
    expect(table.get('neurons clustered (fraction > 0.85)')?.paper).toBe('433 of 512');
    expect(table.get('ablation: some new ablation')?.paper).toBe('— (not in the paper)');
  });

  it('renders a Markdown table with one line per row, pipes escaped', () => {
    const md = comparisonMarkdown([{ measure: 'a|b', paper: 'p', ours: 'o', source: 's' }]);
    expect(md.split('\n')).toEqual(['| measure | the paper | this run | from |', '|---|---|---|---|', '| a\\|b | p | o | s |']);
  });

  it('pnpm grok report writes paper-comparison.md once analysis.json exists', async () => {
    const bare = syntheticRun(path.join(tmpDir(), 'run'));
    await writeReport(bare.dir);
    expect(fs.existsSync(path.join(bare.dir, 'paper-comparison.md'))).toBe(false);
    const run = syntheticRun(path.join(tmpDir(), 'run'), { analysis: true }); // phases 0–400, 400–1,900, 1,900–2,300
    await writeReport(run.dir);
    const md = fs.readFileSync(path.join(run.dir, 'paper-comparison.md'), 'utf8');
    expect(md).toContain('| phase ends: memorisation / circuit formation / cleanup | 1.4k / 9.4k / 14k | 400 / 1,900 / 2,300 |');
    const html = fs.readFileSync(run.reportPath, 'utf8');
    expect(html).toContain('<h2>The paper vs this run</h2>');
    expect(html).toContain("This run is not the paper's config: p = 23, frac_train = 0.5");
    expect(html).toContain('<td>400 / 1,900 / 2,300</td>');
    fs.writeFileSync(run.analysisPath, JSON.stringify(analysis));
    expect(fs.readFileSync(writePaperComparison(run)!, 'utf8')).toContain('| neurons clustered (fraction > 0.85) | 433 of 512 | 27 of 32 |');
  });
});
