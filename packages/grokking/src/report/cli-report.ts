/**
 * The `report` command (wired into cli.ts):
 *   pnpm grok report runs/NAME      a run → runs/NAME/report.html and runs/NAME/figures/*.svg
 *   pnpm grok report runs/SWEEP     a directory of runs → a sweep report (steps to grok vs weight decay, data)
 * and the report written after training by `pnpm grok`.
 */
import type { ParsedArgs } from '../args.js';
import { writeReport } from './write-report.js';

export async function runReport(args: ParsedArgs): Promise<void> {
  const dir = args.positionals[0];
  if (dir === undefined) throw new Error('report: which run? (pnpm grok report runs/NAME, or a directory of runs)');
  const extra = Object.keys(args.overrides);
  if (extra.length > 0) throw new Error(`report: config options do not apply here (${extra.map((k) => '--' + k.replace(/_/g, '-')).join(', ')})`);
  const started = performance.now();
  const { file, kind } = await writeReport(dir);
  if (!args.general.quiet) console.log(`grok: ${kind} report in ${file} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

/** After training (and the analysis): the final report. A failure here does not undo the training. */
export async function runReportAfterTraining(dir: string): Promise<void> {
  try {
    const { file } = await writeReport(dir);
    console.log(`grok: report in ${file}`);
  } catch (e) {
    console.error(`grok: the report failed: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}
