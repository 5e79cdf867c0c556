/**
 * Runs can be extended: the budget fields (steps, early stop, log and checkpoint cadence) do not define a
 * run, so a finished run continues with a larger `steps`, bit for bit as if it had been trained that far in
 * one go. The fields that define a run (model, data, optimizer) still refuse a change, and no run is shortened.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '@grok/transformer';
import { BUDGET_FIELDS, MAX_PARAMETERS, PAPER_CONFIG, parameterCount, resolveConfig } from '../src/config.js';
import { buildModel } from '../src/model.js';
import { Progress } from '../src/progress.js';
import { RunDir } from '../src/run-dir.js';
import { type TrainOptions, train } from '../src/train.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'grok-extend-'));
const tiny = (over: Record<string, unknown> = {}) =>
  resolveConfig({ p: 13, frac_train: 0.5, d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32, steps: 40, checkpoint_every: 10, log_every: 5, ...over });
const lines: string[] = [];
const recorder = new Progress({ isTTY: false, write: (s: string) => (lines.push(s), true) } as unknown as NodeJS.WriteStream, Infinity);
const run = (o: Omit<TrainOptions, 'progress'>) => train({ progress: recorder, handleSignals: false, ...o });
const noTime = (rows: { step_ms: number }[]) => rows.map((r) => ({ ...r, step_ms: 0 }));

function expectSameWeights(a: ReturnType<typeof train>, b: ReturnType<typeof train>): void {
  const wb = new Map(b.model.namedParameters());
  for (const [name, p] of a.model.namedParameters()) {
    expect(Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength).equals(Buffer.from(wb.get(name)!.data.buffer)), name).toBe(true);
  }
}

describe('extending a run', () => {
  it('continues a finished run to a larger steps, bit for bit as one trained that far in one go', () => {
    for (const over of [{}, { grokfast: { kind: 'ema' } }, { decay_kind: 'l2', weight_decay: 0.1 }]) {
      const straight = run({ dir: path.join(tmp(), 'straight'), config: tiny({ steps: 40, ...over }) });
      const dir = path.join(tmp(), 'extended');
      const first = run({ dir, config: tiny({ steps: 25, ...over }) }); // 25: not a checkpoint multiple
      expect([first.reason, first.step]).toEqual(['finished', 25]);
      lines.length = 0;
      const extended = run({ dir, config: tiny({ steps: 40, ...over }) });
      expect([extended.reason, extended.step]).toEqual(['finished', 40]);
      expect(lines.join('')).toContain(`run ${dir}: budget changed (steps 25 → 40)`);
      expect(lines.join('')).toContain(`resuming ${dir} from step 25`);

      expectSameWeights(extended, straight);
      const r = new RunDir(dir);
      expect(noTime(r.readMetrics())).toEqual(noTime(straight.run.readMetrics())); // row 25 of the short run is gone
      expect(r.readConfig().steps).toBe(40); // config.json records the new budget
      // The straight run's checkpoints are all there with the same weights (plus step 25, where the first budget ended).
      expect(r.checkpointSteps()).toEqual([0, 10, 20, 25, 30, 40]);
      for (const step of straight.run.checkpointSteps()) {
        const a = loadCheckpoint(r.checkpointPath(step)).tensors;
        for (const [name, t] of Object.entries(loadCheckpoint(straight.run.checkpointPath(step)).tensors)) {
          expect(Buffer.from(a[name]!.data.buffer).equals(Buffer.from(t.data.buffer)), `${step} ${name}`).toBe(true);
        }
      }
    }
  });

  it('changes the log and checkpoint cadence mid-run without changing the weights', () => {
    const straight = run({ dir: path.join(tmp(), 'straight'), config: tiny() });
    const dir = path.join(tmp(), 'cadence');
    run({ dir, config: tiny({ steps: 20 }) });
    const extended = run({ dir, config: tiny({ log_every: 2, checkpoint_every: 4 }) });
    expectSameWeights(extended, straight);
    const steps = new RunDir(dir).readMetrics().map((r) => r.step);
    expect(steps.slice(0, 5)).toEqual([0, 5, 10, 15, 20]);
    expect(steps.slice(5, 8)).toEqual([22, 24, 26]); // the new cadence from step 20 on
    // Same losses where both logged.
    const byStep = new Map(straight.run.readMetrics().map((r) => [r.step, r.test_loss]));
    for (const row of new RunDir(dir).readMetrics()) if (byStep.has(row.step)) expect(row.test_loss).toBe(byStep.get(row.step));
  });

  it('an extended run stops early where an uninterrupted one would (the patience count survives a resume)', () => {
    // A threshold above every loss: the stop comes after `patience` logged rows, at step 5 · (patience − 1).
    const stop = { early_stop_loss: 100, early_stop_patience: 4, checkpoint_every: 5 };
    const straight = run({ dir: path.join(tmp(), 's'), config: tiny(stop) });
    expect([straight.reason, straight.step]).toEqual(['early-stop', 15]);
    const dir = path.join(tmp(), 'k');
    run({ dir, config: tiny(stop), stopAfter: 12, saveOnStop: false }); // killed at 12; last checkpoint 10
    const resumed = run({ dir, config: tiny(stop) });
    expect([resumed.reason, resumed.step]).toEqual(['early-stop', 15]);
    expectSameWeights(resumed, straight);
    // Extending with early stop turned off trains on from there.
    const on = run({ dir, config: tiny({ ...stop, early_stop_loss: null }) });
    expect([on.reason, on.step]).toEqual(['finished', 40]);
  });

  it('refuses a change of a field that defines the run, naming it, and leaves the run as it was', () => {
    const dir = path.join(tmp(), 'run');
    run({ dir, config: tiny({ steps: 10 }) });
    const before = fs.readFileSync(new RunDir(dir).configPath, 'utf8');
    for (const change of [{ lr: 0.01 }, { d_mlp: 64 }, { seed: 3 }, { frac_train: 0.6 }, { weight_decay: 0.5 }]) {
      const key = Object.keys(change)[0]!;
      expect(() => run({ dir, config: tiny({ steps: 20, ...change }) })).toThrow(new RegExp(`different config \\(${key}: run has .*Only the budget`));
    }
    expect(fs.readFileSync(new RunDir(dir).configPath, 'utf8')).toBe(before);
  });

  it('never shortens a run: a steps below the step reached is refused and nothing changes', () => {
    const dir = path.join(tmp(), 'run');
    run({ dir, config: tiny({ steps: 20 }) });
    const metrics = fs.readFileSync(new RunDir(dir).metricsPath, 'utf8');
    expect(() => run({ dir, config: tiny({ steps: 15 }) })).toThrow(`run ${dir} has reached step 20, past steps = 15: a run is never shortened`);
    expect(new RunDir(dir).readConfig().steps).toBe(20);
    expect(fs.readFileSync(new RunDir(dir).metricsPath, 'utf8')).toBe(metrics);
    // A budget that ends where the run is ends it there again, without an update.
    expect(run({ dir, config: tiny({ steps: 20, log_every: 4 }) }).step).toBe(20);
  });
});

describe('config fields', () => {
  it('the budget is steps, early stop and the log and checkpoint cadence', () => {
    expect([...BUDGET_FIELDS].sort()).toEqual(['checkpoint_every', 'early_stop_loss', 'early_stop_patience', 'log_every', 'steps']);
  });

  it('counts the weights of a model and refuses one too large to allocate', () => {
    const model = buildModel(resolveConfig({ p: 13, d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32 }));
    const weights = [...model.namedParameters()].filter(([n]) => /\.W_|^W_|W_[A-Z]/.test(n)).reduce((a, [, p]) => a + p.data.length, 0);
    expect(parameterCount(resolveConfig({ p: 13, d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32 }))).toBe(weights);
    expect(parameterCount(PAPER_CONFIG)).toBeLessThan(MAX_PARAMETERS);
    expect(() => resolveConfig({ d_mlp: 2 ** 30 })).toThrow(/the model would have 2\.\d+e\+11 weights; at most 268435456/);
  });

  it('rejects keys inherited from Object.prototype and junk inside grokfast', () => {
    expect(() => resolveConfig({ toString: 1 })).toThrow(/unknown option 'toString'/);
    expect(() => resolveConfig({ grokfast: { kind: 'ema', deep: [[[]]] } })).toThrow(/grokfast = \{…\} must be null or/);
    expect(() => resolveConfig({ split: [1] })).toThrow(/split = \[1\] must be a file name or null/);
    expect(() => resolveConfig({ p: 1e300 })).toThrow(/p = 1e\+300 must be a prime/); // and quickly: no isPrime(1e300)
  });
});
