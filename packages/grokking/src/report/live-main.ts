/**
 * The process LiveReport starts: `node live-main.js DIR` writes DIR/report.html with the auto-refresh
 * on. It exits explicitly, so nothing left behind (timers, worker threads) can keep it alive.
 */
import { writeRunReport } from './run-report.js';

const dir = process.argv[2];
if (!dir) {
  console.error('live-main: which run?');
  process.exit(2);
}
try {
  await writeRunReport(dir, { live: true });
  process.exit(0);
} catch (e) {
  console.error(`live report: ${(e as Error).message}`);
  process.exit(1);
}
