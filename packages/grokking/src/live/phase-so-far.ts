/**
 * The phases of a run still training: the final analysis's rule (analysis/phases.ts) applied to the losses
 * logged so far (metrics.jsonl, every `log_every` steps: denser than the checkpoints, and complete up to now),
 * and the phase the run is in at its newest step.
 *
 * On a partial run the rule's spans end where the data does: memorisation ends at the highest test loss so far
 * (after the training set is fitted), and circuit formation has no end until the test loss falls, so "now" is:
 *   - memorisation, until the training set is fitted and the test loss has peaked (the peak is not the newest row);
 *   - circuit formation, from the peak until the test loss starts its steep fall;
 *   - cleanup, from there until it has fallen 90 % of the way (log scale) to its lowest value so far;
 *   - grokked, after that.
 * A provisional verdict: a new test-loss peak moves memorisation's end, and the final analysis decides.
 */
import { detectPhases } from '../analysis/phases.js';
import type { PhaseDetection } from '../analysis/types.js';
import type { MetricsRow } from '../run-dir.js';

export type PhaseName = 'memorisation' | 'circuit formation' | 'cleanup' | 'grokked';

export function phasesSoFar(rows: readonly MetricsRow[], p: number): PhaseDetection {
  return detectPhases(rows.map((r) => ({ step: r.step, trainLoss: r.train_loss, testLoss: r.test_loss })), p);
}

/** The phase at `step`, the newest logged step of the rows `d` was detected on. */
export function phaseAt(d: PhaseDetection, step: number): PhaseName {
  if (!d.memorisation) return 'memorisation'; // the training set is not fitted yet
  if (!d.circuitFormation) return step > d.memorisation[1] ? 'circuit formation' : 'memorisation';
  if (!d.cleanup) return 'cleanup';
  return step > d.cleanup[1] ? 'grokked' : 'cleanup';
}
