/**
 * The settings every experiment starts from, and the options that scale it up.
 *
 * The paper's model (p = 113, d_model 128, 40k steps) trains at a few steps per second on the 2-core
 * machine this was written on, so a sweep of ten runs would take a day. The default is a smaller model
 * found by trying (see the README's Experiments section): p = 47, d_model 64, lr 3·10⁻³, weight decay 1,
 * 50 % of the pairs, up to 8,000 steps (≈ 38 ms a step here). It groks within a few thousand steps
 * (40 % of the pairs: 3,940), so each experiment's default budget fits in under an hour. `--full` switches to the paper's config (and its 40k steps); `--p`, `--steps` and
 * `--seeds` change one thing at a time.
 */
import { PAPER_CONFIG, type RunConfig, resolveConfig } from '../config.js';

export interface ExperimentOptions {
  /** Where experiments live: <root>/<experiment>/<run>/ (default runs/experiments). */
  root: string;
  /** The paper-size version: p = 113, d_model 128, 40k steps, 2+ seeds. */
  full: boolean;
  p?: number;
  steps?: number;
  seeds?: number;
  /** The data fractions of the data-fraction experiment (default its own list). */
  fractions?: number[];
  /** Print the runs and their configs, run nothing. */
  dryRun: boolean;
  log: (line: string) => void;
}

/** The small model that groks quickly here (the default of every experiment). */
export const SMALL: Partial<RunConfig> = {
  p: 47,
  frac_train: 0.5,
  d_model: 64,
  n_heads: 4,
  d_head: 16,
  d_mlp: 128,
  lr: 3e-3,
  weight_decay: 1,
  steps: 8000,
  checkpoint_every: 100,
  log_every: 20,
};

/**
 * Stop a run once it has grokked for good: test loss below 5·10⁻³ (half the steps-to-grok threshold) for 10
 * logged steps in a row. At the default size the test loss of a grokked run levels off near 2·10⁻³, so a
 * lower threshold would never stop it.
 */
export const STOP_WHEN_GROKKED = { early_stop_loss: 5e-3, early_stop_patience: 10 } as const;

/** How many seeds an experiment runs unless --seeds says otherwise. */
export function seedsOf(o: ExperimentOptions, fallback: number): number[] {
  const n = o.seeds ?? fallback;
  return Array.from({ length: n }, (_, i) => i);
}

/**
 * The base config of an experiment: the small model (or the paper's with --full), then --p and --steps,
 * then the experiment's own changes. Checkpoints every 1 % of the run keep the analysis affordable.
 */
export function baseConfig(o: ExperimentOptions, changes: Partial<RunConfig> = {}): RunConfig {
  const base: Partial<RunConfig> = o.full ? { steps: PAPER_CONFIG.steps, checkpoint_every: 400, log_every: 20 } : { ...SMALL };
  if (o.p !== undefined) base.p = o.p;
  if (o.steps !== undefined) {
    base.steps = o.steps;
    base.checkpoint_every = Math.max(1, Math.round(o.steps / 100));
    base.log_every = Math.max(1, Math.min(base.log_every ?? 20, Math.round(o.steps / 100)));
  }
  return resolveConfig({ ...base, ...changes } as Record<string, unknown>);
}

/**
 * A one-line description of the settings, for the report. The fields an experiment varies are left out
 * (its own sentence says how they vary), so the line never names the first run's value as if it held for all.
 */
export function describeSettings(c: RunConfig, varies: readonly ('d_model' | 'weight_decay' | 'frac_train')[] = []): string {
  const parts = [
    `p = ${c.p}`,
    varies.includes('d_model') ? null : `d_model ${c.d_model}, ${c.n_heads} heads of ${c.d_head}`,
    `d_mlp ${c.d_mlp}`,
    `lr ${c.lr}`,
    varies.includes('weight_decay') ? null : `weight decay ${c.weight_decay}`,
    varies.includes('frac_train') ? null : `${Math.round(100 * c.frac_train)} % of the pairs for training`,
    `up to ${c.steps.toLocaleString('en-US')} steps`,
  ];
  return parts.filter((x) => x !== null).join(', ');
}
