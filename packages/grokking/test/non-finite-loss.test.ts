/**
 * A step whose training loss is NaN or infinite is never applied or saved. Training goes back to the last
 * checkpoint once and trains on from there (resuming repeats the steps bit for bit): a fault that does not
 * come back costs only those steps and leaves the run as if it never happened; a run that really diverged
 * fails again at the same step and stops with an error that says so, its checkpoints intact.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getBackend } from '@grok/tensor';
import { resolveConfig } from '../src/config.js';
import { buildModel } from '../src/model.js';
import { Progress } from '../src/progress.js';
import { RunDir } from '../src/run-dir.js';
import { train } from '../src/train.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'grok-nan-'));
const tiny = (over: Record<string, unknown> = {}) =>
  resolveConfig({ p: 13, frac_train: 0.5, d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32, steps: 30, checkpoint_every: 10, log_every: 1, ...over });

function trainLogged(dir: string, config: ReturnType<typeof tiny>) {
  const lines: string[] = [];
  const progress = new Progress({ isTTY: false, write: (s: string) => (lines.push(s), true) } as unknown as NodeJS.WriteStream, Infinity);
  return { run: () => train({ dir, config, progress, handleSignals: false }), lines };
}

/**
 * Makes the cpu backend's fused kernel (AdamW's update) write NaN into its first output on its `n`-th call
 * (on the class: training may make its own backend instance).
 */
function poisonUpdate(n: number): () => void {
  const proto = Object.getPrototypeOf(getBackend()) as { fused: (...args: unknown[]) => unknown };
  const fused = proto.fused;
  let calls = 0;
  proto.fused = function (this: unknown, ...args: unknown[]) {
    const out = fused.apply(this, args);
    if (++calls === n) (args[3] as { data: Float32Array }[])[0]!.data[0] = NaN; // into: [p, m, v], in place
    return out;
  };
  return () => {
    proto.fused = fused;
  };
}

describe('a non-finite training loss', () => {
  const losses = (dir: string) => new RunDir(dir).readMetrics().map((r) => r.train_loss);

  it('after a fault that does not come back: training goes back to the last checkpoint and ends as a clean run', () => {
    const cleanDir = path.join(tmp(), 'clean');
    trainLogged(cleanDir, tiny()).run();
    const dir = path.join(tmp(), 'faulty');
    const faulty = trainLogged(dir, tiny());
    const perStep = buildModel(tiny()).parameters().length; // AdamW updates each parameter once per step
    const restore = poisonUpdate(perStep * 12 + 1); // an update after step 10's checkpoint writes a NaN
    try {
      faulty.run();
    } finally {
      restore();
    }
    const said = /step (\d+): the training loss is NaN; going back to the checkpoint of step 10 /.exec(faulty.lines.join(''));
    expect(Number(said?.[1])).toBeGreaterThan(10); // the fault came after the checkpoint of step 10
    expect(faulty.lines.join('')).toMatch(/resuming .*faulty from step 10/);
    expect(losses(dir)).toHaveLength(31); // steps 0 … 30
    expect(losses(dir)).toEqual(losses(cleanDir)); // bit for bit: as if the fault had never happened
  });

  it('that comes back at the same step: the run diverged; training stops with an error, its checkpoints intact', () => {
    const dir = path.join(tmp(), 'diverged');
    const run = trainLogged(dir, tiny({ lr: 1e30 }));
    expect(() => run.run()).toThrow(
      /step \d+: the training loss is (NaN|Infinity) again, after going back to the checkpoint of step 0: the run diverged.*checkpoints in .*diverged are intact/,
    );
    expect(run.lines.join('')).toMatch(/step \d+: the training loss is (NaN|Infinity); going back to the checkpoint of step 0/);
    const rd = new RunDir(dir);
    expect(fs.existsSync(rd.checkpointPath(0))).toBe(true);
    expect(losses(dir).every((x) => x !== null && Number.isFinite(x))).toBe(true); // no NaN row was logged
  });
});
