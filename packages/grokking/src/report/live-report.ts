/**
 * Watching a run: while training, the report is rewritten every `everySteps` steps (from the training
 * loop's onCheckpoint hook) with a `<meta http-equiv="refresh">`, so a browser showing report.html
 * follows the run; the final report, written after training, drops the refresh.
 *
 * The training loop is synchronous and the SVG renderer is asynchronous, so the page is written by a
 * short child process (live-main.ts) that training waits for. Waiting is deliberate: on a 2-core machine
 * a report running beside training would take the same CPU time from it anyway, and a synchronous child
 * can never race the final report or pile up. A refresh costs about a second every few hundred steps.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export class LiveReport {
  #lastStep: number;

  constructor(
    readonly dir: string,
    readonly everySteps = 500,
    /** Where a failed refresh is reported (it never stops training). */
    readonly warn: (line: string) => void = (line) => process.stderr.write(line + '\n'),
  ) {
    this.#lastStep = 0; // step 0's page would show nothing yet
  }

  /** For TrainOptions.onCheckpoint. */
  onCheckpoint = (step: number): void => {
    if (step - this.#lastStep < this.everySteps) return;
    this.#lastStep = step;
    const entry = fileURLToPath(new URL('./live-main.js', import.meta.url));
    const result = spawnSync(process.execPath, [entry, this.dir], { encoding: 'utf8', timeout: 120_000 });
    if (result.status !== 0) this.warn(`grok: live report at step ${step} failed: ${(result.stderr || result.error?.message || '').trim()}`);
  };
}
