/**
 * The restricted and excluded loss of logits Y [p*p, p] (row a·p + b) for a set of frequencies, the
 * paper's two progress measures built on the key frequencies:
 *   restricted = cross-entropy over all pairs of  mean + P·Y   (only those frequencies' directions of a + b)
 *   excluded   = cross-entropy over the train pairs of  Y − P·Y   (those directions removed)
 * with P·Y the projection of logits.ts (projectOntoSumFrequencies).
 *
 * The plain form builds both p³ arrays and scores them. The fast one, which the analysis runs, uses that
 * P·Y depends on (a, b) only through s = (a + b) mod p, which is also the label: the restricted logits have
 * p distinct rows, row s with label s, each p times, so their loss is the mean of p row losses. The excluded
 * rows are formed one at a time, train rows only. One projection serves both.
 */
import { crossEntropyOnRows, logSumExp } from './losses.js';
import { keepSumFrequencies, projectOntoSumFrequencies, removeSumFrequencies } from './logits.js';

export interface RestrictedAndExcluded {
  restrictedLoss: number;
  excludedLoss: number;
}

/** The readable form: the p³ restricted and excluded logits, scored. */
export function restrictedAndExcludedLossPlain(logits: Float64Array, p: number, frequencies: readonly number[], train: Int32Array): RestrictedAndExcluded {
  return {
    restrictedLoss: crossEntropyOnRows(keepSumFrequencies(logits, p, p, frequencies), p).loss,
    excludedLoss: crossEntropyOnRows(removeSumFrequencies(logits, p, p, frequencies), p, train).loss,
  };
}

/** The fast form (the header): ≈ (train pairs + p)·p exponentials instead of 2·p³, and no p³ arrays. */
export function restrictedAndExcludedLoss(logits: Float64Array, p: number, frequencies: readonly number[], train: Int32Array): RestrictedAndExcluded {
  const { mean, projection } = projectOntoSumFrequencies(logits, p, p, frequencies); // [p], [p (s), p (c)]
  // restricted row s: mean + projection[s]   [p]
  const row = new Float64Array(p);
  let restricted = 0;
  for (let s = 0; s < p; s++) {
    for (let c = 0; c < p; c++) row[c] = mean[c]! + projection[s * p + c]!;
    restricted += logSumExp(row, 0, p) - row[s]!;
  }
  // excluded row a·p + b: Y[a·p + b] − projection[s]   [p]
  let excluded = 0;
  for (let i = 0; i < train.length; i++) {
    const r = train[i]!;
    const s = (Math.floor(r / p) + (r % p)) % p;
    for (let c = 0; c < p; c++) row[c] = logits[r * p + c]! - projection[s * p + c]!;
    excluded += logSumExp(row, 0, p) - row[s]!;
  }
  return { restrictedLoss: restricted / p, excludedLoss: train.length > 0 ? excluded / train.length : NaN };
}
