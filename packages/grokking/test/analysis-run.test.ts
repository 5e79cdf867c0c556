/** The whole analysis on a tiny run trained here (p = 23; it generalises within a few hundred steps). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { raw } from '@grok/autograd';
import { serializeSafetensors } from '@grok/transformer';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../src/args.js';
import { runAnalyze } from '../src/analysis/cli-analyze.js';
import { analyzeCheckpointFile, analyzeRun, analyzeRunStep } from '../src/analysis/run-analysis.js';
import type { AnalysisFile, CheckpointFindings, CheckpointMeasures } from '../src/analysis/types.js';
import { resolveConfig } from '../src/config.js';
import { Progress } from '../src/progress.js';
import { RunDir } from '../src/run-dir.js';
import { makeSplit } from '../src/data.js';
import { train } from '../src/train.js';

const silent = new Progress({ isTTY: false, write: () => true } as unknown as NodeJS.WriteStream, Infinity);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'grok-analysis-'));
const dir = path.join(root, 'tiny');
const p = 23;
let analysis: AnalysisFile;

/** Runs `pnpm grok …` in-process (the same code path as cli.ts) and returns what it wrote to stdout. */
function cli(argv: string[]): string {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => (chunks.push(String(s)), true)) as typeof process.stdout.write;
  try {
    runAnalyze(parseCommandLine(argv));
  } finally {
    process.stdout.write = write;
  }
  return chunks.join('');
}

beforeAll(() => {
  const config = resolveConfig({
    p, frac_train: 0.7, d_model: 32, n_heads: 2, d_head: 16, d_mlp: 64, lr: 0.005,
    steps: 700, checkpoint_every: 100, log_every: 100,
  });
  train({ dir, config, progress: silent, handleSignals: false });
  analysis = analyzeRun(dir);
}, 120_000);

describe('analysis of a tiny grokked run', () => {
  it('the run generalised', () => {
    expect(analysis.final.testAccuracy).toBeGreaterThan(0.95);
  });

  it('finds a few key frequencies, most neurons clustered in them', () => {
    const f = analysis.final;
    expect(f.keyFrequencies.length).toBeGreaterThanOrEqual(1);
    expect(f.keyFrequencies.length).toBeLessThanOrEqual(5);
    expect([...f.keyFrequencies].sort((a, b) => a - b)).toEqual(f.keyFrequencies);
    expect(f.neurons!.count).toBe(64);
    expect(f.neuronsClustered).toBeGreaterThan(0.4 * 64);
    for (const c of f.neurons!.clusters) {
      expect(f.keyFrequencies).toContain(c.frequency);
      expect(c.varianceExplained).toBeGreaterThan(0.85);
    }
    expect(f.logitFit.varianceExplained).toBeGreaterThan(0.5);
    expect(f.attentionPeriodicity.mean).toBeGreaterThan(0.5);
    expect(f.giniWE).toBeGreaterThan(0.2);
  });

  it('ablations: removing the key frequencies destroys the model, keeping only them does not hurt much', () => {
    const row = (name: string) => analysis.final.ablations.find((a) => a.name === name)!;
    const removed = row('remove-key-frequencies-from-logits');
    expect(removed.trainLossAfter).toBeGreaterThan(Math.log(p));
    expect(removed.testLossAfter).toBeGreaterThan(Math.log(p));
    const kept = row('keep-only-key-frequencies-in-logits');
    expect(kept.testLossAfter).toBeLessThan(kept.testLossBefore + 0.25);
    // the hook ablations equal the logit projections of the measures
    expect(removed.trainLossAfter).toBeCloseTo(analysis.final.excludedLoss, 3);
    const quad = row('replace-clustered-neurons-by-quadratic-fit');
    expect(quad.testLossAfter).toBeLessThan(quad.testLossBefore + 0.5);
    expect(row('project-neurons-off-key-WL-directions').testLossAfter).toBeGreaterThan(row('project-neurons-onto-key-WL-directions').testLossAfter);
    expect(analysis.final.ablations.map((a) => a.name)).toEqual([
      'remove-key-frequencies-from-logits',
      'keep-only-key-frequencies-in-logits',
      'replace-clustered-neurons-by-quadratic-fit',
      'replace-attention-by-fitted-form',
      'project-neurons-onto-key-WL-directions',
      'project-neurons-off-key-WL-directions',
    ]);
  });

  it('writes analysis.json with every field for every checkpoint', () => {
    const onDisk = JSON.parse(fs.readFileSync(new RunDir(dir).analysisPath, 'utf8')) as AnalysisFile;
    expect(onDisk.schemaVersion).toBe(1);
    expect(onDisk.steps).toEqual([0, 100, 200, 300, 400, 500, 600, 700]);
    expect(onDisk.overTraining.map((r) => r.step)).toEqual(onDisk.steps);
    const keys: (keyof CheckpointMeasures)[] = [
      'step', 'trainLoss', 'testLoss', 'loss', 'trainAccuracy', 'testAccuracy', 'restrictedLoss', 'excludedLoss',
      'restrictedLossFrequencies', 'giniWE', 'giniWL', 'sumSquaredWeights', 'keyFrequencies', 'neuronsClustered',
      'embeddingFrequencyNorms', 'neuronLogitFrequencyNorms',
    ];
    for (const r of onDisk.overTraining) {
      expect(Object.keys(r).sort()).toEqual([...keys].sort());
      for (const k of ['trainLoss', 'testLoss', 'restrictedLoss', 'excludedLoss', 'giniWE', 'giniWL', 'sumSquaredWeights'] as const) {
        expect(Number.isFinite(r[k])).toBe(true);
      }
      expect(r.restrictedLossFrequencies).toEqual(onDisk.final.keyFrequencies);
      expect(r.embeddingFrequencyNorms).toHaveLength(12);
    }
    expect(onDisk.restrictedLossFrequencies).toEqual(onDisk.final.keyFrequencies);
    expect(onDisk.restrictedLossFrequenciesFromStep).toBe(700);
    expect(onDisk.run).toMatchObject({ p, trainPairs: Math.floor(0.7 * p * p), testPairs: p * p - Math.floor(0.7 * p * p) });
    expect(onDisk.phases.inputs.initialTrainLoss).toBeCloseTo(onDisk.overTraining[0]!.trainLoss, 12);
    expect(onDisk.phases.memorisation).not.toBeNull();
    // training loss at step 0 is near chance; later the restricted loss is far below it
    expect(onDisk.overTraining[0]!.trainLoss).toBeGreaterThan(0.8 * Math.log(p));
    expect(onDisk.overTraining.at(-1)!.restrictedLoss).toBeLessThan(0.5);
    // the final row of overTraining is the final findings' measures
    expect(onDisk.overTraining.at(-1)!.excludedLoss).toBe(onDisk.final.excludedLoss);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('analyze --checkpoint FILE --json prints one JSON object with the required keys', () => {
    const file = new RunDir(dir).checkpointPath(700);
    const out = cli(['analyze', '--checkpoint', file, '--json']);
    const json = JSON.parse(out) as CheckpointFindings;
    for (const key of ['keyFrequencies', 'neuronsClustered', 'restrictedLoss', 'excludedLoss', 'loss', 'sumSquaredWeights', 'giniWE', 'giniWL']) {
      expect(json).toHaveProperty(key);
    }
    expect(json.keyFrequencies).toEqual(analysis.final.keyFrequencies);
    expect(json.loss).toBeCloseTo(analysis.final.loss, 10);
    // the same through an explicit split file
    const split = path.join(root, 'split.json');
    const cfgSplit = analyzeRunStep(dir, 700);
    const s = makeSplit(new RunDir(dir).readConfig());
    fs.writeFileSync(split, JSON.stringify({ p, train: [...s.train].map((k: number) => [Math.floor(k / p), k % p]) }));
    const viaSplit = analyzeCheckpointFile(file, { split });
    expect(viaSplit.excludedLoss).toBeCloseTo(cfgSplit.excludedLoss, 12);
  });

  it('analyze DIR --step N prints a summary; analyze DIR writes analysis.json', () => {
    expect(cli(['analyze', dir, '--step', '300'])).toMatch(/^step 300 \(p = 23\)/);
    expect(cli(['analyze', dir, '--quiet'])).toMatch(/phases: memorisation/);
  });
});

describe('analyze errors', () => {
  it('a missing run', () => {
    expect(() => analyzeRun(path.join(root, 'nope'))).toThrow(/no run at .*nope/);
    fs.mkdirSync(path.join(root, 'empty'));
    expect(() => analyzeRun(path.join(root, 'empty'))).toThrow(/config\.json is missing/);
  });

  it('a step without a checkpoint', () => {
    expect(() => analyzeRunStep(dir, 150)).toThrow(/no checkpoint at step 150 \(checkpoints: 0, 100, 200/);
    expect(() => cli(['analyze', dir, '--step', 'x'])).toThrow(/--step: expected a non-negative integer/);
  });

  it('a file that is no model; a checkpoint without a run config and no --split gets the default split', () => {
    const w = raw.tensor(new Float32Array(4), { shape: [2, 2] });
    const bare = path.join(root, 'bare.safetensors');
    fs.writeFileSync(bare, serializeSafetensors([['embed.W_E', w]], { step: '5' }));
    expect(() => analyzeCheckpointFile(bare)).toThrow(/bare\.safetensors: tensor 'pos_embed\.W_pos' \[n_ctx, d_model\] is missing \(the tensors: embed\.W_E\)/);
    expect(() => analyzeCheckpointFile(path.join(root, 'absent.safetensors'))).toThrow(/no checkpoint file/);
    // a checkpoint of ours with the run config removed from its metadata
    const src = new RunDir(dir).checkpointPath(700);
    const bytes = fs.readFileSync(src);
    const n = Number(Buffer.from(bytes).readBigUInt64LE(0));
    const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'));
    delete header.__metadata__.extra;
    const text = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(text.length));
    const noRun = path.join(root, 'no-run-config.safetensors');
    fs.writeFileSync(noRun, Buffer.concat([len, text, bytes.subarray(8 + n)]));
    const lines: string[] = [];
    const f = analyzeCheckpointFile(noRun, { log: (l) => lines.push(l) });
    expect(f.split).toEqual({ from: expect.stringMatching(/^the default split for p = 23 .*frac_train 0\.3, seed 0/), trainPairs: Math.floor(0.3 * p * p), testPairs: p * p - Math.floor(0.3 * p * p) });
    expect(lines.join('\n')).toMatch(/pass it with --split FILE \(the paper's: .*original_split_p113_seed0\.json\)/);
    expect(f.step).toBe(700); // the step is still in the metadata
  });

  it('a malformed split, or one for another p', () => {
    const file = new RunDir(dir).checkpointPath(700);
    const bad = path.join(root, 'bad-split.json');
    fs.writeFileSync(bad, '{"p": 23, "train": [[1, 2], [1]]}');
    expect(() => analyzeCheckpointFile(file, { split: bad })).toThrow(/train\[1\]/);
    fs.writeFileSync(bad, 'not json');
    expect(() => analyzeCheckpointFile(file, { split: bad })).toThrow(/cannot read it as JSON/);
    fs.writeFileSync(bad, '{"p": 13, "train": [[1, 2]]}');
    expect(() => analyzeCheckpointFile(file, { split: bad })).toThrow(/its p is 13 but .*700\.safetensors is a model for p = 23/);
    expect(() => cli(['analyze', dir, '--split', bad])).toThrow(/--split applies to --checkpoint only/);
    expect(() => cli(['analyze', dir, '--lr', '0.1'])).toThrow(/config options do not apply/);
  });
});
