#!/usr/bin/env node
/**
 * `pnpm grok`: the paper's experiment end to end. With no arguments it trains the paper's config in
 * runs/paper-seed0 (resuming if that run exists with the same config), then analyses and reports when
 * those stages are available. See `pnpm grok --help`.
 */
import * as path from 'node:path';
import { enableRelaxedSimd } from '@grok/autograd';
import { type ParsedArgs, configFrom, helpText, parseCommandLine } from './args.js';
import { Progress, formatDuration } from './progress.js';
import { RunDir } from './run-dir.js';
import { RunLock } from './run-lock.js';
import { selectBackend } from './select-backend.js';
import { trainAsync } from './train.js';
import { runAnalyze, runAnalyzeAfterTraining } from './analysis/cli-analyze.js';
import { runEval } from './cli-eval.js';
import { runReport, runReportAfterTraining } from './report/cli-report.js';
import { LiveReport } from './report/live-report.js';
import { formatLiveStatus } from './live/status.js';
import { runExperimentCommand } from './experiments/cli-experiment.js';
import { runLab } from './lab/cli-lab.js';

async function runTrain(args: ParsedArgs): Promise<void> {
  const runsDir = args.general['runs-dir'] ?? 'runs';
  let dir: string;
  let config;
  if (args.general.resume) {
    dir = args.general.resume;
    const run = new RunDir(dir);
    if (!run.exists()) throw new Error(`--resume ${dir}: no run there (config.json is missing)`);
    // Options given with --resume may change the budget (--steps 60000 extends a finished run); any other
    // difference from the run's config is refused by RunDir.init.
    config = configFrom({ ...args, overrides: { ...run.readConfig(), ...args.overrides } });
  } else {
    config = configFrom(args);
    dir = path.join(runsDir, args.general.name ?? `paper-seed${config.seed}`);
  }
  // One writer per run: held through training, the analysis and the final report (exit 2 if another has it).
  const lock = RunLock.acquire(dir);
  const progress = new Progress();
  const quietProgress = args.general.quiet ? new Progress({ isTTY: false, write: () => true } as unknown as NodeJS.WriteStream, Infinity) : progress;
  // The report is rewritten every 500 steps while training runs (open report.html to watch), with the progress
  // measures of the new checkpoints; the progress line shows the phase and key frequencies it found.
  const live = new LiveReport(dir, { warn: (line) => progress.log(line), onStatus: (s) => quietProgress.setNote(formatLiveStatus(s)) });
  try {
    if (lock.tookOverFrom) progress.log(`grok: ${dir}: took over the stale lock of pid ${lock.tookOverFrom.pid} (that process is gone)`);
    progress.log(`grok: training in ${dir} (p=${config.p}, frac_train=${config.frac_train}, seed=${config.seed}, ${config.steps} steps)`);
    const started = performance.now();
    const result = await trainAsync({ dir, config, progress: quietProgress, onCheckpoint: live.onCheckpoint, lock });
    await live.close(); // a refresh still running must not overwrite the final report
    const seconds = (performance.now() - started) / 1000;
    progress.log(`grok: ${result.reason} at step ${result.step} after ${formatDuration(seconds)}; run in ${dir}`);
    if (result.reason === 'finished' || result.reason === 'early-stop') runAnalyzeAfterTraining(dir, args);
    await runReportAfterTraining(dir); // the final report: no auto-refresh
    if (result.reason === 'interrupted') {
      progress.log(`grok: continue with: pnpm grok train --resume ${dir}`);
      process.exitCode = 130;
    }
  } finally {
    await live.close();
    lock.release();
  }
}

async function main(argv: string[]): Promise<void> {
  const args = parseCommandLine(argv);
  if (args.general.help || args.command === 'help') {
    console.log(helpText());
    return;
  }
  selectBackend(args.general);
  switch (args.command) {
    case 'train':
      await runTrain(args);
      break;
    case 'analyze':
      runAnalyze(args);
      break;
    case 'report':
      await runReport(args);
      break;
    case 'eval':
      runEval(args);
      break;
    case 'experiment':
      await runExperimentCommand(args);
      break;
    case 'lab':
      await runLab(args);
      break;
    default:
      throw new Error(`unknown command '${args.command}' (see pnpm grok --help)`);
  }
}

enableRelaxedSimd(); // the matmul's FMA, before the first matmul (see @grok/tensor's relaxed-simd.ts)
try {
  await main(process.argv.slice(2));
} catch (e) {
  console.error(`grok: ${(e as Error).message}`);
  process.exitCode = 2;
}
