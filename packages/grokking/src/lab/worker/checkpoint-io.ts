/**
 * The lab's checkpoints: the current weights as the bytes of a safetensors file that `pnpm grok analyze
 * --checkpoint` opens (the model config in the metadata, the run config under extra.run_config, as the
 * training loop's checkpoints.ts writes them), and a dropped file's bytes back into a model and its split.
 */
import { type HookedTransformer, checkpointBytes, modelFromCheckpoint, parseCheckpoint } from '@grok/transformer';
import { type RunConfig, resolveConfig } from '../../config.js';
import { type Split, randomSplit } from '../../data.js';

export function checkpointFile(model: HookedTransformer, step: number, config: RunConfig): { name: string; bytes: Uint8Array } {
  const name = `lab-p${config.p}-seed${config.seed}-step${String(step).padStart(6, '0')}.safetensors`;
  return { name, bytes: checkpointBytes(model, { step, extra: { run_config: config } }, name) };
}

export interface OpenedCheckpoint {
  model: HookedTransformer;
  split: Split;
  step: number;
  /** What the reader should know about the split (null: it is the run's own). */
  note: string | null;
}

/** Opens a dropped checkpoint; every failure is an error that names the file and says what is wrong. */
export function openCheckpoint(name: string, bytes: Uint8Array): OpenedCheckpoint {
  let model: HookedTransformer;
  let checkpoint;
  try {
    checkpoint = parseCheckpoint(bytes, name);
    model = modelFromCheckpoint(checkpoint);
  } catch (e) {
    throw new Error(`${name} is not a checkpoint the lab can open: ${(e as Error).message}`);
  }
  const p = model.cfg.d_vocab - 1;
  if (p < 2 || model.cfg.n_ctx < 3 || model.cfg.d_vocab_out < p) {
    throw new Error(`${name}: a model with d_vocab ${model.cfg.d_vocab}, d_vocab_out ${model.cfg.d_vocab_out} and n_ctx ${model.cfg.n_ctx} is not one of modular addition ([a, b, =] → (a + b) mod p)`);
  }
  const runConfig = checkpoint.extra?.['run_config'];
  let config: RunConfig | null = null;
  try {
    if (runConfig && typeof runConfig === 'object') config = resolveConfig(runConfig as Record<string, unknown>);
  } catch {
    config = null;
  }
  if (config && config.p === p && config.split === null) {
    return { model, split: randomSplit(p, config.frac_train, config.seed), step: checkpoint.step, note: null };
  }
  // A converted PyTorch checkpoint, or one trained on a split file: the split cannot be rebuilt here.
  const why = !config ? 'it carries no run config' : config.split ? `its run used the split file ${config.split}, which a page cannot read` : `its run config is for p = ${config.p}`;
  return {
    model,
    split: randomSplit(p, 0.3, 0),
    step: checkpoint.step,
    note: `${why}, so train/test are the seeded split of seed 0 with 30 % training pairs (the losses over all pairs do not depend on it)`,
  };
}
