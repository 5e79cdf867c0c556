/**
 * Child process of the cli suite: the training loop of `pnpm grok` (trainAsync, the paper's config: metrics
 * and the test-set evaluation every 10 steps, checkpoints every 100) for `--steps` steps in a fresh temporary
 * run directory. Prints one JSON line: steps, seconds, steps per second, and the minutes 40,000 steps would
 * take at that rate; then removes the directory. The time includes capturing the compiled step.
 *
 *   node benchmarks/dist/cli-child.js --steps 300
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enableRelaxedSimd, startThreads } from '@grok/tensor';
import { PAPER_CONFIG, Progress, trainAsync } from '@grok/grokking';

enableRelaxedSimd(); // as `pnpm grok`
await startThreads();

const i = process.argv.indexOf('--steps');
const steps = i >= 0 ? Number(process.argv[i + 1]) : 300;
const dir = mkdtempSync(join(tmpdir(), 'grok-bench-cli-'));
try {
  const t0 = performance.now();
  const result = await trainAsync({
    dir: join(dir, 'run'),
    config: { ...PAPER_CONFIG, steps },
    progress: new Progress(process.stderr, 60),
    handleSignals: false,
  });
  const seconds = (performance.now() - t0) / 1000;
  const stepsPerSecond = result.step / seconds;
  console.log(JSON.stringify({ steps: result.step, seconds, stepsPerSecond, etaMinutes: 40_000 / stepsPerSecond / 60 }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0); // the matmul thread pool must not keep the process alive
