/**
 * The live report cannot stop training: its child process runs beside training, and one that fails or hangs
 * is reported once, after which no more refreshes start. The children here are stand-ins written by the
 * test (one that fails, one that never ends), each appending to a marker file when it starts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { Progress } from '../src/progress.js';
import { LiveReport } from '../src/report/live-report.js';
import { trainAsync } from '../src/train.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'grok-live-'));
const silent = new Progress({ isTTY: false, write: () => true } as unknown as NodeJS.WriteStream, Infinity);
const tiny = (over: Record<string, unknown> = {}) =>
  resolveConfig({ p: 13, frac_train: 0.5, d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32, steps: 60, checkpoint_every: 5, log_every: 5, ...over });

/** A stand-in for live-main.js: records that it started, then runs `body`. */
function child(dir: string, body: string): { entry: string; starts: () => number } {
  const marker = path.join(dir, 'starts');
  const entry = path.join(dir, 'child.mjs');
  fs.writeFileSync(entry, `import * as fs from 'node:fs';\nfs.appendFileSync(${JSON.stringify(marker)}, 'x');\n${body}\n`);
  return { entry, starts: () => (fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8').length : 0) };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('live report', () => {
  it('a child that fails: training goes on to the end, the failure is said once, and no more children start', async () => {
    const d = tmp();
    const { entry, starts } = child(d, `process.stderr.write('boom: cannot draw'); process.exit(1);`);
    const warnings: string[] = [];
    const live = new LiveReport(path.join(d, 'run'), { everySteps: 5, entry, warn: (w) => warnings.push(w) });
    const result = await trainAsync({ dir: path.join(d, 'run'), config: tiny(), progress: silent, handleSignals: false, onCheckpoint: live.onCheckpoint });
    await live.close();
    expect([result.reason, result.step]).toEqual(['finished', 60]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^grok: the live report failed at step \d+ \(boom: cannot draw\); training goes on without live refreshes/);
    expect(live.failed).toBe(true);
    expect(starts()).toBe(1); // eleven refreshes were due after the failure; none started
  });

  it('a child that hangs never holds training up; after timeoutMs it is killed and said once', async () => {
    const d = tmp();
    const { entry, starts } = child(d, `process.stdout.write(String(process.pid)); setInterval(() => {}, 1000);`);
    // Training beside a child that would hang for ever (timeout 10 min): it runs to the end without waiting.
    const warnings: string[] = [];
    const live = new LiveReport(path.join(d, 'run'), { everySteps: 5, entry, timeoutMs: 600_000, warn: (w) => warnings.push(w) });
    const t0 = performance.now();
    const result = await trainAsync({ dir: path.join(d, 'run'), config: tiny(), progress: silent, handleSignals: false, onCheckpoint: live.onCheckpoint });
    expect(result.step).toBe(60);
    expect(performance.now() - t0).toBeLessThan(30_000);
    expect(starts()).toBe(1); // refreshes due while it ran were skipped, not piled up
    await live.close(); // the final report's turn: the child is stopped, silently
    expect(warnings).toEqual([]);

    // With a short timeout the hang is noticed, the child killed, and that said once.
    const short = new LiveReport(path.join(d, 'run'), { everySteps: 5, entry, timeoutMs: 300, warn: (w) => warnings.push(w) });
    short.onCheckpoint(100);
    await new Promise((r) => setTimeout(r, 1500));
    expect(warnings).toEqual(['grok: the live report failed at step 100 (no page after 0.3 s; stopped it); training goes on without live refreshes, and report.html is written when it ends']);
    short.onCheckpoint(200);
    short.onCheckpoint(300);
    await short.close();
    expect(starts()).toBe(2);
    expect(warnings).toHaveLength(1);
  });

  it('close() leaves no child behind', async () => {
    const d = tmp();
    const pidFile = path.join(d, 'pid');
    const { entry } = child(d, `fs.writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000);`);
    const live = new LiveReport(d, { everySteps: 1, entry });
    live.onCheckpoint(1);
    while (!fs.existsSync(pidFile) || fs.readFileSync(pidFile, 'utf8') === '') await new Promise((r) => setTimeout(r, 20));
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    expect(alive(pid)).toBe(true);
    await live.close();
    expect(alive(pid)).toBe(false);
  });
});
