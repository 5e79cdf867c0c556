/**
 * The `analyze` command (wired into cli.ts):
 *   pnpm grok analyze runs/NAME                   every checkpoint → runs/NAME/analysis.json, a summary
 *   pnpm grok analyze runs/NAME --step N [--json] one checkpoint's findings (nothing written)
 *   pnpm grok analyze --checkpoint FILE [--split FILE] [--p P --d-mlp N …] [--json]
 *                                                 any safetensors checkpoint (ours, or converted with no
 *                                                 metadata: the config is read off its tensors); with --json
 *                                                 one JSON object on the last line of stdout (the rest on stderr)
 */
import type { ParsedArgs } from '../args.js';
import { checkpointOptions } from '../open-checkpoint.js';
import { analyzeCheckpointFile, analyzeRun, analyzeRunStep, formatFindings } from './run-analysis.js';

const flag = (k: string) => '--' + k.replace(/_/g, '-');

export function runAnalyze(args: ParsedArgs): void {
  const { checkpoint, step, json, quiet } = args.general;
  const dir = args.positionals[0];
  const out = (text: string) => process.stdout.write(text + '\n');
  const note = (line: string) => process.stderr.write(line + '\n');

  if (checkpoint !== undefined) {
    if (dir !== undefined) throw new Error('analyze: give either a run directory or --checkpoint FILE, not both');
    if (step !== undefined) throw new Error('analyze: --step applies to a run directory, not to --checkpoint');
    const { split, model } = checkpointOptions(args, 'analyze --checkpoint');
    const findings = analyzeCheckpointFile(checkpoint, { split, model, log: quiet ? undefined : note });
    out(json ? JSON.stringify(findings) : formatFindings(findings));
    return;
  }
  if (dir === undefined) throw new Error('analyze: which run? (pnpm grok analyze runs/NAME, or --checkpoint FILE)');
  if (args.overrides.split !== undefined) throw new Error('analyze: a run uses its own split; --split applies to --checkpoint only');
  const extra = Object.keys(args.overrides);
  if (extra.length > 0) throw new Error(`analyze: a run uses its own config.json; config options do not apply here (${extra.map(flag).join(', ')})`);
  if (step !== undefined) {
    const n = Number(step);
    if (!/^\d+$/.test(step) || !Number.isSafeInteger(n)) throw new Error(`--step: expected a non-negative integer, got '${step}'`);
    const findings = analyzeRunStep(dir, n);
    out(json ? JSON.stringify(findings) : formatFindings(findings));
    return;
  }
  const log = quiet ? () => {} : json ? (l: string) => process.stderr.write(l + '\n') : out;
  const analysis = analyzeRun(dir, { log });
  if (json) {
    out(JSON.stringify(analysis));
    return;
  }
  out(formatFindings(analysis.final));
  const ph = analysis.phases;
  const span = (x: [number, number] | null) => (x ? `${x[0]}–${x[1]}` : '—');
  out(`phases: memorisation ${span(ph.memorisation)}, circuit formation ${span(ph.circuitFormation)}, cleanup ${span(ph.cleanup)}`);
  out(`analyze: wrote ${dir}/analysis.json in ${analysis.durationSeconds.toFixed(1)} s`);
}

/** After `pnpm grok` (train) finishes a run: analyse it. A failure here does not undo the training. */
export function runAnalyzeAfterTraining(dir: string, args: ParsedArgs): void {
  try {
    const analysis = analyzeRun(dir, { log: args.general.quiet ? () => {} : (l) => process.stdout.write(l + '\n') });
    process.stdout.write(`grok: analysis in ${dir}/analysis.json (key frequencies ${analysis.final.keyFrequencies.join(', ') || 'none'})\n`);
  } catch (e) {
    process.stderr.write(`grok: the analysis failed: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
