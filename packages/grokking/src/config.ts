/**
 * The configuration of a training run, with the paper's values as defaults, and its validation. Every
 * invalid value is rejected before any work, with a message naming the value and the rule.
 */
import { clip, preview } from '@grok/transformer';
import { isPrime } from './data.js';

export interface GrokfastConfig {
  kind: 'ema' | 'ma';
  /** EMA momentum (ema) — default 0.98. */
  alpha?: number;
  /** Window length (ma) — default 100. */
  window?: number;
  /** Amplification λ of the slow gradient. */
  lambda?: number;
}

export interface RunConfig {
  /** The modulus (prime). */
  p: number;
  /** Fraction of the p² pairs used for training. */
  frac_train: number;
  /** Seed of the split (unless `split` is given) and of the initial weights. */
  seed: number;
  /** A split file `{"p", "train": [[a, b], ...]}` to use instead of a seeded split. */
  split: string | null;
  /** A safetensors checkpoint to start from instead of a fresh init. */
  init: string | null;
  d_model: number;
  n_heads: number;
  d_head: number;
  d_mlp: number;
  n_layers: number;
  act_fn: 'relu' | 'gelu';
  attn_only: boolean;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled (AdamW) weight decay λ on every parameter. */
  weight_decay: number;
  /**
   * How weight_decay acts: 'decoupled' (AdamW's p ← p·(1 − lr·λ), the paper), 'l2' (λ·w added to the gradient),
   * 'l1' (λ·sign(w) added to the gradient) or 'none'.
   */
  decay_kind: 'decoupled' | 'l1' | 'l2' | 'none';
  /** lr · min(t / warmup_steps, 1) for update t = 0, 1, 2, … (0 disables warm-up). */
  warmup_steps: number;
  steps: number;
  checkpoint_every: number;
  log_every: number;
  /** Stop once the test loss has stayed below this for `early_stop_patience` logged steps (null: never). */
  early_stop_loss: number | null;
  early_stop_patience: number;
  /** The dtype of the log-sum-exp and the loss: float64 (the paper) or float32. */
  loss_precision: 'float64' | 'float32';
  /** Compute only what the last position needs (same numbers, about a third of the work). */
  last_position_only: boolean;
  grokfast: GrokfastConfig | null;
  /**
   * Omnigrok-style norm constraint (Liu et al. 2022): after the init and after every update, all parameters
   * are rescaled together so that √(Σ w²) equals this (null: off). Below the init norm it is also a smaller init.
   */
  fixed_norm: number | null;
}

export const PAPER_CONFIG: RunConfig = {
  p: 113,
  frac_train: 0.3,
  seed: 0,
  split: null,
  init: null,
  d_model: 128,
  n_heads: 4,
  d_head: 32,
  d_mlp: 512,
  n_layers: 1,
  act_fn: 'relu',
  attn_only: false,
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.98,
  eps: 1e-8,
  weight_decay: 1.0,
  decay_kind: 'decoupled',
  warmup_steps: 10,
  steps: 40_000,
  checkpoint_every: 100,
  log_every: 10,
  early_stop_loss: null,
  early_stop_patience: 50,
  loss_precision: 'float64',
  last_position_only: true,
  grokfast: null,
  fixed_norm: null,
};

/**
 * The budget of a run: how long it trains and how often it logs and saves. These do not define the run (the
 * model, data and optimizer fields do): a finished run can be extended with a larger `steps`, and the
 * extended run is the same, bit for bit, as one trained that far in one go.
 */
export const BUDGET_FIELDS = ['steps', 'early_stop_loss', 'early_stop_patience', 'log_every', 'checkpoint_every'] as const satisfies readonly (keyof RunConfig)[];

/** Models beyond this many parameters (1 GiB of float32) are refused before anything is allocated. */
export const MAX_PARAMETERS = 2 ** 28;

type Rule = [keyof RunConfig, (v: never, c: RunConfig) => boolean, string];

const positiveInt = (v: number) => Number.isInteger(v) && v > 0;
const fileOrNull = (v: string | null) => v === null || (typeof v === 'string' && v !== '');
const GROKFAST_KEYS = ['kind', 'alpha', 'window', 'lambda'];
const RULES: Rule[] = [
  ['split', fileOrNull, 'must be a file name or null'],
  ['init', fileOrNull, 'must be a file name or null'],
  ['p', (v: number) => v <= 1021 && isPrime(v), 'must be a prime number ≤ 1021'], // the bound first: isPrime(1e300) would never end
  ['frac_train', (v: number) => v > 0 && v < 1, 'must lie strictly between 0 and 1'],
  ['seed', (v: number) => Number.isInteger(v) && v >= 0, 'must be a non-negative integer'],
  ['d_model', positiveInt, 'must be a positive integer'],
  ['n_heads', positiveInt, 'must be a positive integer'],
  ['d_head', positiveInt, 'must be a positive integer'],
  ['d_mlp', positiveInt, 'must be a positive integer'],
  ['n_layers', positiveInt, 'must be a positive integer'],
  ['act_fn', (v: string) => v === 'relu' || v === 'gelu', "must be 'relu' or 'gelu'"],
  ['lr', (v: number) => Number.isFinite(v) && v > 0, 'must be a positive number'],
  ['beta1', (v: number) => v >= 0 && v < 1, 'must lie in [0, 1)'],
  ['beta2', (v: number) => v >= 0 && v < 1, 'must lie in [0, 1)'],
  ['eps', (v: number) => Number.isFinite(v) && v >= 0, 'must be a non-negative number'],
  ['weight_decay', (v: number) => Number.isFinite(v) && v >= 0, 'must be a non-negative number'],
  ['decay_kind', (v: string) => ['decoupled', 'l1', 'l2', 'none'].includes(v), "must be 'decoupled', 'l1', 'l2' or 'none'"],
  ['warmup_steps', (v: number) => Number.isInteger(v) && v >= 0, 'must be a non-negative integer'],
  ['steps', positiveInt, 'must be a positive integer'],
  ['checkpoint_every', positiveInt, 'must be a positive integer'],
  ['log_every', positiveInt, 'must be a positive integer'],
  ['early_stop_loss', (v: number | null) => v === null || (Number.isFinite(v) && v > 0), 'must be a positive number or null'],
  ['early_stop_patience', positiveInt, 'must be a positive integer'],
  ['loss_precision', (v: string) => v === 'float64' || v === 'float32', "must be 'float64' or 'float32'"],
  [
    'grokfast',
    (v: GrokfastConfig | null) =>
      v === null ||
      (typeof v === 'object' &&
        Object.keys(v).every((k) => GROKFAST_KEYS.includes(k)) &&
        (v.kind === 'ema' || v.kind === 'ma') &&
        (v.alpha === undefined || (typeof v.alpha === 'number' && v.alpha >= 0 && v.alpha < 1)) && // typeof: [0] >= 0 is true in JS
        (v.window === undefined || positiveInt(v.window)) &&
        (v.lambda === undefined || (Number.isFinite(v.lambda) && v.lambda >= 0))),
    "must be null or {kind: 'ema'|'ma', alpha in [0,1), window > 0, lambda ≥ 0} (no other keys)",
  ],
  ['fixed_norm', (v: number | null) => v === null || (Number.isFinite(v) && v > 0), 'must be a positive number or null'],
];

/** Merges `overrides` into the paper's config and validates the result (unknown keys are errors). */
export function resolveConfig(overrides: Partial<Record<string, unknown>> = {}): RunConfig {
  for (const key of Object.keys(overrides)) {
    if (!Object.hasOwn(PAPER_CONFIG, key)) throw new Error(`config: unknown option '${clip(key)}' (known: ${Object.keys(PAPER_CONFIG).join(', ')})`);
  }
  const config = { ...PAPER_CONFIG, ...overrides } as RunConfig;
  for (const [key, ok, rule] of RULES) {
    const value = config[key];
    const typeOk = typeof value === typeof PAPER_CONFIG[key] || value === null || PAPER_CONFIG[key] === null;
    if (!typeOk || !ok(value as never, config)) {
      throw new Error(`config: ${key} = ${preview(value)} ${rule}`);
    }
  }
  if (config.n_heads * config.d_head <= 0) throw new Error('config: n_heads · d_head must be positive');
  const n = parameterCount(config);
  if (n > MAX_PARAMETERS) {
    throw new Error(`config: the model would have ${n.toExponential(2)} weights; at most ${MAX_PARAMETERS} (1 GiB of float32) are supported`);
  }
  return config;
}

/** Weights of the model a config describes (the matrices; biases, a few thousand at most, aside). */
export function parameterCount(c: RunConfig): number {
  const embed = (c.p + 1) * c.d_model + 3 * c.d_model; // W_E (the numbers and '='), W_pos
  const attention = 4 * c.n_heads * c.d_head * c.d_model; // W_Q, W_K, W_V, W_O
  const mlp = c.attn_only ? 0 : 2 * c.d_model * c.d_mlp; // W_in, W_out
  return embed + c.n_layers * (attention + mlp) + c.d_model * c.p; // W_U
}
