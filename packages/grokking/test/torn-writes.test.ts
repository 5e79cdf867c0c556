/**
 * Torn writes. A kill during an append can cut the last line of metrics.jsonl: readers skip it with a warning,
 * resuming repairs it. A checkpoint write that fails (a full disk, injected at the fs layer by
 * fixtures/fail-writes.mjs after half the bytes were written) leaves the previous checkpoint and state.safetensors
 * intact, stops training with a clear error, and the run resumes from the last good checkpoint, ending with the
 * same weights as a run that never failed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { analyzeRun } from '../src/analysis/run-analysis.js';
import { resolveConfig } from '../src/config.js';
import { Progress } from '../src/progress.js';
import { buildRunReport } from '../src/report/run-report.js';
import { RunDir } from '../src/run-dir.js';
import { train } from '../src/train.js';
// @ts-expect-error: a plain .mjs fixture (it is also preloaded into the CLI with node --import)
import { injectWriteFailure } from './fixtures/fail-writes.mjs';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'grok-torn-'));
const silent = new Progress({ isTTY: false, write: () => true } as unknown as NodeJS.WriteStream, Infinity);
const tiny = (over: Record<string, unknown> = {}) =>
  resolveConfig({ p: 13, frac_train: 0.5, d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32, steps: 30, checkpoint_every: 10, log_every: 5, ...over });
const quiet = (dir: string, over: Record<string, unknown> = {}, more: object = {}) =>
  train({ dir, config: tiny(over), progress: silent, handleSignals: false, ...more });
const noTime = (rows: { step_ms: number }[]) => rows.map((r) => ({ ...r, step_ms: 0 }));
const weightsOf = (r: ReturnType<typeof train>) => [...r.model.namedParameters()].map(([n, p]) => [n, Buffer.from(p.data.buffer).toString('base64')]);

let undo: (() => void) | null = null;
afterEach(() => {
  undo?.();
  undo = null;
  vi.restoreAllMocks();
});

/** Captures what is written to stderr while `fn` runs. */
async function stderrOf<T>(fn: () => T | Promise<T>): Promise<{ value: T; text: string }> {
  const chunks: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation(((s: string) => (chunks.push(String(s)), true)) as typeof process.stderr.write);
  try {
    const value = await fn();
    return { value, text: chunks.join('') };
  } finally {
    vi.restoreAllMocks();
  }
}

describe('a metrics.jsonl whose last line was cut off', () => {
  function killedMidAppend(): string {
    const dir = path.join(tmp(), 'run');
    quiet(dir, {}, { stopAfter: 17, saveOnStop: false }); // rows 0…15, state at step 10
    fs.appendFileSync(new RunDir(dir).metricsPath, '{"step":20,"train_loss":0.51,"te'); // the kill came here
    return dir;
  }

  it('is skipped by readers with one warning naming the file and line', async () => {
    const dir = killedMidAppend();
    const run = new RunDir(dir);
    const warnings: string[] = [];
    expect(run.readMetrics((w) => warnings.push(w)).map((r) => r.step)).toEqual([0, 5, 10, 15]);
    expect(warnings).toEqual([`${run.metricsPath}: line 5, the last, is cut off (32 characters: still being written, or its writer was killed); skipped`]);

    // The report and the analysis still work; the report warns on stderr.
    const { value: report, text } = await stderrOf(() => buildRunReport(dir, { neuronMap: false }));
    expect(report.figures.has('loss')).toBe(true);
    expect(text).toContain(`${run.metricsPath}: line 5, the last, is cut off`);
    expect(analyzeRun(dir).final.step).toBe(10); // the analysis reads checkpoints only
  });

  it('is repaired on resume, and the resumed run logs exactly what an uninterrupted one does', () => {
    const dir = killedMidAppend();
    const lines: string[] = [];
    const progress = new Progress({ isTTY: false, write: (s: string) => (lines.push(s), true) } as unknown as NodeJS.WriteStream, Infinity);
    train({ dir, config: tiny(), progress, handleSignals: false });
    expect(lines.join('')).toMatch(/metrics\.jsonl: line 5, the last, is cut off .*; removed/);
    const text = fs.readFileSync(new RunDir(dir).metricsPath, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    for (const line of text.trimEnd().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    const straight = quiet(path.join(tmp(), 'straight'));
    expect(noTime(new RunDir(dir).readMetrics(() => expect.unreachable()))).toEqual(noTime(straight.run.readMetrics()));
  });

  it('a damaged line elsewhere is skipped too, and said to be damaged rather than cut off', () => {
    const dir = path.join(tmp(), 'run');
    quiet(dir, { steps: 10 });
    const file = new RunDir(dir).metricsPath;
    const rows = fs.readFileSync(file, 'utf8').split('\n');
    rows.splice(1, 0, '\u0000\u0000garbage', '[1,2]');
    fs.writeFileSync(file, rows.join('\n'));
    const warnings: string[] = [];
    expect(new RunDir(dir).readMetrics((w) => warnings.push(w)).map((r) => r.step)).toEqual([0, 5, 10]);
    expect(warnings).toEqual([`${file}: line 2 is not a metrics row (9 characters); skipped`, `${file}: line 3 is not a metrics row (5 characters); skipped`]);
  });
});

describe('a checkpoint write that fails', () => {
  for (const [what, match] of [
    ['state.safetensors', /\.state\.safetensors\.\d+\.\w+\.tmp$/],
    ['the step checkpoint', /\.step-000020\.safetensors\.\d+\.\w+\.tmp$/],
  ] as const) {
    it(`(${what}, disk full at step 20) leaves the last good checkpoint intact, stops with a clear error, and resumes from it`, () => {
      const straight = quiet(path.join(tmp(), 'straight'));
      const dir = path.join(tmp(), 'run');
      const run = new RunDir(dir);
      // state.safetensors is written at steps 0, 10, 20: the third write fails; the step file only once.
      const restore: () => void = injectWriteFailure({ match, nth: what === 'state.safetensors' ? 3 : 1 });
      undo = restore;
      let state10: Buffer | null = null;
      let error: Error | null = null;
      try {
        quiet(dir, {}, { onCheckpoint: (step: number) => step === 10 && (state10 = fs.readFileSync(run.statePath)) });
      } catch (e) {
        error = e as Error;
      }
      restore();
      undo = null;
      expect(error?.message).toMatch(
        new RegExp(`^checkpoint of step 20 in ${dir} could not be written \\(ENOSPC: no space left on device, write\\)\\. Training stopped; the checkpoint of step 10 and ${run.statePath} are intact\\. .*--resume ${dir}$`),
      );
      expect(fs.readFileSync(run.statePath).equals(state10!)).toBe(true); // the state of step 10, untouched
      expect(run.checkpointSteps()).toContain(10);
      expect(fs.readdirSync(dir).concat(fs.readdirSync(run.checkpointDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]); // the half-written temp file is gone
      expect(fs.existsSync(run.lockPath)).toBe(false); // the lock was released

      const resumed = quiet(dir);
      expect([resumed.reason, resumed.step]).toEqual(['finished', 30]);
      expect(weightsOf(resumed)).toEqual(weightsOf(straight));
      expect(noTime(run.readMetrics())).toEqual(noTime(straight.run.readMetrics()));
    });
  }
});
