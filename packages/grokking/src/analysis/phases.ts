/**
 * Phase boundaries (memorisation → circuit formation → cleanup) from the measures over training.
 *
 * The rule (its inputs are written to analysis.json):
 *  1. Memorisation runs from the first checkpoint until the first checkpoint whose train loss is below
 *     1 % of the initial train loss (≈ 0.047 for p = 113): the training set is fitted.
 *  2. The test loss then peaks: `peak` = the largest test loss at or after that step; `floor` = the smallest
 *     test loss at or after the peak. The run has grokked if floor < 0.1·ln p (far below chance, ln p).
 *  3. Circuit formation runs from the end of memorisation until the test loss starts its steep fall: the
 *     first checkpoint after the peak where log10(test loss) has fallen 10 % of the way from log10(peak)
 *     to log10(floor). (During circuit formation the test loss stays near its peak while the restricted loss
 *     already falls and the excluded loss rises.)
 *  4. Cleanup runs from there until log10(test loss) has fallen 90 % of the way: the test loss is at its floor
 *     (up to a factor (peak/floor)^0.1).
 * A run that has not grokked has no circuit-formation end and no cleanup (null).
 */
import type { CheckpointMeasures, PhaseDetection } from './types.js';

export const PHASE_RULE =
  'memorisation: first step → first step with trainLoss < 0.01·initial trainLoss; ' +
  'peak = max testLoss from there on, floor = min testLoss after the peak, grokked if floor < 0.1·ln p; ' +
  'circuit formation: end of memorisation → first step after the peak with log10(testLoss) ≤ log10(peak) − 0.1·(log10(peak) − log10(floor)); ' +
  'cleanup: → first later step with log10(testLoss) ≤ log10(peak) − 0.9·(log10(peak) − log10(floor))';

export function detectPhases(rows: readonly CheckpointMeasures[], p: number): PhaseDetection {
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

  const memEnd = rows.findIndex((r) => r.trainLoss < inputs.memorisationTrainLossThreshold);
  if (memEnd < 0) return result;
  result.memorisation = [rows[0]!.step, rows[memEnd]!.step];

  let peak = memEnd;
  for (let i = memEnd; i < rows.length; i++) if (rows[i]!.testLoss > rows[peak]!.testLoss) peak = i;
  let floor = peak;
  for (let i = peak; i < rows.length; i++) if (rows[i]!.testLoss < rows[floor]!.testLoss) floor = i;
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
  result.circuitFormation = [rows[memEnd]!.step, rows[start]!.step];
  const end = firstBelow(start, inputs.cleanupEndTestLoss);
  if (end >= 0) result.cleanup = [rows[start]!.step, rows[end]!.step];
  return result;
}
