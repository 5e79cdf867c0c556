/**
 * `pnpm grok experiment NAME [--full] [--p P] [--steps N] [--seeds S] [--dry-run]` (wired into cli.ts).
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
    root: path.join(args.general['runs-dir'] ?? 'runs', 'experiments'),
    full: args.general.full ?? false,
    p: p as number | undefined,
    steps: steps as number | undefined,
    seeds,
    dryRun: args.general['dry-run'] ?? false,
    log,
  };
}

export async function runExperimentCommand(args: ParsedArgs): Promise<void> {
  const names = EXPERIMENTS.map((e) => e.name);
  const name = args.positionals[0];
  if (name === undefined) throw new Error(`experiment: which one? (${names.join(', ')}, or all)`);
  const chosen = name === 'all' ? EXPERIMENTS : EXPERIMENTS.filter((e) => e.name === name);
  if (chosen.length === 0) throw new Error(`experiment: no experiment '${name}' (known: ${names.join(', ')}, all)`);
  const options = experimentOptions(args, args.general.quiet ? () => {} : (line) => console.log(line));
  try {
    for (const e of chosen) await runExperiment(e, options);
  } catch (e) {
    if (!(e instanceof SweepInterrupted)) throw e;
    console.log(`grok: experiment ${e.message}`); // Ctrl-C: the run in progress is saved; exit as train does
    process.exitCode = 130;
  }
}
