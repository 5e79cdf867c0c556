/**
 * Child process of the memory suite: trains the paper model (PAPER_CONFIG: p = 113, 3,830 examples, last
 * position, float64 loss, metrics every 10 steps, checkpoints every 100) for `--steps` steps with
 * @grok/grokking's train() in a fresh temporary run directory, then prints one JSON line with its peak RSS
 * (process.resourceUsage().maxRSS, which counts the worker threads too) and removes the directory.
 *
 *   node benchmarks/dist/memory-child.js --steps 200
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enableRelaxedSimd } from '@grok/autograd';
import { PAPER_CONFIG, Progress, train } from '@grok/grokking';

enableRelaxedSimd(); // as `pnpm grok`

const i = process.argv.indexOf('--steps');
const steps = i >= 0 ? Number(process.argv[i + 1]) : 200;
const dir = mkdtempSync(join(tmpdir(), 'grok-bench-memory-'));
try {
  const t0 = performance.now();
  const result = train({
    dir: join(dir, 'run'),
    config: { ...PAPER_CONFIG, steps },
    progress: new Progress(process.stderr, 60),
    handleSignals: false,
  });
  const seconds = (performance.now() - t0) / 1000;
  const usage = process.resourceUsage();
  const memory = process.memoryUsage();
  console.log(
    JSON.stringify({
      steps: result.step,
      seconds,
      maxRssMB: usage.maxRSS / 1024, // maxRSS is in KiB
      rssEndMB: memory.rss / 2 ** 20,
      heapUsedMB: memory.heapUsed / 2 ** 20,
      externalMB: memory.external / 2 ** 20,
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0); // the matmul thread pool must not keep the process alive
