/**
 * `pnpm grok report DIR`: a run directory gets a run report, a directory of runs gets a sweep report.
 */
import { RunDir } from '../run-dir.js';
import { type RunReportOptions, writeRunReport } from './run-report.js';
import { writeSweepReport } from './sweep-report.js';

export async function writeReport(dir: string, options: RunReportOptions = {}): Promise<{ file: string; kind: 'run' | 'sweep' }> {
  if (new RunDir(dir).exists()) return { file: await writeRunReport(dir, options), kind: 'run' };
  return { file: await writeSweepReport(dir), kind: 'sweep' };
}
