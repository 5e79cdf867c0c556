/**
 * `pnpm grok experiment NAME [--full] [--p P] [--steps N] [--seeds S] [--dry-run]` (wired into cli.ts);
 * data-fraction also takes `--fractions 0.4,0.5,0.6`.
 * Runs go to <runs-dir>/experiments/NAME/<run>/, the summary to …/NAME/summary.json, the report to
 * …/NAME/report.html (and every experiment's section together in <runs-dir>/experiments/report.html).
 */
import * as path from 'node:path';
import type { ParsedArgs } from '../args.js';
import { dataFraction } from './data-fraction.js';
import { distill } from './distill.js';
import { doubleDescent } from './double-descent.js';
import { type Experiment, runExperiment } from './experiment.js';
import { grokfast } from './grokfast.js';
import { phases } from './phases.js';
import type { ExperimentOptions } from './settings.js';
import { SweepInterrupted } from './sweep.js';
import { weightDecay } from './weight-decay.js';

export const EXPERIMENTS: Experiment<never>[] = [weightDecay, dataFraction, grokfast, distill, doubleDescent, phases] as unknown as Experiment<never>[];

export function experimentOptions(args: ParsedArgs, log: (line: string) => void = console.log): ExperimentOptions {
  const { p, steps, ...rest } = args.overrides;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new Error(`experiment: only --p and --steps of the config options apply (got ${extra.map((k) => '--' + k.replace(/_/g, '-')).join(', ')})`);
  const seeds = args.general.seeds === undefined ? undefined : Number(args.general.seeds);
  if (seeds !== undefined && !(Number.isInteger(seeds) && seeds > 0)) throw new Error(`--seeds: expected a positive integer, got '${args.general.seeds}'`);
  return {
    fractions: parseFractions(args.general.fractions),
    root: path.join(args.general['runs-dir'] ?? 'runs', 'experiments'),
    full: args.general.full ?? false,
    p: p as number | undefined,
    steps: steps as number | undefined,
    seeds,
    dryRun: args.general['dry-run'] ?? false,
    log,
  };
}

/** --fractions 0.4,0.5,0.6: each a number in (0, 1), no repeats. */
function parseFractions(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const xs = text.split(',').map((t) => Number(t.trim()));
  const bad = text.split(',').filter((t, i) => t.trim() === '' || !(xs[i]! > 0 && xs[i]! < 1));
  if (bad.length > 0) throw new Error(`--fractions: expected comma-separated fractions between 0 and 1, got '${text}'`);
  if (new Set(xs).size !== xs.length) throw new Error(`--fractions: '${text}' repeats a fraction`);
  return xs;
}

export async function runExperimentCommand(args: ParsedArgs): Promise<void> {
  const names = EXPERIMENTS.map((e) => e.name);
  const name = args.positionals[0];
  if (name === undefined) throw new Error(`experiment: which one? (${names.join(', ')}, or all)`);
  const chosen = name === 'all' ? EXPERIMENTS : EXPERIMENTS.filter((e) => e.name === name);
  if (chosen.length === 0) throw new Error(`experiment: no experiment '${name}' (known: ${names.join(', ')}, all)`);
  if (args.general.fractions !== undefined && chosen.some((e) => e.name !== 'data-fraction')) {
    throw new Error(`experiment: --fractions applies to data-fraction only, not to ${chosen.filter((e) => e.name !== 'data-fraction').map((e) => e.name).join(', ')}`);
  }
  const options = experimentOptions(args, args.general.quiet ? () => {} : (line) => console.log(line));
  try {
    for (const e of chosen) await runExperiment(e, options);
  } catch (e) {
    if (!(e instanceof SweepInterrupted)) throw e;
    console.log(`grok: experiment ${e.message}`); // Ctrl-C: the run in progress is saved; exit as train does
    process.exitCode = 130;
  }
}
