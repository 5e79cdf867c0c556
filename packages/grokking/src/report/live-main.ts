/**
 * The process LiveReport starts: `node live-main.js DIR [SECONDS]` measures the checkpoints of DIR not yet in
 * live-measures.jsonl for at most SECONDS (default 40; src/live/refresh.ts), writes live-status.json for the
 * training's progress line, then DIR/report.html with the auto-refresh on. It exits explicitly, so nothing left
 * behind (timers, worker threads) can keep it alive.
 */
import { refreshLiveMeasures } from '../live/refresh.js';
import { phaseAt, phasesSoFar } from '../live/phase-so-far.js';
import { liveStatusOf, writeLiveStatus } from '../live/status.js';
import { RunDir } from '../run-dir.js';
import { writeRunReport } from './run-report.js';

const [dir, secondsArg] = process.argv.slice(2);
if (!dir) {
  console.error('live-main: which run?');
  process.exit(2);
}
const maxSeconds = secondsArg === undefined ? 40 : Number(secondsArg);
if (!(maxSeconds >= 0)) {
  console.error(`live-main: SECONDS must be a number ≥ 0, got '${secondsArg}'`);
  process.exit(2);
}
try {
  const run = new RunDir(dir);
  const refresh = refreshLiveMeasures(dir, { maxSeconds });
  const metrics = run.readMetrics(() => {}); // a cut-off last line is normal here: training is appending
  const last = metrics.at(-1);
  const phase = last ? { name: phaseAt(phasesSoFar(metrics, run.readConfig().p), last.step), step: last.step } : null;
  const status = liveStatusOf(refresh.rows, refresh.checkpoints.length, phase);
  if (status) writeLiveStatus(run.liveStatusPath, status);
  await writeRunReport(dir, { live: true });
  process.exit(0);
} catch (e) {
  console.error(`live report: ${(e as Error).message}`);
  process.exit(1);
}
