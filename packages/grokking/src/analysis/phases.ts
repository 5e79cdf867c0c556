/**
 * Phase boundaries (memorisation → circuit formation → cleanup) from the train and test loss over training.
 *
 * The rule (its inputs are written to analysis.json):
 *  1. The training set is fitted at the first checkpoint whose train loss is below 1 % of the initial train
 *     loss (≈ 0.047 for p = 113).
 *  2. The test loss then peaks: `peak` = the first largest test loss at or after that step; `floor` = the
 *     smallest test loss at or after the peak. The run has grokked if floor < 0.1·ln p (far below chance, ln p).
 *  3. Memorisation runs from the first checkpoint to the peak: the memorised solution is at its strongest
 *     there (train loss keeps falling by orders of magnitude after step 1 while the test loss still climbs).
 *  4. Circuit formation runs from the peak until the test loss starts its steep fall: the first checkpoint
 *     after the peak where log10(test loss) has fallen 10 % of the way from log10(peak) to log10(floor).
 *     (During circuit formation the test loss stays near its peak while the restricted loss already falls
 *     and the excluded loss rises.)
 *  5. Cleanup runs from there until log10(test loss) has fallen 90 % of the way: the test loss is at its floor
 *     (up to a factor (peak/floor)^0.1).
 * A run that has not grokked has no circuit-formation end and no cleanup (null).
 *
 * Calibration. The paper gives its run's phases as 0–1.4k, 1.4k–9.4k and 9.4k–14k steps. Applied to the
 * original 30 % curve (packages/grokking/data/original_frac0.3.csv, a run that grokked sooner than the
 * paper's figure) the rule gives memorisation 0–1,415 (the paper: 1.4k; ending memorisation where the train
 * loss first falls below 1 % of its start, as an earlier version did, gives 162 — too early by 9×), circuit
 * formation to 7,177 and cleanup to 8,848; the phases experiment prints this comparison.
 */
import type { CheckpointMeasures, PhaseDetection } from './types.js';

export const PHASE_RULE =
  'fitted = first step with trainLoss < 0.01·initial trainLoss; ' +
  'peak = first max testLoss from there on, floor = min testLoss after the peak, grokked if floor < 0.1·ln p; ' +
  'memorisation: first step → peak; ' +
  'circuit formation: peak → first step after the peak with log10(testLoss) ≤ log10(peak) − 0.1·(log10(peak) − log10(floor)); ' +
  'cleanup: → first later step with log10(testLoss) ≤ log10(peak) − 0.9·(log10(peak) − log10(floor))';

/** Only the step and the two losses of each checkpoint are read, so curves from elsewhere work too. */
export type LossRow = Pick<CheckpointMeasures, 'step' | 'trainLoss' | 'testLoss'>;

export function detectPhases(rows: readonly LossRow[], p: number): PhaseDetection {
  const startFraction = 0.1;
  const endFraction = 0.9;
  const memFactor = 0.01;
  const grokkedThreshold = 0.1 * Math.log(p);
  const inputs: PhaseDetection['inputs'] = {
    initialTrainLoss: rows[0]?.trainLoss ?? NaN,
    memorisationTrainLossThreshold: memFactor * (rows[0]?.trainLoss ?? NaN),
    peakTestLoss: null,
    peakTestLossStep: null,
    floorTestLoss: null,
    floorTestLossStep: null,
    grokkedTestLossThreshold: grokkedThreshold,
    grokked: false,
    cleanupStartFraction: startFraction,
    cleanupEndFraction: endFraction,
    cleanupStartTestLoss: null,
    cleanupEndTestLoss: null,
  };
  const result: PhaseDetection = { memorisation: null, circuitFormation: null, cleanup: null, rule: PHASE_RULE, inputs };
  if (rows.length === 0) return result;

  const fitted = rows.findIndex((r) => r.trainLoss < inputs.memorisationTrainLossThreshold);
  if (fitted < 0) return result;

  let peak = fitted;
  for (let i = fitted; i < rows.length; i++) if (rows[i]!.testLoss > rows[peak]!.testLoss) peak = i;
  let floor = peak;
  for (let i = peak; i < rows.length; i++) if (rows[i]!.testLoss < rows[floor]!.testLoss) floor = i;
  result.memorisation = [rows[0]!.step, rows[peak]!.step];
  const peakLoss = rows[peak]!.testLoss;
  const floorLoss = rows[floor]!.testLoss;
  Object.assign(inputs, {
    peakTestLoss: peakLoss,
    peakTestLossStep: rows[peak]!.step,
    floorTestLoss: floorLoss,
    floorTestLossStep: rows[floor]!.step,
    grokked: floorLoss < grokkedThreshold,
  });
  if (!inputs.grokked) return result;

  const logPeak = Math.log10(peakLoss);
  const range = logPeak - Math.log10(Math.max(floorLoss, 1e-300));
  const level = (fraction: number) => 10 ** (logPeak - fraction * range);
  inputs.cleanupStartTestLoss = level(startFraction);
  inputs.cleanupEndTestLoss = level(endFraction);
  const firstBelow = (from: number, loss: number) => {
    for (let i = from; i < rows.length; i++) if (rows[i]!.testLoss <= loss) return i;
    return -1;
  };
  const start = firstBelow(peak, inputs.cleanupStartTestLoss);
  if (start < 0) return result;
  result.circuitFormation = [rows[peak]!.step, rows[start]!.step];
  const end = firstBelow(start, inputs.cleanupEndTestLoss);
  if (end >= 0) result.cleanup = [rows[start]!.step, rows[end]!.step];
  return result;
}
