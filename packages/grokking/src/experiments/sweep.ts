/**
 * The sweep runner shared by every experiment: a list of planned runs, each trained into its own directory,
 * one after another (one process: the machine is shared).
 *
 * Resumable by construction: a run that finished earlier is reused as it is (its `done.json` says so), a run
 * that was interrupted is resumed from its last checkpoint by train() itself, and a run dir whose config
 * differs from the plan is refused by RunDir.init (never overwritten). So `pnpm grok experiment NAME` can
 * be stopped with Ctrl-C and started again at any time.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunConfig } from '../config.js';
import { Progress } from '../progress.js';
import { type MetricsRow, RunDir, writeFileAtomic } from '../run-dir.js';
import { stepsToGrok } from '../steps-to-grok.js';
import { train } from '../train.js';

export interface PlannedRun {
  /** Directory of the run (several experiments may share one: the phases experiment reads the others'). */
  dir: string;
  /** Short label for tables and legends, e.g. 'wd 0.1, seed 1'. */
  label: string;
  config: RunConfig;
}

export interface FinishedRun extends PlannedRun {
  rows: MetricsRow[];
  /** First logged step with test loss < 0.01, or null. */
  stepsToGrok: number | null;
  lastStep: number;
  /** Training time from the metrics (Σ step_ms × steps between rows), so it survives a resume. */
  wallSeconds: number;
  reason: string;
  /** True if the run was already finished before this invocation. */
  reused: boolean;
}

/** Written into a run dir when its training has ended for good (finished or early-stopped). */
const DONE = 'done.json';

export interface SweepOptions {
  log?: (line: string) => void;
  /** Stop each run after this many more updates (tests: simulates an interruption). */
  stopAfter?: number;
}

export function isDone(dir: string): boolean {
  return fs.existsSync(path.join(dir, DONE));
}

/** Trains every planned run that is not done yet, in order, and returns them all with their metrics. */
export function runSweep(planned: readonly PlannedRun[], options: SweepOptions = {}): FinishedRun[] {
  const log = options.log ?? (() => {});
  const quiet = new Progress({ isTTY: false, write: () => true } as unknown as NodeJS.WriteStream, Infinity);
  const out: FinishedRun[] = [];
  planned.forEach((run, i) => {
    const tag = `[${i + 1}/${planned.length}] ${run.label}`;
    const reused = isDone(run.dir);
    let reason: string;
    if (reused) {
      new RunDir(run.dir).init(run.config); // throws if the plan changed under an old run
      reason = (JSON.parse(fs.readFileSync(path.join(run.dir, DONE), 'utf8')) as { reason: string }).reason;
      log(`${tag}: done earlier, reused (${run.dir})`);
    } else {
      log(`${tag}: ${new RunDir(run.dir).exists() ? 'resuming' : 'training'} in ${run.dir}`);
      const result = train({ dir: run.dir, config: run.config, progress: quiet, stopAfter: options.stopAfter });
      reason = result.reason;
      if (reason === 'finished' || reason === 'early-stop') {
        writeFileAtomic(path.join(run.dir, DONE), JSON.stringify({ reason, step: result.step, at: new Date().toISOString() }) + '\n');
      } else {
        // Interrupted (Ctrl-C): what exists so far is returned; the next invocation resumes it.
        log(`${tag}: stopped (${reason}) at step ${result.step}; run the same command again to resume`);
      }
    }
    const finished = summarizeRun(run, reason, reused);
    const grok = finished.stepsToGrok === null ? `did not grok within ${finished.lastStep} steps` : `grokked at step ${finished.stepsToGrok}`;
    log(`${tag}: ${grok}, ${finished.wallSeconds.toFixed(0)} s of training`);
    out.push(finished);
    if (reason === 'interrupted') throw new Error(`interrupted during ${run.label}; run the same command again to resume`);
  });
  return out;
}

export function summarizeRun(run: PlannedRun, reason: string, reused: boolean): FinishedRun {
  const rows = new RunDir(run.dir).readMetrics();
  return { ...run, rows, stepsToGrok: stepsToGrok(rows), lastStep: rows.at(-1)?.step ?? 0, wallSeconds: wallSeconds(rows), reason, reused };
}

/** Σ over rows of the mean step time × the steps since the previous row. */
export function wallSeconds(rows: readonly MetricsRow[]): number {
  let ms = 0;
  for (let i = 1; i < rows.length; i++) ms += rows[i]!.step_ms * (rows[i]!.step - rows[i - 1]!.step);
  return ms / 1000;
}

/** The plan as text (`--dry-run`): one line per run with the config fields that differ from the first run's. */
export function describePlan(planned: readonly PlannedRun[]): string {
  if (planned.length === 0) return '(no runs)';
  const first = planned[0]!.config as unknown as Record<string, unknown>;
  const lines = [`base config: ${JSON.stringify(first)}`];
  for (const run of planned) {
    const c = run.config as unknown as Record<string, unknown>;
    const diff = Object.keys(c).filter((k) => JSON.stringify(c[k]) !== JSON.stringify(first[k]));
    const changes = diff.map((k) => `${k}=${JSON.stringify(c[k])}`).join(' ');
    lines.push(`${run.dir}  ${run.label}${changes ? `  (${changes})` : ''}${isDone(run.dir) ? '  [done: reused]' : ''}`);
  }
  return lines.join('\n');
}
