/**
 * What an experiment is, and the one driver every experiment goes through:
 *   plan → (dry run: print and stop) → train the runs (runSweep) → summarise → summary.json → report section.
 *
 * An experiment only says which runs it needs, how to boil them down to a summary (plain JSON), the finding
 * in words (computed from the summary, never written in advance), and how to draw the summary.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../run-dir.js';
import { writeExperimentReport, type Section } from './report.js';
import type { ExperimentOptions } from './settings.js';
import { type FinishedRun, type PlannedRun, describePlan, runSweep } from './sweep.js';

export interface Experiment<S> {
  name: string;
  /** The question, as a heading. */
  title: string;
  plan(o: ExperimentOptions): PlannedRun[];
  /** The summary (written to summary.json): everything the finding and the figures need. */
  summarize(runs: FinishedRun[], o: ExperimentOptions): S | Promise<S>;
  /** One or two sentences with the measured values. */
  finding(summary: S): string;
  /** Figures and tables of the summary. */
  section(summary: S): Promise<Section>;
}

export const experimentDir = (o: ExperimentOptions, name: string) => path.join(o.root, name);

export interface ExperimentResult<S> {
  summary: S;
  finding: string;
  report: string;
}

/** Runs an experiment end to end; null on --dry-run. */
export async function runExperiment<S>(e: Experiment<S>, o: ExperimentOptions): Promise<ExperimentResult<S> | null> {
  const planned = e.plan(o);
  if (o.dryRun) {
    o.log(`experiment ${e.name}: ${planned.length} runs\n${describePlan(planned)}`);
    return null;
  }
  const dir = experimentDir(o, e.name);
  fs.mkdirSync(dir, { recursive: true });
  const started = performance.now();
  const runs = await runSweep(planned, { log: (line) => o.log(`${e.name} ${line}`) });
  const summary = await e.summarize(runs, o);
  const finding = e.finding(summary);
  writeFileAtomic(path.join(dir, 'summary.json'), JSON.stringify({ experiment: e.name, finding, summary }, null, 1) + '\n');
  const report = await writeExperimentReport(o.root, e.name, e.title, finding, await e.section(summary));
  o.log(`experiment ${e.name}: ${finding}`);
  o.log(`experiment ${e.name}: ${((performance.now() - started) / 1000).toFixed(0)} s; summary in ${path.join(dir, 'summary.json')}, report in ${report}`);
  return { summary, finding, report };
}
