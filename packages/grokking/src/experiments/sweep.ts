/**
 * The sweep runner shared by every experiment: a list of planned runs, each trained into its own directory,
 * one after another (one process: the machine is shared).
 *
 * Resumable by construction: a run whose training ended earlier under the same budget is reused as it is
 * (its `done.json` says so). Any other run goes to trainAsync, which resumes an interrupted run from its last
 * checkpoint, extends a finished one whose budget grew (`--steps`), and refuses a run directory whose config
 * differs from the plan (RunDir.init: never overwritten). Ctrl-C stops the run in progress after its current
 * step and saves it there (SweepInterrupted, exit 130), so `pnpm grok experiment NAME` can be stopped and
 * started again at any time. Each run directory is locked while it trains (run-lock.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUDGET_FIELDS, type RunConfig } from '../config.js';
import { Progress } from '../progress.js';
import { type MetricsRow, RunDir, writeFileAtomic } from '../run-dir.js';
import { RunLock } from '../run-lock.js';
import { stepsToGrok } from '../steps-to-grok.js';
import { type TrainResult, trainAsync } from '../train.js';

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
  reason: TrainResult['reason'];
  /** True if the run was already finished before this invocation. */
  reused: boolean;
}

/** Written into a run dir when its training has ended for good (finished or early-stopped). */
const DONE = 'done.json';

interface DoneFile {
  reason: TrainResult['reason'];
  step: number;
  at: string;
  /** The budget it ended under (absent in files written before runs could be extended). */
  budget?: Partial<RunConfig>;
}

export interface SweepOptions {
  log?: (line: string) => void;
  /** Stop each run after this many more updates (tests: simulates an interruption). */
  stopAfter?: number;
}

/** Ctrl-C during a sweep: the run in progress was saved where it stopped. */
export class SweepInterrupted extends Error {}

const budgetOf = (c: RunConfig): Partial<RunConfig> => Object.fromEntries(BUDGET_FIELDS.map((k) => [k, c[k]]));

/** Whether the run's training has ended for good, under the same budget as `config` when one is given. */
export function isDone(dir: string, config?: RunConfig): boolean {
  const file = path.join(dir, DONE);
  if (!fs.existsSync(file)) return false;
  if (config === undefined) return true;
  const done = JSON.parse(fs.readFileSync(file, 'utf8')) as DoneFile;
  const ended = done.budget ?? budgetOf(new RunDir(dir).readConfig());
  return JSON.stringify(ended) === JSON.stringify(budgetOf(config));
}

/** Trains every planned run that is not done yet, in order, and returns them all with their metrics. */
export async function runSweep(planned: readonly PlannedRun[], options: SweepOptions = {}): Promise<FinishedRun[]> {
  const log = options.log ?? (() => {});
  const quiet = new Progress({ isTTY: false, write: () => true } as unknown as NodeJS.WriteStream, Infinity);
  const out: FinishedRun[] = [];
  for (const [i, run] of planned.entries()) {
    const tag = `[${i + 1}/${planned.length}] ${run.label}`;
    const reused = isDone(run.dir, run.config);
    let reason: TrainResult['reason'];
    if (reused) {
      new RunDir(run.dir).init(run.config); // throws if the plan changed under an old run
      reason = (JSON.parse(fs.readFileSync(path.join(run.dir, DONE), 'utf8')) as DoneFile).reason;
      log(`${tag}: done earlier, reused (${run.dir})`);
    } else {
      log(`${tag}: ${new RunDir(run.dir).exists() ? 'resuming' : 'training'} in ${run.dir}`);
      const lock = RunLock.acquire(run.dir); // held until done.json is written
      if (lock.tookOverFrom) log(`${tag}: took over the stale lock of pid ${lock.tookOverFrom.pid} (that process is gone)`);
      try {
        const result = await trainAsync({ dir: run.dir, config: run.config, progress: quiet, stopAfter: options.stopAfter, lock });
        reason = result.reason;
        if (reason === 'finished' || reason === 'early-stop') {
          const done: DoneFile = { reason, step: result.step, at: new Date().toISOString(), budget: budgetOf(run.config) };
          writeFileAtomic(path.join(run.dir, DONE), JSON.stringify(done) + '\n');
        } else log(`${tag}: stopped (${reason}) at step ${result.step}; run the same command again to resume`);
      } finally {
        lock.release();
      }
    }
    const finished = summarizeRun(run, reason, reused, log);
    const grok = finished.stepsToGrok === null ? `did not grok within ${finished.lastStep} steps` : `grokked at step ${finished.stepsToGrok}`;
    log(`${tag}: ${grok}, ${finished.wallSeconds.toFixed(0)} s of training`);
    out.push(finished);
    if (reason === 'interrupted') throw new SweepInterrupted(`interrupted during ${run.label}; run the same command again to resume`);
  }
  return out;
}

export function summarizeRun(run: PlannedRun, reason: TrainResult['reason'], reused: boolean, warn?: (line: string) => void): FinishedRun {
  const rows = new RunDir(run.dir).readMetrics(warn);
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
    lines.push(`${run.dir}  ${run.label}${changes ? `  (${changes})` : ''}${isDone(run.dir, run.config) ? '  [done: reused]' : ''}`);
  }
  return lines.join('\n');
}
