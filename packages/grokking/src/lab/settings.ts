/**
 * What the reader chooses in the lab, its defaults, and how URL parameters and the form's fields become a
 * run config. Shared by the page and the training worker; runs in Node too (tests).
 *
 * Two presets. `paper` is the paper's run (PAPER_CONFIG: p = 113, 30 % of the pairs, lr 1e-3, weight decay 1),
 * which groks after about 10,000 steps. `demo`, the default, is there so that a first visit sees grokking
 * within a minute: p = 23, and, since 30 % of 23² is only 158 pairs (with those, the paper's settings still
 * had 11 % test accuracy after 3,790 steps here), 70 % of the pairs and lr 3e-3. Measured with `pnpm grok
 * --p 23 --frac-train 0.7 --lr 3e-3`: train loss < 1e-4 by step 400, test accuracy 65 % at step 100 (the test
 * loss still climbing), 96 % at 800, 98.7 % at 1,460. Everything else is the paper's.
 */
import { PAPER_CONFIG, type RunConfig, resolveConfig } from '../config.js';

export const LAB_BACKENDS = ['wasm', 'webgl2', 'cpu'] as const;
export type LabBackend = (typeof LAB_BACKENDS)[number];

/** What each backend is, in a word, for the backend menu. */
export const BACKEND_LABELS: Record<LabBackend, string> = {
  wasm: 'wasm SIMD (worker threads)',
  webgl2: 'WebGL2 via GPU.js (your GPU)',
  cpu: 'plain JavaScript (reference kernels)',
};

/** The primes offered in the p menu: small ones for a quick demo, and the paper's 113. */
export const LAB_PRIMES = [7, 11, 13, 17, 19, 23, 31, 43, 59, 71, 97, 113] as const;

export interface LabSettings {
  backend: LabBackend;
  /** wasm only: threads of the matmul (null: all cores the browser reports). */
  threads: number | null;
  p: number;
  frac_train: number;
  weight_decay: number;
  lr: number;
  seed: number;
  /** Grokfast's EMA gradient filter (Lee et al. 2024) with its defaults, α = 0.98, λ = 2. */
  grokfast: boolean;
  /** Omnigrok's fixed total weight norm (null: off). */
  fixed_norm: number | null;
  /** The progress measures (restricted/excluded loss, Fourier norms, the neuron) every this many steps. */
  analyse_every: number;
}

/** The paper's run: PAPER_CONFIG's values. */
export const PAPER_SETTINGS: LabSettings = {
  backend: 'wasm',
  threads: null,
  p: PAPER_CONFIG.p,
  frac_train: PAPER_CONFIG.frac_train,
  weight_decay: PAPER_CONFIG.weight_decay,
  lr: PAPER_CONFIG.lr,
  seed: PAPER_CONFIG.seed,
  grokfast: false,
  fixed_norm: null,
  analyse_every: 100,
};

/** The default: the paper's run made small and quick (see above). */
export const DEFAULT_SETTINGS: LabSettings = { ...PAPER_SETTINGS, p: 23, frac_train: 0.7, lr: 3e-3, analyse_every: 50 };

/** A setting the reader gave that cannot be used; `message` says which and why. */
export class LabInputError extends Error {}

/** Every key a URL may carry: the settings' names, plus autorun. */
const KEYS = [...Object.keys(DEFAULT_SETTINGS), 'autorun'];

export interface LabRequest {
  settings: LabSettings;
  /** ?autorun=STEPS: train this many steps on load, then publish the result (null: wait for Start). */
  autorun: number | null;
}

/**
 * Settings from text fields (URL parameters or the form), defaults for what is missing. Throws a
 * LabInputError naming every bad value, so the page can show all of them at once.
 */
export function parseSettings(fields: Iterable<[string, string]>): LabRequest {
  const settings: LabSettings = { ...DEFAULT_SETTINGS };
  const problems: string[] = [];
  let autorun: number | null = null;
  const number = (key: string, text: string, ok: (x: number) => boolean, rule: string): number => {
    const x = Number(text);
    if (text.trim() === '' || !ok(x)) problems.push(`${key} = '${text}' ${rule}`);
    return x;
  };
  const whole = (x: number) => Number.isInteger(x);
  for (const [key, text] of fields) {
    switch (key) {
      case 'backend':
        if ((LAB_BACKENDS as readonly string[]).includes(text)) settings.backend = text as LabBackend;
        else problems.push(`backend = '${text}' is not one of ${LAB_BACKENDS.join(', ')}`);
        break;
      case 'threads':
        settings.threads = text === '' || text === 'auto' ? null : number(key, text, (x) => whole(x) && x >= 1 && x <= 64, 'must be a whole number from 1 to 64 (or auto)');
        break;
      case 'p':
        settings.p = number(key, text, whole, 'must be a prime number');
        break;
      case 'frac_train':
        settings.frac_train = number(key, text, Number.isFinite, 'must be a number');
        break;
      case 'weight_decay':
        settings.weight_decay = number(key, text, Number.isFinite, 'must be a number');
        break;
      case 'lr':
        settings.lr = number(key, text, Number.isFinite, 'must be a number');
        break;
      case 'seed':
        settings.seed = number(key, text, whole, 'must be a whole number');
        break;
      case 'grokfast':
        if (['1', 'true', 'on'].includes(text)) settings.grokfast = true;
        else if (['0', 'false', 'off', ''].includes(text)) settings.grokfast = false;
        else problems.push(`grokfast = '${text}' must be 0 or 1`);
        break;
      case 'fixed_norm':
        settings.fixed_norm = text === '' || text === 'off' ? null : number(key, text, (x) => x > 0, 'must be a positive number (or empty: off)');
        break;
      case 'analyse_every':
        settings.analyse_every = number(key, text, (x) => whole(x) && x >= 1, 'must be a whole number ≥ 1');
        break;
      case 'autorun':
        autorun = number(key, text, (x) => whole(x) && x >= 1, 'must be a whole number of steps ≥ 1');
        break;
      default:
        problems.push(`unknown parameter '${key}' (known: ${KEYS.join(', ')})`);
    }
  }
  if (problems.length === 0) {
    try {
      runConfigOf(settings); // the config's own rules: p prime, 0 < frac_train < 1, lr > 0, …
    } catch (e) {
      problems.push((e as Error).message.replace(/^config: /, ''));
    }
  }
  if (problems.length) throw new LabInputError(problems.join('; '));
  return { settings, autorun };
}

/** The run config of the lab's settings: the paper's, with the reader's choices. */
export function runConfigOf(s: LabSettings): RunConfig {
  return resolveConfig({
    p: s.p,
    frac_train: s.frac_train,
    weight_decay: s.weight_decay,
    lr: s.lr,
    seed: s.seed,
    grokfast: s.grokfast ? { kind: 'ema' } : null,
    fixed_norm: s.fixed_norm,
  });
}

/** The settings as URL parameters (only those that differ from the defaults). */
export function settingsQuery(s: LabSettings): string {
  const out = new URLSearchParams();
  for (const [key, value] of Object.entries(s) as [keyof LabSettings, unknown][]) {
    if (value !== DEFAULT_SETTINGS[key]) out.set(key, value === null ? '' : typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
  }
  return out.toString();
}
