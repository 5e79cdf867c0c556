/**
 * Command-line options. Every field of RunConfig is an option of the same name in kebab case
 * (`frac_train` → `--frac-train`), so the CLI can never drift from the config. Values may also come from a
 * JSON file (`--config FILE`); options given on the command line win.
 */
import { parseArgs } from 'node:util';
import { PAPER_CONFIG, type RunConfig, resolveConfig } from './config.js';
import { readJsonFile } from './json-file.js';

export const kebab = (key: string) => key.replace(/_/g, '-');

/** CLI options that are not config fields. */
const GENERAL = {
  name: { type: 'string' },
  'runs-dir': { type: 'string' },
  config: { type: 'string' },
  resume: { type: 'string' },
  backend: { type: 'string' },
  'gpujs-mode': { type: 'string' },
  threads: { type: 'string' },
  step: { type: 'string' },
  checkpoint: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  // `experiment` (src/experiments/): the paper-size version, the number of seeds, and print-the-plan-only.
  full: { type: 'boolean' },
  seeds: { type: 'string' },
  fractions: { type: 'string' },
  'dry-run': { type: 'boolean' },
  // `lab`: serve on this port / interface, or write a static site into this directory.
  port: { type: 'string' },
  host: { type: 'string' },
  build: { type: 'string' },
} as const;

/** Options derived from the config: booleans are flags (with a --no- form), the rest take a value. */
function configOptions(): Record<string, { type: 'string' | 'boolean' }> {
  const out: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const [key, value] of Object.entries(PAPER_CONFIG)) {
    if (key === 'grokfast') continue; // spelled out below
    if (typeof value === 'boolean') {
      out[kebab(key)] = { type: 'boolean' };
      out[`no-${kebab(key)}`] = { type: 'boolean' };
    } else out[kebab(key)] = { type: 'string' };
  }
  out['grokfast'] = { type: 'string' };
  out['grokfast-alpha'] = { type: 'string' };
  out['grokfast-lambda'] = { type: 'string' };
  out['grokfast-window'] = { type: 'string' };
  return out;
}

export interface ParsedArgs {
  command: string;
  positionals: string[];
  general: { [K in keyof typeof GENERAL]?: (typeof GENERAL)[K]['type'] extends 'boolean' ? boolean : string };
  /** Config fields given on the command line or in --config, not yet merged with defaults. */
  overrides: Partial<Record<keyof RunConfig, unknown>>;
}

function parseNumber(option: string, text: string): number {
  const x = Number(text);
  if (text.trim() === '' || Number.isNaN(x)) throw new Error(`--${option}: expected a number, got '${text}'`);
  return x;
}

/** The commands, with how many positional arguments each takes (analyze DIR, report DIR, eval FILE, experiment NAME). */
const COMMANDS = { train: 0, analyze: 1, report: 1, eval: 1, experiment: 1, lab: 0, help: 0 } as const;

export function parseCommandLine(argv: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...GENERAL, ...configOptions() }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new Error(`${(e as Error).message.replace(/\. To specify a positional.*$/s, '')} (see --help)`);
  }
  const positionals = parsed.positionals;
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const first = positionals[0];
  // A stray word must never start the paper's 40,000-step training: `pnpm grok eval x` is an error, not `train`.
  if (first !== undefined && !(first in COMMANDS)) {
    const hint = first === 'analyse' ? " (the command is spelled 'analyze')" : '';
    throw new Error(`unknown command '${first}'${hint}; the commands are ${Object.keys(COMMANDS).join(', ')} (see --help)`);
  }
  const command = first ?? 'train';
  const rest = positionals.slice(1);
  const most = COMMANDS[command as keyof typeof COMMANDS];
  if (rest.length > most) {
    const expected = most === 0 ? 'no other arguments' : 'one argument';
    throw new Error(`${command} takes ${expected}, got '${rest.slice(most).join(' ')}' too (see --help)`);
  }

  const overrides: Partial<Record<keyof RunConfig, unknown>> = {};
  const general: Record<string, unknown> = {};
  if (typeof values['config'] === 'string') Object.assign(overrides, readConfigFile(values['config']));
  for (const [option, value] of Object.entries(values)) {
    if (option in GENERAL) {
      general[option] = value;
      continue;
    }
    if (option.startsWith('grokfast')) continue;
    const negated = option.startsWith('no-');
    const key = (negated ? option.slice(3) : option).replace(/-/g, '_') as keyof RunConfig;
    const fallback = PAPER_CONFIG[key];
    if (typeof fallback === 'boolean') overrides[key] = !negated;
    else if (typeof fallback === 'number' || key === 'early_stop_loss' || key === 'fixed_norm') {
      overrides[key] = value === 'null' ? null : parseNumber(option, value as string);
    } else overrides[key] = value === 'null' ? null : value;
  }
  if (typeof values['grokfast'] === 'string') {
    const kind = values['grokfast'];
    if (kind !== 'ema' && kind !== 'ma' && kind !== 'none') throw new Error(`--grokfast: expected 'ema', 'ma' or 'none', got '${kind}'`);
    const num = (o: string) => (typeof values[o] === 'string' ? parseNumber(o, values[o] as string) : undefined);
    overrides.grokfast =
      kind === 'none' ? null : { kind, alpha: num('grokfast-alpha'), lambda: num('grokfast-lambda'), window: num('grokfast-window') };
  }
  return { command, positionals: rest, general: general as ParsedArgs['general'], overrides };
}

/** Config files hold a few dozen fields; anything near this size is not one. */
const MAX_CONFIG_BYTES = 2 ** 20;

/** Reads and validates a --config file on its own, so that its errors name it. */
function readConfigFile(file: string): Record<string, unknown> {
  const json = readJsonFile(file, '--config', MAX_CONFIG_BYTES);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`--config ${file}: expected a JSON object`);
  try {
    resolveConfig(json as Record<string, unknown>);
  } catch (e) {
    throw new Error(`--config ${file}: ${(e as Error).message.replace(/^config: /, '')}`);
  }
  return json as Record<string, unknown>;
}

/** The run config: defaults ← overrides, validated. */
export function configFrom(args: ParsedArgs): RunConfig {
  return resolveConfig(args.overrides as Record<string, unknown>);
}

export function helpText(): string {
  const lines = Object.entries(PAPER_CONFIG).map(([key, value]) => {
    const flag = `--${kebab(key)}`;
    return `  ${flag.padEnd(26)} default ${JSON.stringify(value)}`;
  });
  return `Usage: pnpm grok [train|analyze|report|eval|experiment|lab] [options]

  pnpm grok                       train the paper's model in runs/paper-seed0, then analyse and report
  pnpm grok train --resume DIR    continue an interrupted run (with --steps N: extend a finished one)
  pnpm grok analyze DIR           the mechanistic analysis of a run's checkpoints
  pnpm grok analyze --checkpoint FILE [--split FILE] [--json]
                                  one safetensors file, ours or converted (TransformerLens names, no metadata
                                  needed: the config is read off its tensors; --p, --d-model, --n-heads,
                                  --d-head, --d-mlp, --n-layers, --act-fn, --attn-only are checked against them)
  pnpm grok report DIR            write DIR/report.html
  pnpm grok eval FILE             loss and accuracy of one checkpoint on its train/test/all pairs
                                  (opened as analyze --checkpoint does; --split FILE, --json: one JSON object
                                  on the last line)
  pnpm grok experiment NAME       an experiment beyond the paper (weight-decay, data-fraction, grokfast, distill,
                                  double-descent, phases, all) in runs/experiments/NAME; --full (paper size),
                                  --p P, --steps N, --seeds S, --dry-run (print the runs and exit);
                                  data-fraction: --fractions 0.4,0.5,0.6 (default 0.2,…,0.6)
  pnpm grok lab                   serve the lab on http://127.0.0.1:8113/ (--port N, --host H): train the model live
                                  in the browser (wasm threads, WebGL2 or plain JS) and watch the circuit form;
                                  --build DIR writes it as a static site instead

General options:
  --name NAME                run directory name under --runs-dir (default: paper-seed<seed>)
  --runs-dir DIR             where runs live (default: runs)
  --config FILE              read config values from a JSON file (command-line options win)
  --backend cpu|gpujs        kernel backend (also GROK_BACKEND); --gpujs-mode MODE (also GROK_GPUJS_MODE)
  --threads N                worker threads of the cpu backend (also GROK_THREADS)
  --quiet                    no progress output
  -h, --help                 this text

Config options (the paper's values are the defaults):
${lines.join('\n')}
  --grokfast ema|ma|none     gradient filter (Lee et al. 2024), with --grokfast-alpha, --grokfast-lambda, --grokfast-window
`;
}
