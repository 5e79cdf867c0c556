/**
 * Which of the paper's phases a live run is in, read off analysis/phases.ts's `detectPhases` on the losses
 * logged so far. On a curve that is still growing, each phase ends where the rule finds its end; until then
 * the run is in it:
 *   memorisation       until the training set is fitted and the test loss has peaked,
 *   circuit formation  from the peak until the test loss starts its steep fall,
 *   cleanup            until the test loss reaches its floor: on a live curve the floor is the lowest test
 *                      loss so far, so while it still makes new lows the cleanup goes on,
 *   grokked            once a logged step after the cleanup's end stayed above that floor.
 */
import { type LossRow, detectPhases } from '../analysis/phases.js';
import type { PhaseDetection } from '../analysis/types.js';
import type { Phase } from '../report/analysis-view.js';

export interface PhaseNow {
  /** The phase the last logged step is in. */
  current: 'memorisation' | 'circuit formation' | 'cleanup' | 'grokked';
  /** The phases detected so far, as the charts' bands (the current one reaching the last step). */
  bands: Phase[];
  detection: PhaseDetection;
}

export function phaseNow(rows: readonly LossRow[], p: number): PhaseNow {
  const detection = detectPhases(rows, p);
  const last = rows.at(-1)?.step ?? 0;
  const first = rows[0]?.step ?? 0;
  const { memorisation, circuitFormation, cleanup } = detection;
  const bands: Phase[] = [];
  const band = (name: string, span: [number, number]) => bands.push({ name, start: span[0], end: span[1] });
  let current: PhaseNow['current'];
  if (!memorisation || last <= memorisation[1]) {
    current = 'memorisation';
    band('memorisation', [first, last]);
  } else if (!circuitFormation) {
    current = 'circuit formation';
    band('memorisation', memorisation);
    band('circuit formation', [memorisation[1], last]);
  } else if (!cleanup || cleanup[1] >= last) {
    current = 'cleanup';
    band('memorisation', memorisation);
    band('circuit formation', circuitFormation);
    band('cleanup', [circuitFormation[1], last]); // (detectPhases's cleanup, when it has one, also ends at `last`)
  } else {
    current = 'grokked';
    band('memorisation', memorisation);
    band('circuit formation', circuitFormation);
    band('cleanup', cleanup);
  }
  return { current, bands, detection };
}
