/**
 * The experiments' machinery on tiny runs (p = 11, a few steps): the sweep runner resumes an interrupted run
 * and reuses a finished one; --dry-run lists the right configs and trains nothing; fixed_norm pins √Σw².
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../src/args.js';
import { resolveConfig } from '../src/config.js';
import { experimentOptions, runExperimentCommand } from '../src/experiments/cli-experiment.js';
import { fractionPlan } from '../src/experiments/data-fraction.js';
import { runExperiment } from '../src/experiments/experiment.js';
import { FIXED_NORM_FACTORS, fixedNormLabel, grokfastPlan, initNorm } from '../src/experiments/grokfast.js';
import { describePlan, isDone, runSweep, type PlannedRun } from '../src/experiments/sweep.js';
import { describeSettings } from '../src/experiments/settings.js';
import { DECAYS, weightDecay } from '../src/experiments/weight-decay.js';
import { Progress } from '../src/progress.js';
import { RunDir } from '../src/run-dir.js';
import { train } from '../src/train.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'grok-exp-'));
const tiny = (over: Record<string, unknown> = {}) =>
  resolveConfig({ p: 11, frac_train: 0.5, d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32, steps: 10, checkpoint_every: 5, log_every: 5, ...over });
const silent = new Progress({ isTTY: false, write: () => true } as unknown as NodeJS.WriteStream, Infinity);

describe('sweep runner', () => {
  it('resumes an interrupted run, then reuses the finished one without training again', async () => {
    const root = tmp();
    const planned: PlannedRun[] = [0, 1].map((seed) => ({ dir: path.join(root, `s${seed}`), label: `seed ${seed}`, config: tiny({ seed }) }));

    const first = await runSweep(planned, { stopAfter: 5 }); // both stop at step 5, as if killed there
    expect(first.map((r) => r.lastStep)).toEqual([5, 5]);
    expect(planned.map((r) => isDone(r.dir))).toEqual([false, false]);

    const lines: string[] = [];
    const second = await runSweep(planned, { log: (l) => lines.push(l) });
    expect(lines.some((l) => l.includes('resuming'))).toBe(true);
    expect(second.map((r) => [r.lastStep, r.reused, r.reason])).toEqual([[10, false, 'finished'], [10, false, 'finished']]);
    expect(second[0]!.rows.map((r) => r.step)).toEqual([0, 5, 10]); // no duplicated rows after the resume
    const mtime = fs.statSync(new RunDir(planned[0]!.dir).metricsPath).mtimeMs;

    const third = await runSweep(planned);
    expect(third.map((r) => r.reused)).toEqual([true, true]);
    expect(fs.statSync(new RunDir(planned[0]!.dir).metricsPath).mtimeMs).toBe(mtime); // untouched
    expect(third[1]!.rows).toEqual(second[1]!.rows);
  });

  it('refuses a finished run whose config no longer matches the plan', async () => {
    const root = tmp();
    const run = { dir: path.join(root, 'a'), label: 'a', config: tiny() };
    await runSweep([run]);
    await expect(runSweep([{ ...run, config: tiny({ lr: 0.01 }) }])).rejects.toThrow(/different config/);
  });

  it('the plan text names every run and what differs from the first', () => {
    const text = describePlan([
      { dir: 'x/a', label: 'a', config: tiny() },
      { dir: 'x/b', label: 'b', config: tiny({ weight_decay: 0.3 }) },
    ]);
    expect(text).toContain('x/b  b  (weight_decay=0.3)');
  });
});

describe('--dry-run', () => {
  it('lists the weight-decay runs with their configs and trains nothing', async () => {
    const root = tmp();
    const args = parseCommandLine(['experiment', 'weight-decay', '--dry-run', '--p', '11', '--steps', '50', '--seeds', '1', '--runs-dir', root]);
    expect(args.command).toBe('experiment');
    const lines: string[] = [];
    const o = experimentOptions(args, (l) => lines.push(l));
    expect(o).toMatchObject({ dryRun: true, p: 11, steps: 50, seeds: 1, full: false, root: path.join(root, 'experiments') });
    const plan = weightDecay.plan(o);
    expect(plan.map((r) => r.config.weight_decay).sort()).toEqual([...DECAYS].sort());
    expect(plan.every((r) => r.config.p === 11 && r.config.steps === 50 && r.config.seed === 0)).toBe(true);
    expect(await runExperiment(weightDecay, o)).toBeNull();
    expect(lines.join('\n')).toMatch(/weight-decay: 5 runs/);
    expect(lines.join('\n')).toContain(path.join(root, 'experiments', 'weight-decay', 'wd0.1-seed0'));
    expect(fs.existsSync(path.join(root, 'experiments'))).toBe(false);
  });

  it('--full gives the paper-size model; other config options are refused', () => {
    const o = experimentOptions(parseCommandLine(['experiment', 'grokfast', '--full', '--dry-run']), () => {});
    const plan = grokfastPlan(o);
    expect(plan.map((r) => r.label)).toEqual(['baseline', 'Grokfast EMA', 'Grokfast MA', ...FIXED_NORM_FACTORS.map(fixedNormLabel)]);
    expect(plan[0]!.config).toMatchObject({ p: 113, d_model: 128, d_mlp: 512, steps: 40_000 });
    // Each fixed norm is its factor times √Σw² of the same seeded init, with no weight decay.
    const norm0 = initNorm(plan[0]!.config);
    FIXED_NORM_FACTORS.forEach((factor, i) => {
      expect(plan[3 + i]!.config.weight_decay).toBe(0);
      expect(plan[3 + i]!.config.fixed_norm! / norm0).toBeCloseTo(factor, 5);
    });
    expect(() => experimentOptions(parseCommandLine(['experiment', 'grokfast', '--lr', '0.1']))).toThrow(/only --p and --steps/);
    expect(() => experimentOptions(parseCommandLine(['experiment', 'grokfast', '--seeds', '0']))).toThrow(/--seeds/);
  });
});

describe('--fractions', () => {
  it('chooses the data-fraction runs; a bad list or another experiment is refused', async () => {
    const o = experimentOptions(parseCommandLine(['experiment', 'data-fraction', '--full', '--seeds', '1', '--fractions', '0.4, 0.5,0.6', '--dry-run']), () => {});
    const plan = fractionPlan(o);
    expect(plan.map((r) => r.config.frac_train)).toEqual([0.4, 0.5, 0.6]);
    expect(plan.every((r) => r.config.p === 113 && r.config.seed === 0)).toBe(true);
    expect(plan.map((r) => path.basename(r.dir))).toEqual(['frac0.4-seed0', 'frac0.5-seed0', 'frac0.6-seed0']);
    for (const bad of ['0.4,,0.5', '1.2', '0', 'half', '0.4,0.4']) {
      expect(() => experimentOptions(parseCommandLine(['experiment', 'data-fraction', '--fractions', bad]))).toThrow(/--fractions/);
    }
    await expect(runExperimentCommand(parseCommandLine(['experiment', 'grokfast', '--fractions', '0.4', '--dry-run']))).rejects.toThrow(
      /--fractions applies to data-fraction only, not to grokfast/,
    );
  });
});

describe('describeSettings', () => {
  it('leaves out the fields an experiment varies', () => {
    const c = resolveConfig({ p: 47, d_model: 64, n_heads: 4, d_head: 16, d_mlp: 128, lr: 3e-3, frac_train: 0.2, steps: 8000 });
    expect(describeSettings(c)).toBe('p = 47, d_model 64, 4 heads of 16, d_mlp 128, lr 0.003, weight decay 1, 20 % of the pairs for training, up to 8,000 steps');
    expect(describeSettings(c, ['frac_train'])).toBe('p = 47, d_model 64, 4 heads of 16, d_mlp 128, lr 0.003, weight decay 1, up to 8,000 steps');
    expect(describeSettings(c, ['d_model', 'weight_decay'])).not.toMatch(/d_model|weight decay/);
  });
});

describe('fixed_norm', () => {
  it('is validated', () => {
    expect(resolveConfig({ fixed_norm: 3 }).fixed_norm).toBe(3);
    expect(resolveConfig().fixed_norm).toBeNull();
    expect(() => resolveConfig({ fixed_norm: -1 })).toThrow(/fixed_norm/);
    expect(() => resolveConfig({ fixed_norm: 'big' })).toThrow(/fixed_norm/);
    expect(parseCommandLine(['--fixed-norm', '4.5']).overrides.fixed_norm).toBe(4.5);
  });

  it('keeps √Σw² at the given value from the init through every step', () => {
    const norm = 5;
    const result = train({ dir: path.join(tmp(), 'fn'), config: tiny({ fixed_norm: norm, weight_decay: 0, steps: 20, log_every: 1 }), progress: silent, handleSignals: false });
    const rows = result.run.readMetrics();
    expect(rows).toHaveLength(21);
    for (const r of rows) expect(Math.sqrt(r.weight_norm)).toBeCloseTo(norm, 3); // weight_norm is Σw²
    expect(rows.at(-1)!.train_loss).toBeLessThan(rows[0]!.train_loss); // and it still learns
    const free = train({ dir: path.join(tmp(), 'free'), config: tiny({ weight_decay: 0, steps: 20, log_every: 1 }), progress: silent, handleSignals: false });
    expect(Math.abs(Math.sqrt(free.run.readMetrics()[0]!.weight_norm) - norm)).toBeGreaterThan(0.1); // the default init differs
  });

  it('an old run without fixed_norm in config.json still resumes', () => {
    const dir = path.join(tmp(), 'old');
    train({ dir, config: tiny(), progress: silent, handleSignals: false, stopAfter: 3 });
    const file = new RunDir(dir).configPath;
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    delete json.fixed_norm; // as written before the option existed
    fs.writeFileSync(file, JSON.stringify(json));
    expect(train({ dir, config: tiny(), progress: silent, handleSignals: false }).step).toBe(10);
  });
});
