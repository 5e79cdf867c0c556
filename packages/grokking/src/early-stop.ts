/**
 * Early stopping: stop once the test loss has stayed below `early_stop_loss` for `early_stop_patience`
 * logged rows in a row. The count is rebuilt from the rows a resumed run logged before, so a resumed or
 * extended run stops exactly where an uninterrupted one would.
 */
import type { RunConfig } from './config.js';
import type { MetricsRow } from './run-dir.js';

export class EarlyStop {
  #below = 0;

  constructor(
    private readonly config: Pick<RunConfig, 'early_stop_loss' | 'early_stop_patience'>,
    earlier: readonly MetricsRow[] = [],
  ) {
    for (const row of earlier) this.observe(row.test_loss);
  }

  /** Counts one logged test loss; true once training should stop. */
  observe(testLoss: number): boolean {
    const threshold = this.config.early_stop_loss;
    if (threshold === null) return false;
    this.#below = testLoss < threshold ? this.#below + 1 : 0;
    return this.#below >= this.config.early_stop_patience;
  }
}
