/**
 * `pnpm grok report DIR`: a run directory gets a run report (report.html, figures/, and once analysis.json
 * exists paper-comparison.md: the paper's numbers beside the run's), a directory of runs gets a sweep report.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AnalysisFile } from '../analysis/types.js';
import { RunDir, writeFileAtomic } from '../run-dir.js';
import { comparisonMarkdown, paperComparison } from './paper-comparison.js';
import { type RunReportOptions, writeRunReport } from './run-report.js';
import { writeSweepReport } from './sweep-report.js';

export async function writeReport(dir: string, options: RunReportOptions = {}): Promise<{ file: string; kind: 'run' | 'sweep' }> {
  const run = new RunDir(dir);
  if (!run.exists()) return { file: await writeSweepReport(dir), kind: 'sweep' };
  const file = await writeRunReport(dir, options);
  writePaperComparison(run);
  return { file, kind: 'run' };
}

/** DIR/paper-comparison.md from analysis.json and metrics.jsonl; nothing before the analysis has run. */
export function writePaperComparison(run: RunDir): string | null {
  if (!fs.existsSync(run.analysisPath)) return null;
  const analysis = JSON.parse(fs.readFileSync(run.analysisPath, 'utf8')) as AnalysisFile;
  const rows = paperComparison(analysis, run.readMetrics());
  const file = path.join(run.dir, 'paper-comparison.md');
  const title = `# The paper vs ${path.basename(path.resolve(run.dir))}\n\nWritten by \`pnpm grok report\` from analysis.json and metrics.jsonl.\n\n`;
  writeFileAtomic(file, title + comparisonMarkdown(rows) + '\n');
  return file;
}
