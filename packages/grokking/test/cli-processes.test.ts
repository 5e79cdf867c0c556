/**
 * Run directories against real processes of the built CLI: one writer per run (a second train, resume or
 * experiment exits 2 naming the directory and the pid, and changes nothing), a stale lock left by kill -9 is
 * taken over, analyze and report work beside a writer, a finished run is extended with --resume --steps, a
 * failed checkpoint write exits non-zero and resumes from the last good checkpoint, and Ctrl-C in an
 * experiment stops cleanly (exit 130) and the same command resumes it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '@grok/transformer';
import { parseCommandLine } from '../src/args.js';
import { experimentOptions } from '../src/experiments/cli-experiment.js';
import { weightDecay } from '../src/experiments/weight-decay.js';
import { RunDir } from '../src/run-dir.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = path.join(root, 'packages/grokking/dist/cli.js');
const failWrites = pathToFileURL(fileURLToPath(new URL('./fixtures/fail-writes.mjs', import.meta.url))).href;
const env = { ...process.env };
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'grok-cli-'));
const TINY = ['--p', '13', '--frac-train', '0.5', '--d-model', '16', '--n-heads', '2', '--d-head', '8', '--d-mlp', '32', '--log-every', '10'];

beforeAll(() => {
  const r = spawnSync('pnpm', ['exec', 'tsc', '-b'], { cwd: root, encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) throw new Error(`tsc -b failed: ${r.stdout}${r.stderr}`);
}, 200_000);

interface Running {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

function start(args: string[], nodeArgs: string[] = []): Running {
  const child = spawn(process.execPath, [...nodeArgs, cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => (out += b));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exit };
}

const grok = (args: string[], nodeArgs: string[] = [], extraEnv: Record<string, string> = {}) =>
  spawnSync(process.execPath, [...nodeArgs, cli, ...args], { env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 120_000 });

async function waitFor(what: string, ok: () => boolean, running?: Running, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`waited ${ms / 1000} s for ${what}${running ? `:\n${running.output()}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const trainingUnderWay = (dir: string) => () => new RunDir(dir).checkpointSteps().some((s) => s > 0);

/** Every file under `dir` (and the directory itself) with size, mtime and content: "nothing changed". */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = { '.': String(fs.statSync(dir).mtimeMs) };
  for (const f of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const st = fs.statSync(path.join(dir, f));
    out[f] = st.isDirectory() ? `dir ${st.mtimeMs}` : `${st.size} ${st.mtimeMs} ${fs.readFileSync(path.join(dir, f)).toString('base64')}`;
  }
  return out;
}

/** Runs `fn` with the process stopped (SIGSTOP), so that it writes nothing meanwhile. */
async function whileStopped<T>(r: Running, fn: () => T): Promise<T> {
  r.child.kill('SIGSTOP');
  await new Promise((res) => setTimeout(res, 100));
  try {
    return fn();
  } finally {
    r.child.kill('SIGCONT');
  }
}

describe('one writer per run directory', () => {
  it('a second train or --resume exits 2 naming the directory and pid and changes nothing; analyze, report and eval work beside the writer', async () => {
    const runs = tmp();
    const dir = path.join(runs, 'r');
    const writer = start([...TINY, '--steps', '100000', '--checkpoint-every', '50', '--runs-dir', runs, '--name', 'r']);
    try {
      await waitFor('a checkpoint', trainingUnderWay(dir), writer);
      await whileStopped(writer, () => {
        const before = snapshot(dir);
        const besideBefore = fs.readdirSync(runs);
        for (const args of [['train', '--resume', dir], [...TINY, '--steps', '100000', '--checkpoint-every', '50', '--runs-dir', runs, '--name', 'r']]) {
          const second = grok(args);
          expect(second.status, second.stdout + second.stderr).toBe(2);
          expect(second.stderr).toContain(`grok: run ${dir} is locked by pid ${writer.child.pid}: process ${writer.child.pid} has been training there since`);
        }
        expect(snapshot(dir)).toEqual(before);
        expect(fs.readdirSync(runs)).toEqual(besideBefore); // no temp file left beside it either
      });

      // Readers beside the running writer.
      const analyze = grok(['analyze', dir, '--quiet']);
      expect(analyze.status, analyze.stderr).toBe(0);
      expect(fs.existsSync(path.join(dir, 'analysis.json'))).toBe(true);
      const report = grok(['report', dir, '--quiet']);
      expect(report.status, report.stderr).toBe(0);
      expect(fs.readFileSync(path.join(dir, 'report.html'), 'utf8')).toContain('<svg');
      const ckpt = new RunDir(dir).checkpointPath(50);
      const evaluated = grok(['eval', ckpt, '--json']);
      expect(evaluated.status, evaluated.stderr).toBe(0);
      const scores = JSON.parse(evaluated.stdout.trim().split('\n').at(-1)!);
      expect(scores.step).toBe(50);
      for (const part of ['train', 'test', 'all']) {
        expect(scores[part].loss).toBeGreaterThan(0);
        expect(scores[part].accuracy).toBeGreaterThanOrEqual(0);
        expect(scores[part].accuracy).toBeLessThanOrEqual(1);
      }

      writer.child.kill('SIGINT');
      expect(await writer.exit, writer.output()).toBe(130);
      expect(fs.existsSync(path.join(dir, 'lock'))).toBe(false); // released on exit
    } finally {
      writer.child.kill('SIGKILL');
    }
  }, 120_000);

  it('a lock left by kill -9 is stale: the next --resume takes it over and says so', async () => {
    const runs = tmp();
    const dir = path.join(runs, 'r');
    const killed = start([...TINY, '--steps', '100000', '--checkpoint-every', '50', '--runs-dir', runs, '--name', 'r']);
    await waitFor('a checkpoint', trainingUnderWay(dir), killed);
    killed.child.kill('SIGKILL');
    await killed.exit;
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'lock'), 'utf8')).pid).toBe(killed.child.pid); // left behind

    const next = start(['train', '--resume', dir]);
    try {
      await waitFor('the resume', () => /resuming .* from step \d+/.test(next.output()), next);
      expect(next.output()).toContain(`took over the stale lock of pid ${killed.child.pid} (that process is gone)`);
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'lock'), 'utf8')).pid).toBe(next.child.pid);
      next.child.kill('SIGINT');
      expect(await next.exit, next.output()).toBe(130);
      expect(fs.existsSync(path.join(dir, 'lock'))).toBe(false);
    } finally {
      next.child.kill('SIGKILL');
    }
  }, 120_000);

  it('an experiment whose run directory is locked exits 2 naming it and the pid, and changes nothing there', async () => {
    const runs = tmp();
    const argv = ['experiment', 'weight-decay', '--p', '11', '--steps', '20', '--seeds', '1', '--runs-dir', runs];
    const first = weightDecay.plan(experimentOptions(parseCommandLine(argv), () => {}))[0]!.dir;
    // Another process holds the lock of the experiment's first run.
    const lockModule = pathToFileURL(path.join(root, 'packages/grokking/dist/run-lock.js')).href;
    const holder = spawn(process.execPath, ['--input-type=module', '-e', `import { RunLock } from ${JSON.stringify(lockModule)}; RunLock.acquire(${JSON.stringify(first)}); console.log('locked'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let said = '';
      holder.stdout!.on('data', (b) => (said += b));
      await waitFor('the holder', () => said.includes('locked'));
      const before = snapshot(first);
      const r = grok(argv);
      expect(r.status, r.stdout + r.stderr).toBe(2);
      expect(r.stderr).toContain(`grok: run ${first} is locked by pid ${holder.pid}`);
      expect(snapshot(first)).toEqual(before);
    } finally {
      holder.kill('SIGKILL');
    }
  }, 60_000);
});

describe('runs are extended, and survive a failed checkpoint write', () => {
  it('train --resume DIR --steps N continues a finished run', () => {
    const runs = tmp();
    const dir = path.join(runs, 'r');
    const first = grok([...TINY, '--steps', '30', '--checkpoint-every', '10', '--runs-dir', runs, '--name', 'r']);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain('finished at step 30');
    const more = grok(['train', '--resume', dir, '--steps', '60']);
    expect(more.status, more.stderr).toBe(0);
    expect(more.stdout).toContain(`run ${dir}: budget changed (steps 30 → 60)`);
    expect(more.stdout).toContain(`resuming ${dir} from step 30`);
    expect(more.stdout).toContain('finished at step 60');
    expect(new RunDir(dir).readMetrics().map((r) => r.step).at(-1)).toBe(60);
    // A field that defines the run still may not change.
    const other = grok(['train', '--resume', dir, '--steps', '90', '--lr', '0.01']);
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/different config \(lr: run has 0\.001, options give 0\.01\)/);
  }, 120_000);

  it('a disk full during a checkpoint: exit 2 with a clear error, state of the last good checkpoint kept, resume from it', () => {
    const runs = tmp();
    const dir = path.join(runs, 'r');
    const args = [...TINY, '--steps', '30', '--checkpoint-every', '10', '--runs-dir', runs, '--name', 'r'];
    // state.safetensors is written at steps 0, 10, 20: the third write fails after half its bytes.
    const failed = grok(args, ['--import', failWrites], { GROK_FAIL_WRITE: String.raw`\.state\.safetensors\.\d+\.\w+\.tmp$@3` });
    expect(failed.status, failed.stdout + failed.stderr).toBe(2);
    expect(failed.stderr).toContain(`grok: checkpoint of step 20 in ${dir} could not be written (ENOSPC: no space left on device, write). Training stopped; the checkpoint of step 10`);
    const run = new RunDir(dir);
    expect(loadCheckpoint(run.statePath).step).toBe(10);
    expect(fs.existsSync(run.lockPath)).toBe(false);
    const again = grok(['train', '--resume', dir]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain(`resuming ${dir} from step 10`);
    expect(again.stdout).toContain('finished at step 30');
  }, 120_000);
});

describe('Ctrl-C in an experiment', () => {
  it('stops the run in progress after a step, saves it there, exits 130; the same command resumes it', async () => {
    const runs = tmp();
    const argv = ['experiment', 'weight-decay', '--p', '11', '--steps', '20000', '--seeds', '1', '--runs-dir', runs];
    const dir = weightDecay.plan(experimentOptions(parseCommandLine(argv), () => {}))[0]!.dir;
    const first = start(argv);
    try {
      await waitFor('a checkpoint', trainingUnderWay(dir), first);
      first.child.kill('SIGINT');
      expect(await first.exit, first.output()).toBe(130);
    } finally {
      first.child.kill('SIGKILL');
    }
    const stopped = /stopped \(interrupted\) at step (\d+); run the same command again to resume/.exec(first.output());
    expect(stopped, first.output()).not.toBeNull();
    expect(first.output()).toContain('grok: experiment interrupted during');
    const step = Number(stopped![1]);
    const run = new RunDir(dir);
    expect(run.checkpointSteps()).toContain(step); // saved where it stopped
    expect(loadCheckpoint(run.statePath).step).toBe(step);
    expect(fs.existsSync(path.join(dir, 'done.json'))).toBe(false);
    expect(fs.existsSync(run.lockPath)).toBe(false);

    const second = start(argv);
    try {
      await waitFor('the resume', () => second.output().includes(`resuming in ${dir}`) && run.checkpointSteps().some((s) => s > step), second);
      second.child.kill('SIGINT');
      expect(await second.exit, second.output()).toBe(130);
    } finally {
      second.child.kill('SIGKILL');
    }
    const steps = run.readMetrics().map((r) => r.step);
    expect(steps.every((s, i) => i === 0 || s > steps[i - 1]!)).toBe(true); // resumed, not restarted: no row twice
    expect(steps.at(-1)!).toBeGreaterThan(step);
  }, 120_000);
});

describe('the command line refuses what it does not understand', () => {
  it.each([
    [['evaluate', 'x'], /unknown command 'evaluate'; the commands are train, analyze, report, eval, experiment, lab, help/],
    [['analyse', 'runs/x'], /unknown command 'analyse' \(the command is spelled 'analyze'\)/],
    [['stray'], /unknown command 'stray'/],
    [['train', 'extra'], /train takes no other arguments, got 'extra' too/],
    [['analyze', 'a', 'b'], /analyze takes one argument, got 'b' too/],
  ])('pnpm grok %j: exit 2, the commands listed, nothing created', (args, message) => {
    const cwd = tmp();
    const r = spawnSync(process.execPath, [cli, ...args, '--runs-dir', path.join(cwd, 'runs')], { cwd, env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(fs.readdirSync(cwd)).toEqual([]); // no run directory, nothing trained or resumed
  });
});
