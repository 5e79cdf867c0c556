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

async function waitFor(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`waited ${ms / 1000} s for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
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
    expect([result.reason, result.step]).toEqual(['finished', 60]);
    await waitFor('the failure', () => live.failed); // (on a busy machine the child may end after training)
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^grok: the live report failed at step 5 \(boom: cannot draw\); training goes on without live refreshes/);
    live.onCheckpoint(1000); // refreshes due after a failure start nothing
    live.onCheckpoint(2000);
    await live.close();
    expect(starts()).toBe(1); // of the twelve refreshes due, one started: the others came while it ran, or after it failed
    expect(warnings).toHaveLength(1);
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
    await waitFor('the child to start', () => starts() === 1);
    await live.close(); // the final report's turn: the child is stopped, silently
    expect(starts()).toBe(1); // refreshes due while it ran were skipped, not piled up
    expect(warnings).toEqual([]);

    // With a short timeout the hang is noticed, the child killed, and that said once.
    const short = new LiveReport(path.join(d, 'run'), { everySteps: 5, entry, timeoutMs: 300, warn: (w) => warnings.push(w) });
    short.onCheckpoint(100);
    await waitFor('the timeout', () => short.failed);
    expect(warnings).toEqual(['grok: the live report failed at step 100 (no page after 0.3 s; stopped it); training goes on without live refreshes, and report.html is written when it ends']);
    const started = starts(); // the killed child may or may not have got as far as its first line
    short.onCheckpoint(200);
    short.onCheckpoint(300);
    await new Promise((r) => setTimeout(r, 500));
    await short.close();
    expect(starts()).toBe(started); // nothing started after the failure
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
