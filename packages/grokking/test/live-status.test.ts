/**
 * What the training's progress line shows of the live report: the phase so far (the analysis's rule on the
 * losses logged up to now) and the newest checkpoint's key frequencies, read from live-status.json. The
 * progress line itself stays one line: on a TTY it is cut to the terminal's width.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { phaseAt, phasesSoFar } from '../src/live/phase-so-far.js';
import { type LiveStatus, formatLiveStatus, liveStatusOf, readLiveStatus, writeLiveStatus } from '../src/live/status.js';
import { Progress, type ProgressState } from '../src/progress.js';
import type { MetricsRow } from '../src/run-dir.js';

/** Metrics rows from [step, train loss, test loss]. */
const metrics = (rows: [number, number, number][]): MetricsRow[] =>
  rows.map(([step, train_loss, test_loss]) => ({ step, train_loss, test_loss, train_acc: 0, test_acc: 0, weight_norm: 1, lr: 1e-3, step_ms: 1 }));

describe('the phase so far', () => {
  // p = 7: grokked once the test loss is below 0.1·ln 7 ≈ 0.195. The train loss starts at 2, so the training set
  // is fitted once it is below 0.02 (step 10). The test loss peaks at 6 (step 20).
  const run = metrics([[0, 2, 2], [10, 0.01, 5], [20, 0.001, 6], [30, 0.001, 6], [40, 0.001, 0.001], [50, 0.001, 0.0005]]);
  const now = (upTo: number) => {
    const rows = run.filter((r) => r.step <= upTo);
    return phaseAt(phasesSoFar(rows, 7), rows.at(-1)!.step);
  };

  it('follows the rule on the rows logged so far', () => {
    expect(now(0)).toBe('memorisation'); // the training set is not fitted yet
    expect(now(20)).toBe('memorisation'); // the test loss is at its peak now
    expect(now(30)).toBe('circuit formation'); // past the peak, no fall yet
    // At 40 the test loss has fallen all the way to the floor so far: cleanup starts and reaches its end at once.
    expect(now(40)).toBe('cleanup');
    // At 50 the floor is 5e-4; cleanup's end (log10 fallen 90 % of the way: 10^(log10 6 − 0.9·4.08) ≈ 1.3e-3) was step 40.
    expect(now(50)).toBe('grokked');
  });
});

describe('live-status.json', () => {
  const status: LiveStatus = { step: 1200, keyFrequencies: [14, 35, 41, 52], phase: 'circuit formation', phaseStep: 1250, measured: 13, checkpoints: 13 };

  it('is written atomically and read back; anything else reads as no status', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grok-live-status-'));
    const file = path.join(dir, 'live-status.json');
    expect(readLiveStatus(file)).toBeNull(); // none yet
    writeLiveStatus(file, status);
    expect(readLiveStatus(file)).toEqual(status);
    expect(fs.readdirSync(dir)).toEqual(['live-status.json']); // no temp file left
    fs.writeFileSync(file, '{"step": 1200, "phase": "halfway"');
    expect(readLiveStatus(file)).toBeNull();
    fs.writeFileSync(file, JSON.stringify({ ...status, phase: 'halfway' }));
    expect(readLiveStatus(file)).toBeNull();
  });

  it('says the phase and the newest key frequencies in a few words', () => {
    expect(formatLiveStatus(status)).toBe('phase: circuit formation | keys 14 35 41 52');
    expect(formatLiveStatus({ ...status, keyFrequencies: [], phase: 'memorisation' })).toBe('phase: memorisation | keys none');
  });

  it('comes from the newest measured row, whatever order the rows were measured in', () => {
    const rows = [{ step: 300, keyFrequencies: [1, 4] }, { step: 0, keyFrequencies: [] }, { step: 100, keyFrequencies: [1] }];
    expect(liveStatusOf(rows, 4, { name: 'memorisation', step: 310 })).toEqual({
      step: 300, keyFrequencies: [1, 4], phase: 'memorisation', phaseStep: 310, measured: 3, checkpoints: 4,
    });
    expect(liveStatusOf([], 4, { name: 'memorisation', step: 310 })).toBeNull();
    expect(liveStatusOf(rows, 4, null)).toBeNull();
  });
});

describe('the progress line', () => {
  const state: ProgressState = { step: 1250, total: 40000, trainLoss: 0.0012, testLoss: 3.4567, trainAcc: 1, testAcc: 0.123, stepsPerSecond: 12.5 };
  const recorder = (tty: boolean, columns?: number) => {
    const out: string[] = [];
    const stream = { isTTY: tty, columns, write: (s: string) => (out.push(s), true) } as unknown as NodeJS.WriteStream;
    return { progress: new Progress(stream, 0), out };
  };

  it('ends with the note once there is one, in plain lines and on a TTY', () => {
    const plain = recorder(false);
    plain.progress.update(state);
    plain.progress.setNote('phase: circuit formation | keys 14 35 41 52');
    plain.progress.update(state);
    expect(plain.out[0]).toBe('step 1250/40000 train 0.0012 (100.0%) test 3.4567 (12.3%) 12.5 steps/s ETA 51m40s\n');
    expect(plain.out[1]).toBe('step 1250/40000 train 0.0012 (100.0%) test 3.4567 (12.3%) 12.5 steps/s ETA 51m40s | phase: circuit formation | keys 14 35 41 52\n');

    const tty = recorder(true, 200);
    tty.progress.setNote('phase: cleanup | keys 1 4');
    tty.progress.update(state);
    expect(tty.out[0]).toMatch(/^\r█*░+ 1250\/40000 train .* ETA 51m40s \| phase: cleanup \| keys 1 4\x1b\[K$/);
    expect(tty.out[0]).toContain('░'.repeat(23)); // the bar has its 24 cells: 1250/40000 of them filled (one)
  });

  it('never wraps on a TTY: the bar gives way first, then the end is cut', () => {
    const visible = (s: string) => s.replace(/^\r/, '').replace(/\x1b\[K$/, '');
    const narrow = recorder(true, 80);
    narrow.progress.setNote('phase: circuit formation | keys 14 35 41 52');
    narrow.progress.update(state);
    const line = visible(narrow.out[0]!);
    expect(line.length).toBeLessThan(80);
    expect(line.startsWith('1250/40000 train')).toBe(true); // no room for a bar
    expect(line.endsWith('…')).toBe(true);
  });
});
