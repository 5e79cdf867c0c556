/**
 * One checkpoint file, opened for `analyze --checkpoint FILE` and `eval FILE`: ours (model config and run config
 * in its metadata) or any safetensors file with TransformerLens names and no metadata at all, e.g. one converted
 * from PyTorch or TransformerLens (see the README for the few lines of Python that convert the original's).
 *
 * The model config is read off the tensors (configFromStateDict in @grok/transformer), checked against the
 * metadata's config where there is one and against the model options given (--p, --d-mlp, --act-fn, …).
 * p: the inputs are a, b and '=' (token id p), so d_vocab = p + 1; the unembedding scores p classes (ours, the
 * TransformerLens demo) or p + 1 (the original also scores '=').
 *
 * The split: --split FILE; else the run config in the metadata; else our seeded split for p with the paper's
 * frac_train 0.3 and seed 0. That last one is not the split of a model trained elsewhere, and the log says so.
 */
import * as fs from 'node:fs';
import { type Checkpoint, HookedTransformer, type TransformerConfig, configFromStateDict, loadCheckpoint, loadCheckpointInto } from '@grok/transformer';
import { type ParsedArgs, kebab } from './args.js';
import { PAPER_CONFIG, type RunConfig, resolveConfig } from './config.js';
import { type Split, isPrime, loadSplit, makeSplit } from './data.js';

/** The run-config options that describe a model: the only ones that apply to a checkpoint file (with --split). */
export const MODEL_OPTIONS = ['p', 'd_model', 'n_heads', 'd_head', 'd_mlp', 'n_layers', 'act_fn', 'attn_only'] as const;
export type ModelOptions = Partial<Pick<RunConfig, (typeof MODEL_OPTIONS)[number]>>;

/** The paper's split file, for the hint when a checkpoint brings no split of its own. */
export const PAPER_SPLIT_FILE = '../shared/reference/original_split_p113_seed0.json';

/**
 * The config options given that describe the checkpoint's model (--p, --d-mlp, …), and --split; any other
 * config option is an error. `command` names the caller in it.
 */
export function checkpointOptions(args: ParsedArgs, command: string): { split: string | undefined; model: ModelOptions } {
  const model: Record<string, unknown> = {};
  const other: string[] = [];
  for (const [key, value] of Object.entries(args.overrides)) {
    if ((MODEL_OPTIONS as readonly string[]).includes(key)) model[key] = value;
    else if (key !== 'split') other.push(key);
  }
  if (other.length > 0) {
    throw new Error(
      `${command}: ${other.map((k) => `--${kebab(k)}`).join(', ')} ${other.length === 1 ? 'does' : 'do'} not apply to a checkpoint file: only --split FILE and ` +
        `the model's ${MODEL_OPTIONS.map((k) => `--${kebab(k)}`).join(', ')} do (checked against its tensors, or used where they cannot tell)`,
    );
  }
  const split = args.overrides.split;
  if (split !== undefined && typeof split !== 'string') throw new Error(`${command}: --split needs a file`);
  return { split, model: model as ModelOptions };
}

export interface OpenOptions {
  /** A split file `{"p", "train": [[a, b], …]}` (--split). */
  split?: string;
  /** Model options (--p, --d-mlp, …): checked against the tensors, or used where the tensors cannot tell. */
  model?: ModelOptions;
  /** Says where the config and the split came from (default: nowhere). */
  log?: (line: string) => void;
  /** The command, for errors: 'analyze' or 'eval'. */
  command?: string;
}

export interface OpenedCheckpoint {
  file: string;
  checkpoint: Checkpoint;
  model: HookedTransformer;
  config: TransformerConfig;
  p: number;
  /** The step in the metadata; null when the file does not say. */
  step: number | null;
  split: Split;
  /** Where the split came from, in words. */
  splitFrom: string;
}

export function openCheckpoint(file: string, options: OpenOptions = {}): OpenedCheckpoint {
  const command = options.command ?? 'analyze';
  const log = options.log ?? (() => {});
  const fail = (why: string): never => {
    throw new Error(`${command}: ${why}`);
  };
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) fail(`no checkpoint file ${file}`);
  const checkpoint = loadCheckpoint(file);
  const given = options.model ?? {};

  // The metadata's config (ours has one) is a given like the options; the two must not disagree.
  const meta = checkpoint.config;
  if (meta !== undefined && (typeof meta !== 'object' || meta === null || Array.isArray(meta))) fail(`${file}: its metadata 'config' is not a JSON object`);
  const metaConfig = (meta ?? {}) as Record<string, unknown>;
  for (const [field, value] of Object.entries(given)) {
    if (Object.hasOwn(metaConfig, field) && metaConfig[field] !== value) {
      fail(`--${kebab(field)} ${JSON.stringify(value)} contradicts the config in ${file}'s metadata (${field} ${JSON.stringify(metaConfig[field])})`);
    }
  }
  const { p: givenP, ...modelGiven } = given;
  let config: TransformerConfig;
  try {
    config = configFromStateDict(checkpoint.tensors, {
      given: { ...metaConfig, ...modelGiven } as Partial<TransformerConfig>,
      nameGiven: (field) => (Object.hasOwn(modelGiven, field) ? `--${kebab(field)}` : `the metadata config's ${field}`),
      source: file,
    });
  } catch (e) {
    return fail((e as Error).message);
  }
  log(`${command}: ${file}: model config ${meta === undefined ? 'read off the tensors (no config in the metadata)' : 'from the metadata, checked against the tensors'}: ${describe(config)}`);

  const p = modulusOf(config, givenP, (why) => fail(`${file}: ${why}`));
  const model = new HookedTransformer(config);
  loadCheckpointInto(model, checkpoint);
  const { split, from, isDefault } = splitOf(file, p, checkpoint.extra?.['run_config'], options.split, fail);
  log(`${command}: split: ${from} (${split.train.length} train / ${split.test.length} test pairs)`);
  if (isDefault) {
    log(`${command}: a model trained elsewhere was trained on its own split: pass it with --split FILE (the paper's: ${PAPER_SPLIT_FILE})`);
  }
  return { file, checkpoint, model, config, p, step: checkpoint.metadata.step === undefined ? null : checkpoint.step, split, splitFrom: from };
}

/** p of a model of a + b mod p, from its vocabulary; `givenP` (--p) must agree. */
function modulusOf(cfg: TransformerConfig, givenP: number | undefined, fail: (why: string) => never): number {
  const p = cfg.d_vocab - 1; // the numbers 0 … p − 1 and '='
  const vocab = `embed.W_E is [${cfg.d_vocab}, ${cfg.d_model}]: d_vocab ${cfg.d_vocab} = p + 1 (the numbers and '=') makes p = ${p}`;
  if (givenP !== undefined && givenP !== p) fail(`--p ${givenP} contradicts the tensors: ${vocab}`);
  if (cfg.d_vocab_out !== p && cfg.d_vocab_out !== p + 1) {
    fail(`unembed.W_U is [${cfg.d_model}, ${cfg.d_vocab_out}]: ${cfg.d_vocab_out} output classes, but ${vocab}; a model of a + b mod p has p classes (or p + 1, as the original)`);
  }
  if (!isPrime(p)) fail(`${vocab}, which is not prime`);
  if (cfg.n_ctx < 3) fail(`pos_embed.W_pos is [${cfg.n_ctx}, ${cfg.d_model}]: n_ctx ${cfg.n_ctx} cannot hold the 3 tokens [a, b, =]`);
  return p;
}

/** The split: --split FILE, else the run config in the metadata, else the default for p (the paper's frac_train and seed). */
function splitOf(
  file: string,
  p: number,
  runConfig: unknown,
  splitFile: string | undefined,
  fail: (why: string) => never,
): { split: Split; from: string; isDefault: boolean } {
  let split: Split;
  let from: string;
  let isDefault = false;
  if (splitFile) {
    split = loadSplit(splitFile, p, `${file} is a model for p =`);
    from = `--split ${splitFile}`;
  } else if (runConfig && typeof runConfig === 'object') {
    let config: RunConfig;
    try {
      config = resolveConfig(runConfig as Record<string, unknown>);
    } catch (e) {
      return fail(`${file}: its run config is invalid (${(e as Error).message}); pass --split FILE`);
    }
    split = makeSplit(config);
    from = `the run config in the metadata (${config.split ? `split file ${config.split}` : `frac_train ${config.frac_train}, seed ${config.seed}`})`;
  } else {
    const { frac_train, seed } = PAPER_CONFIG;
    split = makeSplit({ p, frac_train, seed, split: null });
    from = `the default split for p = ${p} (no run config in the metadata): frac_train ${frac_train}, seed ${seed}, made by makeSplit`;
    isDefault = true;
  }
  if (split.p !== p) fail(`the split is for p = ${split.p} but ${file} is a model for p = ${p} (d_vocab ${p + 1})`);
  return { split, from, isDefault };
}

/** The config's sizes on one line. */
function describe(c: TransformerConfig): string {
  const parts = [
    `n_layers ${c.n_layers}`, `d_model ${c.d_model}`, `n_heads ${c.n_heads}`, `d_head ${c.d_head}`,
    c.attn_only ? 'attn_only' : `d_mlp ${c.d_mlp}`, `d_vocab ${c.d_vocab}`, `d_vocab_out ${c.d_vocab_out}`, `n_ctx ${c.n_ctx}`,
    `act_fn ${c.act_fn}`, `normalization ${c.normalization_type ?? 'none'}`, `attn_bias ${c.attn_bias}`, `unembed_bias ${c.unembed_bias}`, c.dtype,
  ];
  return parts.join(', ');
}
