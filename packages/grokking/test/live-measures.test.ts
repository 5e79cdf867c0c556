/**
 * The live report's progress measures (src/live/): a refresh measures only the checkpoints not yet in
 * live-measures.jsonl, redoes a line cut off by a kill, keeps within its bound, and writes rows equal to
 * measureCheckpoint's with each checkpoint's own key frequencies. On a tiny run trained here (p = 11).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModelFromCheckpoint } from '@grok/transformer';
import { beforeAll, describe, expect, it } from 'vitest';
import { measureCheckpoint } from '../src/analysis/measures.js';
import type { CheckpointMeasures } from '../src/analysis/types.js';
import { type RunConfig, resolveConfig } from '../src/config.js';
import { makeSplit } from '../src/data.js';
import { measureOrder } from '../src/live/measure-order.js';
import { refreshLiveMeasures } from '../src/live/refresh.js';
import { Progress } from '../src/progress.js';
import { RunDir } from '../src/run-dir.js';
import { train } from '../src/train.js';

const silent = new Progress({ isTTY: false, write: () => true } as unknown as NodeJS.WriteStream, Infinity);
const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'grok-live-measures-')), 'run');
const run = new RunDir(dir);
const config: RunConfig = resolveConfig({ p: 11, frac_train: 0.5, d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32, steps: 40, checkpoint_every: 5, log_every: 5 });
const quiet = () => {};

const lines = () => fs.readFileSync(run.liveMeasuresPath, 'utf8').split('\n').filter((l) => l !== '');
const rowsOnFile = () => lines().map((l) => JSON.parse(l) as CheckpointMeasures);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

describe('live progress measures', () => {
  let firstRefresh: string;

  beforeAll(() => {
    train({ dir, config, progress: silent, stopAfter: 20 }); // checkpoints 0, 5, 10, 15, 20
    expect(run.checkpointSteps()).toEqual([0, 5, 10, 15, 20]);
  });

  it('a second refresh measures only the checkpoints written since the first, and leaves the lines already there as they were', () => {
    const first = refreshLiveMeasures(dir, { warn: quiet });
    expect(sorted(first.measured)).toEqual([0, 5, 10, 15, 20]);
    expect(first.pending).toEqual([]);
    expect(lines()).toHaveLength(5);
    firstRefresh = fs.readFileSync(run.liveMeasuresPath, 'utf8');

    train({ dir, config, progress: silent }); // resumes at 20, goes on to 40
    const second = refreshLiveMeasures(dir, { warn: quiet });
    expect(sorted(second.measured)).toEqual([25, 30, 35, 40]);
    expect(second.measured[0]).toBe(40); // the newest first
    const text = fs.readFileSync(run.liveMeasuresPath, 'utf8');
    expect(text.startsWith(firstRefresh)).toBe(true); // appended to, never rewritten
    expect(lines()).toHaveLength(9);
    expect(second.rows.map((r) => r.step)).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40]);

    expect(refreshLiveMeasures(dir, { warn: quiet }).measured).toEqual([]); // nothing new: nothing measured
    expect(fs.readFileSync(run.liveMeasuresPath, 'utf8')).toBe(text);
  });

  it("each row is measureCheckpoint's on that checkpoint, with the checkpoint's own key frequencies", () => {
    const split = makeSplit(config);
    const rows = rowsOnFile();
    expect(rows.map((r) => r.step).sort((a, b) => a - b)).toEqual(run.checkpointSteps());
    for (const row of rows) {
      const { model } = loadModelFromCheckpoint(run.checkpointPath(row.step));
      const expected = measureCheckpoint(model, split, row.step).measures;
      expect(row).toEqual(JSON.parse(JSON.stringify(expected)));
      expect(row.restrictedLossFrequencies).toEqual(row.keyFrequencies); // the documented live rule
    }
    // The rule matters: some checkpoint of this run has key frequencies, and they are not all the same.
    expect(new Set(rows.map((r) => r.keyFrequencies.join(' '))).size).toBeGreaterThan(1);
  });

  it('a last line cut off by a kill (and a damaged line) is dropped, said, and measured again', () => {
    const good = lines();
    const torn = good.at(-1)!;
    const tornStep = (JSON.parse(torn) as CheckpointMeasures).step;
    const damagedStep = (JSON.parse(good[1]!) as CheckpointMeasures).step;
    const damaged = [good[0], '{"step": 5, "trainLoss": "not a number"}', ...good.slice(2, -1)].join('\n') + '\n';
    fs.writeFileSync(run.liveMeasuresPath, damaged + torn.slice(0, Math.floor(torn.length / 2)));

    const warnings: string[] = [];
    const refresh = refreshLiveMeasures(dir, { warn: (w) => warnings.push(w) });
    expect(warnings).toEqual([`${run.liveMeasuresPath}: dropped lines 2, 9 (cut off or not a row); measuring again`]);
    expect(sorted(refresh.measured)).toEqual(sorted([tornStep, damagedStep]));
    const after = lines();
    expect(after).toHaveLength(9);
    expect(fs.readFileSync(run.liveMeasuresPath, 'utf8').endsWith('\n')).toBe(true);
    // Measured again, the rows are the same as before (the measures are deterministic).
    expect([...after].sort()).toEqual([...good].sort());

    // A last line without its newline may be unfinished even if it parses: it is redone too.
    fs.writeFileSync(run.liveMeasuresPath, good.join('\n'));
    const unterminated = refreshLiveMeasures(dir, { warn: quiet });
    expect(unterminated.measured).toEqual([tornStep]);
    expect([...lines()].sort()).toEqual([...good].sort());
  });

  it('a refresh keeps within its bound: the newest first, then the widest gaps; the rest waits for the next refresh', () => {
    fs.rmSync(run.liveMeasuresPath);
    // Checkpoints 0, 5, …, 40 (indices 0–8): the newest (40), the farthest from it (0), then the middle (20).
    const bounded = refreshLiveMeasures(dir, { maxCheckpoints: 3, warn: quiet });
    expect(bounded.measured).toEqual([40, 0, 20]);
    expect(bounded.pending).toEqual([5, 10, 15, 25, 30, 35]);
    // With no time at all a refresh still measures one checkpoint, so it always gets somewhere.
    const hurried = refreshLiveMeasures(dir, { maxSeconds: 0, warn: quiet });
    expect(hurried.measured).toEqual([30]); // indices 2 and 6 are both 2 from a measured one: the newer
    const rest = refreshLiveMeasures(dir, { warn: quiet });
    expect(sorted(rest.measured)).toEqual([5, 10, 15, 25, 35]);
    expect(rest.pending).toEqual([]);
    expect(lines()).toHaveLength(9);
  });

  it('refuses a directory that is not a run', () => {
    expect(() => refreshLiveMeasures(path.dirname(dir) + '/nothing')).toThrow(/no run at .*config.json is missing/);
  });
});

describe('measure order', () => {
  const steps = Array.from({ length: 10 }, (_, i) => 100 * i);

  it('the newest, then again and again the checkpoint farthest from every measured one (the newer on a tie)', () => {
    // Worked by hand: after 900 and 0 the middle indices 4 and 5 are both 4 away (5 wins); then 7 and 3 (2 away);
    // then every other one is 1 away, newest first.
    expect(measureOrder(steps, new Set())).toEqual([900, 0, 500, 700, 300, 800, 600, 400, 200, 100]);
    expect(measureOrder(steps, new Set([0, 100, 200, 300, 400, 500]))).toEqual([900, 700, 800, 600]);
    expect(measureOrder(steps, new Set(steps))).toEqual([]);
    expect(measureOrder([], new Set())).toEqual([]);
  });
});
