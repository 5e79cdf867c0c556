/**
 * Where training starts. A run with saved state resumes from it, bit for bit: state.safetensors holds the
 * weights, AdamW's moments and the gradient filter's state. Metric rows from that step on are dropped (they
 * are logged again), which also repairs a last line cut off by a kill. A new run starts from the --init
 * weights, else the seeded init, and saves them as step 0.
 *
 * A changed budget (a larger `steps`, another cadence) is recorded in config.json here, once the state has
 * shown that the run can go on: a run is never shortened below the step it has reached.
 */
import * as fs from 'node:fs';
import type { RunConfig } from './config.js';
import { loadTrainingState, loadWeightsInto, saveTrainingState } from './checkpoints.js';
import { type Learner, fixNorm } from './learning-step.js';
import type { MetricsRow, RunDir, Warn } from './run-dir.js';

export interface Start {
  step: number;
  /** The rows logged before `step` (early stopping counts them). */
  earlier: MetricsRow[];
}

export function startTraining(run: RunDir, l: Learner, budgetChanges: readonly string[], log: Warn): Start {
  const { config } = l;
  if (fs.existsSync(run.statePath)) {
    const step = loadTrainingState(run, l.model, l.optimizer, l.filter);
    if (step > config.steps) {
      throw new Error(
        `run ${run.dir} has reached step ${step}, past steps = ${config.steps}: a run is never shortened ` +
          `(its checkpoints up to step ${config.steps} are in ${run.checkpointDir})`,
      );
    }
    recordBudget(run, config, budgetChanges, log);
    run.truncateMetrics(step, log);
    log(`resuming ${run.dir} from step ${step}`);
    return { step, earlier: run.readMetrics(log) };
  }
  recordBudget(run, config, budgetChanges, log);
  run.truncateMetrics(0, log); // a run killed before its first checkpoint may have logged rows already
  if (config.init) loadWeightsInto(l.model, config.init);
  fixNorm(config, l.params); // a fixed norm below the init norm also makes the init smaller
  try {
    saveTrainingState(run, 0, l.model, l.optimizer, l.filter, config);
  } catch (e) {
    throw new Error(`run ${run.dir}: the checkpoint of step 0 could not be written (${(e as Error).message}); nothing was trained yet`);
  }
  return { step: 0, earlier: [] };
}

/** Writes the new budget into config.json, saying what changed. */
function recordBudget(run: RunDir, config: RunConfig, changes: readonly string[], log: Warn): void {
  if (changes.length === 0) return;
  const before = run.readConfig() as unknown as Record<string, unknown>;
  const after = config as unknown as Record<string, unknown>;
  log(`run ${run.dir}: budget changed (${changes.map((k) => `${k} ${JSON.stringify(before[k])} → ${JSON.stringify(after[k])}`).join(', ')})`);
  run.writeConfig(config);
}
