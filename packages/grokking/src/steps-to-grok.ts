/**
 * Steps to grok: the first logged step whose test loss is below 0.01. This is the definition of the
 * original paper's data-fraction sweep (its `original_frac_train_sweep.csv` gives 8,258 steps for 30 %
 * data), so our numbers and theirs are comparable. A loss threshold, rather than test accuracy ≥ 99 %,
 * is stricter and does not depend on how many test pairs there are. With metrics logged every k steps the
 * answer is exact to within k.
 */
export const GROK_TEST_LOSS = 1e-2;

export function stepsToGrok(rows: readonly { step: number; test_loss: number }[], threshold = GROK_TEST_LOSS): number | null {
  for (const row of rows) if (row.test_loss < threshold) return row.step;
  return null;
}
