/**
 * Training state on disk. Every `checkpoint_every` steps:
 *   checkpoints/step-NNNNNN.safetensors  the weights (TransformerLens names: any safetensors reader opens
 *                                        them); these are what the analysis reads;
 *   state.safetensors                    the weights plus the optimizer's and gradient filter's state under
 *                                        `optimizer.`, overwritten atomically: a resumed run continues from
 *                                        it bit for bit. Keeping moments only here saves 2/3 of the disk.
 * The run config rides along in the metadata (`extra.run_config`).
 */
import type { AdamW, StateDict } from '@grok/autograd';
import {
  type Checkpoint,
  type HookedTransformer,
  type StateTree,
  loadCheckpoint,
  loadCheckpointInto,
  saveCheckpoint,
} from '@grok/transformer';
import type { RunConfig } from './config.js';
import type { RunDir } from './run-dir.js';

interface Stateful {
  stateDict(): StateDict;
  loadStateDict(sd: StateDict): void;
}

export function saveTrainingState(
  run: RunDir,
  step: number,
  model: HookedTransformer,
  optimizer: AdamW,
  filter: Stateful | null,
  config: RunConfig,
): void {
  // The step's weights (what the analysis reads), then the full state to resume from.
  const extra = { run_config: config };
  saveCheckpoint(run.checkpointPath(step), model, { step, extra });
  const state: StateTree = { adamw: optimizer.stateDict(), filter: filter ? filter.stateDict() : null };
  saveCheckpoint(run.statePath, model, { step, optimizer: state, extra });
}

/**
 * Restores the run's training state (weights, optimizer, gradient filter) and returns its step. Step
 * checkpoints newer than the state are left in place: resuming recomputes them identically.
 */
export function loadTrainingState(run: RunDir, model: HookedTransformer, optimizer: AdamW, filter: Stateful | null): number {
  const file = run.statePath;
  const ckpt: Checkpoint = loadCheckpoint(file);
  loadCheckpointInto(model, ckpt);
  const state = ckpt.optimizer as { adamw?: StateDict; filter?: StateDict | null } | undefined;
  if (!state?.adamw) throw new Error(`${file}: has no optimizer state, so training cannot resume from it exactly`);
  optimizer.loadStateDict(state.adamw);
  if (filter) {
    if (!state.filter) throw new Error(`${file}: has no gradient-filter state but the run uses grokfast`);
    filter.loadStateDict(state.filter);
  }
  return ckpt.step;
}

/** --init FILE: the weights of any compatible checkpoint (ours, or converted from PyTorch). */
export function loadWeightsInto(model: HookedTransformer, file: string): void {
  loadCheckpointInto(model, file);
}
