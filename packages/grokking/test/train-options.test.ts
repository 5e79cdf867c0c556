/**
 * Training options beyond the paper's defaults: --init, --config FILE, decay kinds, float32 loss, and a real
 * Ctrl-C (SIGINT) against the built CLI followed by --resume.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { configFrom, parseCommandLine } from '../src/args.js';
import { resolveConfig } from '../src/config.js';
import { Progress } from '../src/progress.js';
import { RunDir } from '../src/run-dir.js';
import { train } from '../src/train.js';

const silent = new Progress({ isTTY: false, write: () => true } as unknown as NodeJS.WriteStream, Infinity);
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'grok-opts-'));
const tiny = (over: Record<string, unknown> = {}) =>
  resolveConfig({ p: 13, frac_train: 0.5, d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32, steps: 10, checkpoint_every: 5, log_every: 5, ...over });
const quietTrain = (dir: string, config: ReturnType<typeof tiny>) => train({ dir, config, progress: silent, handleSignals: false });

describe('training options', () => {
  it('--init starts from the weights of a checkpoint', () => {
    const d = tmp();
    const source = quietTrain(path.join(d, 'a'), tiny({ seed: 1 }));
    const file = new RunDir(source.run.dir).checkpointPath(10);
    // Another seed would give other initial weights; --init replaces them with the checkpoint's.
    const started = quietTrain(path.join(d, 'b'), tiny({ seed: 2, init: file, steps: 1 }));
    const step0 = new RunDir(started.run.dir).readMetrics()[0]!;
    const end = source.run.readMetrics().at(-1)!;
    const fresh = quietTrain(path.join(d, 'c'), tiny({ seed: 2, steps: 1 })).run.readMetrics()[0]!;
    expect(step0.weight_norm).toBeCloseTo(end.weight_norm, 6); // the checkpoint's weights...
    expect(Math.abs(step0.weight_norm - fresh.weight_norm)).toBeGreaterThan(1e-3); // ...not seed 2's own init
  });

  it('--init names the file when it cannot be read', () => {
    expect(() => quietTrain(path.join(tmp(), 'x'), tiny({ init: '/nonexistent/ckpt.safetensors' }))).toThrow(/nonexistent\/ckpt\.safetensors/);
  });

  it('reads options from a JSON config file; command-line options win', () => {
    const file = path.join(tmp(), 'cfg.json');
    fs.writeFileSync(file, JSON.stringify({ p: 17, lr: 0.01, weight_decay: 0.5 }));
    const c = configFrom(parseCommandLine(['--config', file, '--lr', '0.002']));
    expect([c.p, c.lr, c.weight_decay]).toEqual([17, 0.002, 0.5]);
    fs.writeFileSync(file, JSON.stringify({ p: 17, colour: 'red' }));
    expect(() => configFrom(parseCommandLine(['--config', file]))).toThrow(/unknown option 'colour'/);
  });

  it.each(['none', 'l1', 'l2', 'decoupled'] as const)('decay_kind %s trains', (kind) => {
    const rows = quietTrain(path.join(tmp(), kind), tiny({ decay_kind: kind, weight_decay: 1, steps: 20, lr: 0.01 })).run.readMetrics();
    expect(rows.at(-1)!.train_loss).toBeLessThan(rows[0]!.train_loss);
  });

  it('weight decay kinds differ: no decay keeps a larger weight norm than decoupled decay', () => {
    const norm = (kind: 'none' | 'decoupled' | 'l1') =>
      quietTrain(path.join(tmp(), kind), tiny({ decay_kind: kind, weight_decay: 1, steps: 30, lr: 0.01 })).run.readMetrics().at(-1)!.weight_norm;
    const none = norm('none');
    expect(norm('decoupled')).toBeLessThan(none);
    expect(norm('l1')).toBeLessThan(none);
  });

  it('float32 loss differs from float64 only by float32 rounding', () => {
    const a = quietTrain(path.join(tmp(), 'f64'), tiny({ steps: 1 })).run.readMetrics()[0]!;
    const b = quietTrain(path.join(tmp(), 'f32'), tiny({ steps: 1, loss_precision: 'float32' })).run.readMetrics()[0]!;
    expect(Math.abs(a.train_loss - b.train_loss)).toBeLessThan(1e-5);
    expect(a.train_loss).not.toBe(b.train_loss);
  });
});

describe('Ctrl-C against the built CLI', () => {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const cli = path.join(root, 'packages/grokking/dist/cli.js');
  beforeAll(() => {
    const r = spawnSync('pnpm', ['exec', 'tsc', '-b'], { cwd: root, encoding: 'utf8', timeout: 180_000 });
    if (r.status !== 0) throw new Error(`tsc -b failed: ${r.stdout}${r.stderr}`);
  }, 200_000);

  it('stops between steps, saves a checkpoint there, and --resume continues from it', async () => {
    const runs = tmp();
    const args = ['--p', '13', '--frac-train', '0.5', '--d-model', '16', '--n-heads', '2', '--d-head', '8', '--d-mlp', '32',
      '--steps', '100000', '--checkpoint-every', '50', '--log-every', '10', '--runs-dir', runs, '--name', 'r'];
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    const dir = path.join(runs, 'r');
    try {
      // Wait until training is under way (a checkpoint beyond step 0 exists), then press Ctrl-C.
      await new Promise<void>((resolve, reject) => {
        const t0 = Date.now();
        const poll = setInterval(() => {
          if (new RunDir(dir).checkpointSteps().some((s) => s > 0)) {
            clearInterval(poll);
            resolve();
          } else if (Date.now() - t0 > 60_000) {
            clearInterval(poll);
            reject(new Error(`no checkpoint after 60 s:\n${out}`));
          }
        }, 100);
      });
      child.kill('SIGINT');
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      expect(code, out).toBe(130);
      expect(out).toMatch(/interrupted at step (\d+)/);
      const stopped = Number(/interrupted at step (\d+)/.exec(out)![1]);
      const run = new RunDir(dir);
      expect(run.checkpointSteps()).toContain(stopped); // nothing since the last step is lost
      expect(run.readMetrics().at(-1)!.step).toBeLessThanOrEqual(stopped);

      // Resume: it must start from the checkpoint written at the stop. (The run's budget is 100,000 steps,
      // so the timeout's SIGTERM ends it, gracefully.)
      const again = spawnSync(process.execPath, [cli, 'train', '--resume', dir], { encoding: 'utf8', timeout: 10_000 });
      expect(again.stdout + again.stderr).toMatch(new RegExp(`resuming ${dir.replace(/[/\\]/g, '.')} from step ${stopped}`));
    } finally {
      child.kill('SIGKILL'); // never leave a 100,000-step run behind when an assertion fails
    }
  }, 120_000);
});
