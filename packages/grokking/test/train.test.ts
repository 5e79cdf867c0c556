import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { Progress } from '../src/progress.js';
import { RunDir } from '../src/run-dir.js';
import { train } from '../src/train.js';
import { parseCommandLine, configFrom } from '../src/args.js';

const silent = new Progress({ isTTY: false, write: () => true } as unknown as NodeJS.WriteStream, Infinity);
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'grok-train-'));

/** A model small enough to train in a second. */
const tiny = (over: Record<string, unknown> = {}) =>
  resolveConfig({
    p: 13, frac_train: 0.5, d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32,
    steps: 30, checkpoint_every: 10, log_every: 5, ...over,
  });

function weights(result: ReturnType<typeof train>): Map<string, Float32Array> {
  return new Map([...result.model.namedParameters()].map(([n, p]) => [n, Float32Array.from(p.data)]));
}

describe('train', () => {
  it('writes config, metrics every log_every steps and checkpoints every checkpoint_every steps', () => {
    const dir = path.join(tmp(), 'run');
    const result = train({ dir, config: tiny(), progress: silent, handleSignals: false });
    expect(result.reason).toBe('finished');
    expect(result.step).toBe(30);
    const run = new RunDir(dir);
    expect(run.readConfig().p).toBe(13);
    expect(run.readMetrics().map((r) => r.step)).toEqual([0, 5, 10, 15, 20, 25, 30]);
    expect(run.checkpointSteps()).toEqual([0, 10, 20, 30]);
    expect(fs.existsSync(run.statePath)).toBe(true);
    const first = run.readMetrics()[0]!;
    expect(first.lr).toBe(0); // warm-up: the first update has lr 0
    expect(first.train_loss).toBeCloseTo(Math.log(13), 0);
  });

  it('learns: the training loss falls', () => {
    const dir = path.join(tmp(), 'run');
    train({ dir, config: tiny({ steps: 60, lr: 0.01 }), progress: silent, handleSignals: false });
    const rows = new RunDir(dir).readMetrics();
    expect(rows.at(-1)!.train_loss).toBeLessThan(rows[0]!.train_loss * 0.8);
  });

  it('is deterministic: the same config and seed give identical metrics', () => {
    const a = train({ dir: path.join(tmp(), 'a'), config: tiny(), progress: silent, handleSignals: false });
    const b = train({ dir: path.join(tmp(), 'b'), config: tiny(), progress: silent, handleSignals: false });
    const strip = (rows: { step_ms: number }[]) => rows.map((r) => ({ ...r, step_ms: 0 }));
    expect(strip(a.run.readMetrics())).toEqual(strip(b.run.readMetrics()));
  });

  it('resumes after a kill and ends with the same weights, bit for bit, as an uninterrupted run', () => {
    for (const grokfast of [null, { kind: 'ema' as const }]) {
      const config = tiny({ grokfast });
      const straight = train({ dir: path.join(tmp(), 'straight'), config, progress: silent, handleSignals: false });

      const dir = path.join(tmp(), 'killed');
      // "Kill" at step 17: no checkpoint is written at the stop, so the last one is step 10.
      const killed = train({ dir, config, progress: silent, handleSignals: false, stopAfter: 17, saveOnStop: false });
      expect(killed.step).toBe(17);
      const resumed = train({ dir, config, progress: silent, handleSignals: false });
      expect(resumed.step).toBe(30);

      const w1 = weights(straight);
      const w2 = weights(resumed);
      for (const [name, w] of w1) expect(Buffer.from(w2.get(name)!.buffer)).toEqual(Buffer.from(w.buffer));
      const strip = (rows: { step_ms: number }[]) => rows.map((r) => ({ ...r, step_ms: 0 }));
      expect(strip(new RunDir(dir).readMetrics())).toEqual(strip(straight.run.readMetrics()));
    }
  });

  it('refuses a run directory whose config differs, naming the field', () => {
    const dir = path.join(tmp(), 'run');
    train({ dir, config: tiny({ steps: 5 }), progress: silent, handleSignals: false });
    expect(() => train({ dir, config: tiny({ steps: 5, lr: 0.01 }), progress: silent, handleSignals: false })).toThrow(
      /different config.*lr/,
    );
  });

  it('stops early once the test loss stays below the threshold', () => {
    const dir = path.join(tmp(), 'run');
    // A threshold above the initial loss: the stop comes after `patience` logged rows.
    const r = train({ dir, config: tiny({ early_stop_loss: 100, early_stop_patience: 2 }), progress: silent, handleSignals: false });
    expect(r.reason).toBe('early-stop');
    expect(r.step).toBe(5);
  });

  it('uses a split file and rejects one for another p', () => {
    const d = tmp();
    const file = path.join(d, 'split.json');
    fs.writeFileSync(file, JSON.stringify({ p: 13, train: [[0, 1], [2, 3], [4, 5], [12, 12]] }));
    const r = train({ dir: path.join(d, 'run'), config: tiny({ split: file, steps: 1 }), progress: silent, handleSignals: false });
    expect(r.step).toBe(1);
    fs.writeFileSync(file, JSON.stringify({ p: 11, train: [[0, 1]] }));
    expect(() => train({ dir: path.join(d, 'run2'), config: tiny({ split: file, steps: 1 }), progress: silent, handleSignals: false })).toThrow(
      /p is 11 but the config's p is 13/,
    );
  });
});

describe('options', () => {
  it('maps every config field to a kebab-case option and validates values', () => {
    const args = parseCommandLine(['--p', '97', '--frac-train', '0.4', '--no-last-position-only', '--grokfast', 'ema', '--grokfast-lambda', '3']);
    const c = configFrom(args);
    expect(c.p).toBe(97);
    expect(c.frac_train).toBe(0.4);
    expect(c.last_position_only).toBe(false);
    expect(c.grokfast).toEqual({ kind: 'ema', alpha: undefined, lambda: 3, window: undefined });
  });

  it.each([
    [['--p', '100'], /p = 100 must be a prime/],
    [['--frac-train', '1.5'], /frac_train = 1.5 must lie strictly between 0 and 1/],
    [['--weight-decay=-1'], /weight_decay = -1 must be a non-negative/],
    [['--lr', 'abc'], /--lr: expected a number, got 'abc'/],
    [['--bogus', '1'], /Unknown option '--bogus'/],
  ])('rejects %j before any work', (argv, message) => {
    expect(() => configFrom(parseCommandLine(argv as string[]))).toThrow(message);
  });
});
