/**
 * The live report cannot stop training: its child process runs beside training, and one that fails or hangs
 * is reported once, after which no more refreshes start. The children here are stand-ins written by the
 * test (one that fails, one that never ends, one that writes a status), each appending to a marker file when
 * it starts; the last test runs the real child (the built live-main.js) beside training.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { LiveMeasuresFile } from '../src/live/measures-file.js';
import { type LiveStatus, formatLiveStatus } from '../src/live/status.js';
import { Progress } from '../src/progress.js';
import { LiveReport } from '../src/report/live-report.js';
import { RunDir } from '../src/run-dir.js';
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

  it('a child that hangs never holds training up; after timeoutMs it is killed, said once and retried; the third in a row ends the refreshes', async () => {
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

    // With a short timeout the hang is noticed, the child killed and that said once; the next refresh tries
    // again, and the third slow one in a row ends the live refreshes.
    const short = new LiveReport(path.join(d, 'run'), { everySteps: 5, entry, timeoutMs: 300, warn: (w) => warnings.push(w) });
    short.onCheckpoint(100);
    await waitFor('the first timeout', () => warnings.length === 1);
    expect(warnings).toEqual(['grok: the live report was slow at step 100 (no page after 0.3 s; stopped it: the machine is busy); the next refresh tries again']);
    expect(short.failed).toBe(false);
    await new Promise((r) => setTimeout(r, 100)); // the killed child's exit is noticed
    short.onCheckpoint(200);
    await new Promise((r) => setTimeout(r, 700));
    expect(warnings).toHaveLength(1); // said once
    short.onCheckpoint(300);
    await waitFor('the third timeout', () => short.failed);
    expect(warnings[1]).toBe(
      'grok: the live report failed at step 300 (no page after 0.3 s; stopped it, the 3rd time in a row); training goes on without live refreshes, and report.html is written when it ends',
    );
    await new Promise((r) => setTimeout(r, 100));
    const started = starts();
    short.onCheckpoint(400);
    await new Promise((r) => setTimeout(r, 500));
    await short.close();
    expect(starts()).toBe(started); // nothing started after the failure
    expect(warnings).toHaveLength(2);
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

describe('live report: progress measures', () => {
  it("hands the child's live-status.json to onStatus when the child has exited, and nothing when it failed", async () => {
    const d = tmp();
    const status: LiveStatus = { step: 40, keyFrequencies: [3, 5], phase: 'cleanup', phaseStep: 45, measured: 9, checkpoints: 9 };
    const run = new RunDir(path.join(d, 'run'));
    fs.mkdirSync(run.dir);
    const { entry } = child(d, `fs.writeFileSync(${JSON.stringify(run.liveStatusPath)}, ${JSON.stringify(JSON.stringify(status))});`);
    const statuses: LiveStatus[] = [];
    const live = new LiveReport(run.dir, { everySteps: 1, entry, onStatus: (s) => statuses.push(s) });
    live.onCheckpoint(1);
    await waitFor('the status', () => statuses.length === 1);
    expect(statuses).toEqual([status]);

    const failing = child(d, `fs.writeFileSync(${JSON.stringify(run.liveStatusPath)}, '{}'); process.exit(1);`);
    const warnings: string[] = [];
    const broken = new LiveReport(run.dir, { everySteps: 1, entry: failing.entry, warn: (w) => warnings.push(w), onStatus: (s) => statuses.push(s) });
    broken.onCheckpoint(1);
    await waitFor('the failure', () => broken.failed);
    expect(statuses).toHaveLength(1);
  });

  describe('the real child', () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const entry = path.join(root, 'packages/grokking/dist/report/live-main.js');
    beforeAll(() => {
      const r = spawnSync('pnpm', ['exec', 'tsc', '-b'], { cwd: root, encoding: 'utf8', timeout: 180_000 });
      if (r.status !== 0) throw new Error(`tsc -b failed: ${r.stdout}${r.stderr}`);
    }, 200_000);

    it('measures beside training without holding it up; the progress line then shows its phase and keys', async () => {
      const d = tmp();
      const dir = path.join(d, 'run');
      const lines: string[] = [];
      const progress = new Progress({ isTTY: false, write: (s: string) => (lines.push(s), true) } as unknown as NodeJS.WriteStream, 0);
      const statuses: LiveStatus[] = [];
      const warnings: string[] = [];
      const live = new LiveReport(dir, {
        everySteps: 20,
        warn: (w) => warnings.push(w),
        entry,
        onStatus: (s) => {
          statuses.push(s);
          progress.setNote(formatLiveStatus(s));
        },
      });
      const checkpointMs: number[] = [];
      const onCheckpoint = (step: number) => {
        const t0 = performance.now();
        live.onCheckpoint(step);
        checkpointMs.push(performance.now() - t0);
      };
      const config = tiny({ p: 11, steps: 120, checkpoint_every: 10, log_every: 10 });
      const result = await trainAsync({ dir, config, progress, handleSignals: false, onCheckpoint });
      expect([result.reason, result.step]).toEqual(['finished', 120]);
      await waitFor('a refresh to finish', () => statuses.length > 0 || live.failed, 90_000); // on a busy machine, after training
      await live.close();
      expect(warnings).toEqual([]);
      // Starting a refresh is all training does: a spawn, a few milliseconds.
      expect(Math.max(...checkpointMs)).toBeLessThan(250);

      // The status is the cache's: its newest row's step and key frequencies.
      const status = statuses.at(-1)!;
      const rows = new LiveMeasuresFile(new RunDir(dir).liveMeasuresPath).read().rows;
      const newest = rows.at(-1)!;
      expect(status.step).toBe(newest.step);
      expect(status.keyFrequencies).toEqual(newest.keyFrequencies);
      expect(status.measured).toBe(rows.length);
      progress.update({ step: 120, total: 120, trainLoss: 0.5, testLoss: 2, trainAcc: 1, testAcc: 0.1, stepsPerSecond: 50 });
      expect(lines.at(-1)).toContain(`| phase: ${status.phase} | keys ${newest.keyFrequencies.join(' ') || 'none'}\n`);
      expect(fs.readFileSync(path.join(dir, 'report.html'), 'utf8')).toContain('Live progress measures');
    }, 150_000);
  });
});
