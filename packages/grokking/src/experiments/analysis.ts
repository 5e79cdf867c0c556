/**
 * The analysis of an experiment's runs (analysis.json), computed once per run and reused while the run's
 * checkpoints are unchanged. The excluded loss the weight-decay experiment plots comes from here: at the
 * default size (p = 47, 30–100 checkpoints) the whole analysis of a run takes seconds, so there is no need
 * for a cheaper per-checkpoint version; the time it took is kept in the summary to show that.
 */
import * as fs from 'node:fs';
import { analyzeRun as runAnalysis } from '../analysis/run-analysis.js';
import type { AnalysisFile } from '../analysis/types.js';
import { RunDir } from '../run-dir.js';

export interface Analysed {
  analysis: AnalysisFile;
  /** Seconds spent now (0 when analysis.json was reused). */
  seconds: number;
}

export function ensureAnalysis(dir: string, log: (line: string) => void = () => {}): Analysed {
  const run = new RunDir(dir);
  const last = run.checkpointSteps().at(-1);
  if (fs.existsSync(run.analysisPath)) {
    const old = JSON.parse(fs.readFileSync(run.analysisPath, 'utf8')) as AnalysisFile;
    if (old.steps.at(-1) === last) return { analysis: old, seconds: 0 };
  }
  const started = performance.now();
  const analysis = runAnalysis(dir);
  const seconds = (performance.now() - started) / 1000;
  log(`analysed ${dir} in ${seconds.toFixed(1)} s`);
  return { analysis, seconds };
}
