/**
 * The live report's rows (live-measures.jsonl, src/live/) in the report's own terms, for the progress-measure
 * figures while training runs, before analysis.json exists. Phases come from the losses logged so far
 * (src/live/phase-so-far.ts); the key frequencies are the newest measured checkpoint's, and each row's
 * restricted and excluded loss use that row's own (src/live/refresh.ts says why).
 */
import type { CheckpointMeasures } from '../analysis/types.js';
import { LiveMeasuresFile } from '../live/measures-file.js';
import { phasesSoFar } from '../live/phase-so-far.js';
import type { MetricsRow, RunDir } from '../run-dir.js';
import { type ReportAnalysis, checkpointSeries, phaseSpans } from './analysis-view.js';

/** The live view of a run, or null when no checkpoint has been measured live. Reads only; never repairs. */
export function readLiveView(run: RunDir, metrics: readonly MetricsRow[], p: number): ReportAnalysis | null {
  const { rows } = new LiveMeasuresFile(run.liveMeasuresPath).read();
  if (rows.length === 0) return null;
  return liveView(rows, run.checkpointSteps(), metrics, p);
}

/** `rows` ascending by step (at least one); `checkpoints`: every checkpoint step on disk. */
export function liveView(rows: readonly CheckpointMeasures[], checkpoints: readonly number[], metrics: readonly MetricsRow[], p: number): ReportAnalysis {
  const newest = rows.at(-1)!;
  const sameKeys = (r: CheckpointMeasures) => r.keyFrequencies.join(' ') === newest.keyFrequencies.join(' ');
  let since = rows.length - 1;
  while (since > 0 && sameKeys(rows[since - 1]!)) since--;
  const measured = new Set(rows.map((r) => r.step));
  const pendingRanges: [number, number][] = [];
  checkpoints.forEach((step, i) => {
    if (measured.has(step)) return;
    const last = pendingRanges.at(-1);
    if (last && i > 0 && last[1] === checkpoints[i - 1]) last[1] = step; // continues a run of unmeasured ones
    else pendingRanges.push([step, step]);
  });
  return {
    p,
    finalStep: newest.step,
    keyFrequencies: newest.keyFrequencies,
    phases: phaseSpans(phasesSoFar(metrics, p)),
    series: checkpointSeries(rows),
    live: {
      measured: rows.length,
      checkpoints: checkpoints.length,
      pending: checkpoints.filter((s) => !measured.has(s)),
      pendingRanges,
      keysSinceStep: rows[since]!.step,
    },
  };
}
