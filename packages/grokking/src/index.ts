/**
 * @grok/grokking: the grokking experiment of Nanda et al. (2023) — data, training runs, the mechanistic
 * analysis, and the report. The `pnpm grok` command line lives in cli.ts.
 */
export * from './config.js';
export * from './data.js';
export * from './evaluate.js';
export * from './steps-to-grok.js';
export * from './model.js';
export * from './run-dir.js';
export * from './checkpoints.js';
export { train, trainAsync, type TrainOptions, type TrainResult } from './train.js';
export { learningStep, makeLearner, type Learner, type StepOutput } from './learning-step.js';
export { RunLock, RunLockedError, type LockOwner } from './run-lock.js';
export { Progress, formatDuration, type ProgressState } from './progress.js';
export * from './analysis/index.js';
// The lab (`pnpm grok lab`): its bundle and server, for tools that open it (the bench's browser rows).
export { bundleLab, writeLab, type LabFiles } from './lab/build.js';
export { serveLab, type LabServer } from './lab/server.js';
export type { LabResult } from './lab/protocol.js';
