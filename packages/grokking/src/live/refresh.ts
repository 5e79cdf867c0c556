/**
 * One live refresh's measuring: the progress measures of the checkpoints not yet in live-measures.jsonl,
 * appended there one line each, for at most `maxSeconds`. Nothing measured before is measured again.
 *
 * The key-frequency rule. The final analysis computes every checkpoint's restricted and excluded loss with the
 * FINAL checkpoint's key frequencies (as the paper does); while training runs, those are unknown. Live, each
 * checkpoint is measured with its OWN key frequencies (`measureCheckpoint`'s default: `restrictedLossFrequencies`
 * equals `keyFrequencies` in every row), and the row keeps them. Re-measuring old rows whenever the newest key set
 * changes would redo the whole run at every refresh; instead the page says which keys the curves use, and from
 * which step on they are the newest checkpoint's. When training ends, analysis.json replaces the live curves.
 *
 * The bound. LiveReport kills a child after 120 s, and a refresh is due every 500 steps (5 checkpoints at the
 * paper's cadence; one costs ≈ 0.3–1.5 s at p = 113 on an idle core, more beside training at nice 19). So a
 * refresh measures the newest checkpoint, then fills in others (measure-order.ts) while the time spent plus
 * the slowest measurement so far stays within `maxSeconds`; what is left is measured by the next refresh, and
 * the page lists it.
 */
import { loadCheckpointInto, loadModelFromCheckpoint, type HookedTransformer } from '@grok/transformer';
import { measureCheckpoint } from '../analysis/measures.js';
import type { CheckpointMeasures } from '../analysis/types.js';
import { makeSplit } from '../data.js';
import { RunDir } from '../run-dir.js';
import { LiveMeasuresFile } from './measures-file.js';
import { measureOrder } from './measure-order.js';

export interface RefreshOptions {
  /** Start no measurement that might end after this many seconds (default 40). The newest is always measured. */
  maxSeconds?: number;
  /** Measure at most this many checkpoints (default: no limit). */
  maxCheckpoints?: number;
  /** Where a line about dropped (torn) lines goes (default stderr). */
  warn?: (line: string) => void;
}

export interface RefreshResult {
  /** Every row now in the cache, ascending by step. */
  rows: CheckpointMeasures[];
  /** The steps measured by this refresh, in the order measured. */
  measured: number[];
  /** Checkpoints still not measured, ascending. */
  pending: number[];
  /** Every checkpoint on disk, ascending. */
  checkpoints: number[];
}

export function refreshLiveMeasures(dir: string, options: RefreshOptions = {}): RefreshResult {
  const started = performance.now();
  const maxSeconds = options.maxSeconds ?? 40;
  const maxCheckpoints = options.maxCheckpoints ?? Infinity;
  const warn = options.warn ?? ((line) => process.stderr.write(line + '\n'));
  const run = new RunDir(dir);
  if (!run.exists()) throw new Error(`live measures: no run at ${dir} (config.json is missing)`);
  const cache = new LiveMeasuresFile(run.liveMeasuresPath);
  const { rows, dropped } = cache.repair();
  if (dropped.length > 0) warn(`${cache.file}: dropped line${dropped.length > 1 ? 's' : ''} ${dropped.join(', ')} (cut off or not a row); measuring again`);

  const checkpoints = run.checkpointSteps();
  const done = new Map(rows.map((r) => [r.step, r]));
  const todo = measureOrder(checkpoints, new Set(done.keys()));
  const split = makeSplit(run.readConfig());
  let model: HookedTransformer | null = null; // one model, its weights replaced per checkpoint
  let slowest = 0;
  const measured: number[] = [];
  for (const step of todo) {
    const elapsed = (performance.now() - started) / 1000;
    if (measured.length >= maxCheckpoints || (measured.length > 0 && elapsed + slowest > maxSeconds)) break;
    const t0 = performance.now();
    const file = run.checkpointPath(step);
    if (model === null) model = loadModelFromCheckpoint(file).model;
    else loadCheckpointInto(model, file);
    const row = measureCheckpoint(model, split, step).measures; // its own key frequencies: see the top
    cache.append(row);
    done.set(step, row);
    measured.push(step);
    slowest = Math.max(slowest, (performance.now() - t0) / 1000);
  }
  return {
    rows: [...done.values()].sort((a, b) => a.step - b.step),
    measured,
    pending: checkpoints.filter((s) => !done.has(s)),
    checkpoints,
  };
}
