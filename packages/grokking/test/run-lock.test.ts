/**
 * The run lock in one process: taken atomically, refused while held (naming the directory and the pid),
 * released at the end, taken over when its pid is gone, never taken over from another host. Real
 * processes (two writers, kill -9, a reader beside a writer) are in cli-processes.test.ts.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { Progress } from '../src/progress.js';
import { RunDir } from '../src/run-dir.js';
import { RunLock, RunLockedError } from '../src/run-lock.js';
import { train } from '../src/train.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'grok-lock-'));
const silent = new Progress({ isTTY: false, write: () => true } as unknown as NodeJS.WriteStream, Infinity);
const tiny = (over: Record<string, unknown> = {}) =>
  resolveConfig({ p: 11, frac_train: 0.5, d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32, steps: 10, checkpoint_every: 5, log_every: 5, ...over });

/** A pid that certainly belonged to a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

/** Every file under `dir` with its size, mtime and content, to show that nothing changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const file = path.join(dir, f);
    const st = fs.statSync(file);
    out[f] = st.isDirectory() ? `dir ${st.mtimeMs}` : `${st.size} ${st.mtimeMs} ${fs.readFileSync(file).toString('base64')}`;
  }
  out['.'] = String(fs.statSync(dir).mtimeMs);
  return out;
}

describe('RunLock', () => {
  it('holds pid and host, refuses a second holder naming the directory and pid, and is gone after release', () => {
    const dir = path.join(tmp(), 'run');
    const lock = RunLock.acquire(dir);
    const owner = JSON.parse(fs.readFileSync(path.join(dir, 'lock'), 'utf8'));
    expect(owner).toMatchObject({ pid: process.pid, host: os.hostname() });
    expect(lock.tookOverFrom).toBeNull();
    let error: unknown;
    try {
      RunLock.acquire(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RunLockedError);
    expect((error as Error).message).toContain(`run ${dir} is locked by pid ${process.pid}`);
    lock.release();
    expect(fs.existsSync(path.join(dir, 'lock'))).toBe(false);
    expect(fs.readdirSync(path.dirname(dir))).toEqual(['run']); // no temp file left beside the run
    RunLock.acquire(dir).release(); // free again
  });

  it('takes over a stale lock (its pid is gone) and says whose it was', () => {
    const dir = tmp();
    const pid = deadPid();
    fs.writeFileSync(path.join(dir, 'lock'), JSON.stringify({ pid, host: os.hostname(), started: 'then', command: 'killed' }));
    const lock = RunLock.acquire(dir);
    expect(lock.tookOverFrom?.pid).toBe(pid);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'lock'), 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(fs.readdirSync(dir)).toEqual([]); // the stale file and its renamed copy are gone
  });

  it('never takes over a lock of another host, nor an unreadable one', () => {
    const dir = tmp();
    const file = path.join(dir, 'lock');
    fs.writeFileSync(file, JSON.stringify({ pid: deadPid(), host: 'elsewhere', started: 'now', command: 'grok' }));
    expect(() => RunLock.acquire(dir)).toThrow(/locked by pid \d+: process \d+ on host elsewhere.*if it no longer runs on elsewhere, delete/);
    fs.writeFileSync(file, '{"pid": "x"');
    expect(() => RunLock.acquire(dir)).toThrow(/cannot be read\. If no training runs there, delete/);
  });

  it('a release does not remove a lock that is no longer its own', () => {
    const dir = tmp();
    const lock = RunLock.acquire(dir);
    const other = JSON.stringify({ pid: 1, host: os.hostname(), started: 'later', command: 'someone else' });
    fs.writeFileSync(path.join(dir, 'lock'), other); // as if it had been broken and re-taken
    lock.release();
    expect(fs.readFileSync(path.join(dir, 'lock'), 'utf8')).toBe(other);
  });
});

describe('training takes the lock', () => {
  it('refuses to train into a locked run and changes nothing there', () => {
    const dir = path.join(tmp(), 'run');
    train({ dir, config: tiny(), progress: silent, handleSignals: false, stopAfter: 5 });
    const lock = RunLock.acquire(dir); // another writer
    const before = snapshot(dir);
    expect(() => train({ dir, config: tiny(), progress: silent, handleSignals: false })).toThrow(`run ${dir} is locked by pid ${process.pid}`);
    expect(snapshot(dir)).toEqual(before);
    lock.release();
    expect(train({ dir, config: tiny(), progress: silent, handleSignals: false }).step).toBe(10);
    expect(fs.existsSync(new RunDir(dir).lockPath)).toBe(false); // released when training ended
  });

  it('releases the lock when training fails', () => {
    const dir = path.join(tmp(), 'run');
    train({ dir, config: tiny(), progress: silent, handleSignals: false });
    expect(() => train({ dir, config: tiny({ lr: 0.5 }), progress: silent, handleSignals: false })).toThrow(/different config/);
    expect(fs.existsSync(new RunDir(dir).lockPath)).toBe(false);
  });
});
