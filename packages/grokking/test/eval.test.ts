/** `pnpm grok eval CHECKPOINT`: a checkpoint's losses and accuracies, equal to what training logged for that step. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evalCheckpoint } from '../src/cli-eval.js';
import { resolveConfig } from '../src/config.js';
import { Progress } from '../src/progress.js';
import { RunDir } from '../src/run-dir.js';
import { train } from '../src/train.js';

const silent = new Progress({ isTTY: false, write: () => true } as unknown as NodeJS.WriteStream, Infinity);

describe('eval', () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'grok-eval-')), 'run');
  const config = resolveConfig({ p: 13, frac_train: 0.5, d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32, steps: 40, checkpoint_every: 20, log_every: 20 });
  train({ dir, config, progress: silent, handleSignals: false });
  const run = new RunDir(dir);

  it('gives the train and test loss and accuracy training logged at that step, and the all-pairs ones between them', () => {
    const r = evalCheckpoint(run.checkpointPath(40));
    const row = run.readMetrics().find((m) => m.step === 40)!;
    expect(r.step).toBe(40);
    expect(r.train.loss).toBeCloseTo(row.train_loss, 12);
    expect(r.test.loss).toBeCloseTo(row.test_loss, 12);
    expect(r.train.accuracy).toBeCloseTo(row.train_acc, 12);
    expect(r.test.accuracy).toBeCloseTo(row.test_acc, 12);
    const lo = Math.min(r.train.loss, r.test.loss);
    const hi = Math.max(r.train.loss, r.test.loss);
    expect(r.all.loss).toBeGreaterThanOrEqual(lo);
    expect(r.all.loss).toBeLessThanOrEqual(hi);
  });

  it('names what is wrong', () => {
    expect(() => evalCheckpoint(path.join(dir, 'nope.safetensors'))).toThrow(/eval: no checkpoint file .*nope\.safetensors/);
    expect(() => evalCheckpoint(dir)).toThrow(/eval: no checkpoint file/);
  });
});
