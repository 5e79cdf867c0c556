/**
 * The model's configuration, with TransformerLens's field names (HookedTransformerConfig), so a config
 * written here reads the same as one written for TransformerLens.
 *
 * `resolveConfig` fills defaults and validates; every error names the offending field.
 */
import type { DType } from '@grok/autograd';

export type ActFn = 'relu' | 'gelu' | 'gelu_new';
export type NormalizationType = null | 'LN' | 'LNPre';
export type InitMode = 'paper' | 'transformerlens';

export interface TransformerConfig {
  n_layers: number;
  d_model: number;
  n_heads: number;
  d_head: number;
  /** Hidden width of the MLP (ignored when attn_only). */
  d_mlp: number;
  /** Input vocabulary: token ids are in [0, d_vocab). */
  d_vocab: number;
  /** Output classes of the unembedding. */
  d_vocab_out: number;
  /** Longest sequence (rows of W_pos). */
  n_ctx: number;
  /** 'gelu' is the exact erf GELU (torch.nn.functional.gelu); 'gelu_new' is the tanh approximation. */
  act_fn: ActFn;
  /** null: no LayerNorm (the paper); 'LN': LayerNorm with weight and bias; 'LNPre': without them. */
  normalization_type: NormalizationType;
  /** Blocks without MLPs. */
  attn_only: boolean;
  /** Biases b_Q, b_K, b_V, b_O in attention (TransformerLens always has them; the paper has none). */
  attn_bias: boolean;
  /** A bias b_U in the unembedding (TransformerLens always has it; the paper has none). */
  unembed_bias: boolean;
  /** Seed of the initialisation (see init.ts). */
  seed: number;
  /** 'paper': the stds of Nanda et al.; 'transformerlens': normal(0, init_range) for every W_*. */
  init: InitMode;
  /** Std of the 'transformerlens' init. Default 0.8/sqrt(d_model), TransformerLens's default; GPT-2 used 0.02. */
  init_range: number;
  /** dtype of every parameter: 'float32' (training) or 'float64' (gradcheck, exact comparisons). */
  dtype: DType;
}

/** What a caller passes: the sizes are required, the rest has defaults. */
export type TransformerConfigInput = Pick<TransformerConfig, 'n_layers' | 'd_model' | 'd_head' | 'd_vocab' | 'n_ctx'> &
  Partial<TransformerConfig>;

/** The model of the paper (Nanda et al. 2023) for modulus p: tokens a, b and '=' (id p). */
export function paperConfig(p = 113, overrides: Partial<TransformerConfig> = {}): TransformerConfig {
  return resolveConfig({
    n_layers: 1,
    d_model: 128,
    n_heads: 4,
    d_head: 32,
    d_mlp: 512,
    d_vocab: p + 1,
    d_vocab_out: p,
    n_ctx: 3,
    act_fn: 'relu',
    normalization_type: null,
    attn_only: false,
    init: 'paper',
    ...overrides,
  });
}

const FIELDS: readonly (keyof TransformerConfig)[] = [
  'n_layers', 'd_model', 'n_heads', 'd_head', 'd_mlp', 'd_vocab', 'd_vocab_out', 'n_ctx', 'act_fn',
  'normalization_type', 'attn_only', 'attn_bias', 'unembed_bias', 'seed', 'init', 'init_range', 'dtype',
];

/** Fills defaults (TransformerLens's where it has one) and validates every field. */
export function resolveConfig(input: TransformerConfigInput): TransformerConfig {
  const fail = (field: string, why: string, value: unknown): never => {
    throw new Error(`transformer config: ${field} ${why}, got ${JSON.stringify(value) ?? String(value)}`);
  };
  if (typeof input !== 'object' || input === null) fail('(config)', 'must be an object', input);
  for (const key of Object.keys(input)) {
    if (!FIELDS.includes(key as keyof TransformerConfig)) {
      fail(key, `is not a config field (known: ${FIELDS.join(', ')})`, (input as unknown as Record<string, unknown>)[key]);
    }
  }
  const positive = (field: keyof TransformerConfig, value: unknown) => {
    if (!Number.isInteger(value) || (value as number) <= 0) fail(field, 'must be a positive integer', value);
    return value as number;
  };
  const d_model = positive('d_model', input.d_model);
  const d_head = positive('d_head', input.d_head);
  const cfg: TransformerConfig = {
    n_layers: positive('n_layers', input.n_layers),
    d_model,
    n_heads: input.n_heads ?? Math.floor(d_model / d_head), // TransformerLens: d_model // d_head
    d_head,
    d_mlp: input.d_mlp ?? 4 * d_model,
    d_vocab: positive('d_vocab', input.d_vocab),
    d_vocab_out: input.d_vocab_out ?? input.d_vocab,
    n_ctx: positive('n_ctx', input.n_ctx),
    act_fn: input.act_fn ?? 'relu',
    normalization_type: input.normalization_type ?? null,
    attn_only: input.attn_only ?? false,
    attn_bias: input.attn_bias ?? false,
    unembed_bias: input.unembed_bias ?? false,
    seed: input.seed ?? 0,
    init: input.init ?? 'paper',
    init_range: input.init_range ?? 0.8 / Math.sqrt(d_model),
    dtype: input.dtype ?? 'float32',
  };
  positive('n_heads', cfg.n_heads);
  positive('d_mlp', cfg.d_mlp);
  positive('d_vocab_out', cfg.d_vocab_out);
  if (!['relu', 'gelu', 'gelu_new'].includes(cfg.act_fn)) fail('act_fn', "must be 'relu', 'gelu' or 'gelu_new'", cfg.act_fn);
  if (![null, 'LN', 'LNPre'].includes(cfg.normalization_type)) {
    fail('normalization_type', "must be null, 'LN' or 'LNPre'", cfg.normalization_type);
  }
  for (const flag of ['attn_only', 'attn_bias', 'unembed_bias'] as const) {
    if (typeof cfg[flag] !== 'boolean') fail(flag, 'must be a boolean', cfg[flag]);
  }
  if (!Number.isFinite(cfg.seed)) fail('seed', 'must be a finite number', cfg.seed);
  if (!['paper', 'transformerlens'].includes(cfg.init)) fail('init', "must be 'paper' or 'transformerlens'", cfg.init);
  if (!(typeof cfg.init_range === 'number' && cfg.init_range > 0 && Number.isFinite(cfg.init_range))) {
    fail('init_range', 'must be a positive number', cfg.init_range);
  }
  if (cfg.dtype !== 'float32' && cfg.dtype !== 'float64') fail('dtype', "must be 'float32' or 'float64'", cfg.dtype);
  return cfg;
}
