/**
 * A run is a directory: config.json, metrics.jsonl (one JSON line per logged step), checkpoints/
 * step-NNNNNN.safetensors, state.safetensors, and later analysis.json and report.html; while training, a
 * `lock` (run-lock.ts) and the live report's live-measures.jsonl and live-status.json (src/live/). Files are
 * replaced atomically (write a temp file, then rename), so an interruption never leaves a half-written file
 * behind, except the two that are appended to: a kill during an append can cut the last line of
 * metrics.jsonl or live-measures.jsonl. Readers skip such a line (metrics.jsonl's with a warning); resuming
 * removes it from metrics.jsonl, and the next live refresh from live-measures.jsonl.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUDGET_FIELDS, PAPER_CONFIG, type RunConfig } from './config.js';

export interface MetricsRow {
  step: number;
  train_loss: number;
  test_loss: number;
  train_acc: number;
  test_acc: number;
  /** Σ of squared parameters. */
  weight_norm: number;
  lr: number;
  /** Milliseconds per training step, averaged since the previous row. */
  step_ms: number;
}

/** Where warnings about a run's files go unless the caller says otherwise. */
export type Warn = (line: string) => void;
const toStderr: Warn = (line) => process.stderr.write(line + '\n');

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    if (typeof data === 'string') fs.writeSync(fd, data);
    else fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

export class RunDir {
  constructor(readonly dir: string) {}

  get configPath(): string { return path.join(this.dir, 'config.json'); }
  get metricsPath(): string { return path.join(this.dir, 'metrics.jsonl'); }
  get checkpointDir(): string { return path.join(this.dir, 'checkpoints'); }
  /** The latest full training state (weights + optimizer), for resuming. */
  get statePath(): string { return path.join(this.dir, 'state.safetensors'); }
  get analysisPath(): string { return path.join(this.dir, 'analysis.json'); }
  get reportPath(): string { return path.join(this.dir, 'report.html'); }
  /** The live report's progress measures, one checkpoint per line (src/live/measures-file.ts). */
  get liveMeasuresPath(): string { return path.join(this.dir, 'live-measures.jsonl'); }
  /** The newest phase and key frequencies, for the training's progress line (src/live/status.ts). */
  get liveStatusPath(): string { return path.join(this.dir, 'live-status.json'); }
  /** Held by the process training into the run (run-lock.ts). */
  get lockPath(): string { return path.join(this.dir, 'lock'); }

  checkpointPath(step: number): string {
    return path.join(this.checkpointDir, `step-${String(step).padStart(6, '0')}.safetensors`);
  }

  exists(): boolean {
    return fs.existsSync(this.configPath);
  }

  readConfig(): RunConfig {
    try {
      // A field added to RunConfig after the run was made is missing from its config.json; the run behaved as
      // the field's default (e.g. fixed_norm: null), so it reads as that and stays resumable.
      return { ...PAPER_CONFIG, ...JSON.parse(fs.readFileSync(this.configPath, 'utf8')) } as RunConfig;
    } catch (e) {
      throw new Error(`run ${this.dir}: cannot read config.json (${(e as Error).message})`);
    }
  }

  /**
   * Creates the run, or checks an existing one against `config`. The fields that define a run (model, data,
   * optimizer) must agree: a run whose config differs there is refused, never overwritten, naming the first
   * differing fields. The budget fields (BUDGET_FIELDS: steps, early stop, log and checkpoint cadence) may
   * differ; they are returned, and the caller records the new budget with writeConfig once it knows the run
   * can go on. Writes nothing to an existing run.
   */
  init(config: RunConfig): { created: boolean; budgetChanges: string[] } {
    if (this.exists()) {
      const existing = this.readConfig() as unknown as Record<string, unknown>;
      const wanted = config as unknown as Record<string, unknown>;
      const diffs = Object.keys({ ...existing, ...wanted }).filter((k) => JSON.stringify(existing[k]) !== JSON.stringify(wanted[k]));
      const budget: readonly string[] = BUDGET_FIELDS;
      const defining = diffs.filter((k) => !budget.includes(k));
      if (defining.length > 0) {
        const shown = defining.slice(0, 5).map((k) => `${k}: run has ${JSON.stringify(existing[k])}, options give ${JSON.stringify(wanted[k])}`);
        throw new Error(
          `run ${this.dir} exists with a different config (${shown.join('; ')}). ` +
            `Only the budget (${BUDGET_FIELDS.join(', ')}) may change when a run goes on; ` +
            'choose another --name, or --resume it without changing the other options.',
        );
      }
      return { created: false, budgetChanges: diffs };
    }
    fs.mkdirSync(this.checkpointDir, { recursive: true });
    this.writeConfig(config);
    return { created: true, budgetChanges: [] };
  }

  writeConfig(config: RunConfig): void {
    writeFileAtomic(this.configPath, JSON.stringify(config, null, 2) + '\n');
  }

  /** Checkpoint steps present on disk, ascending (temp files from an interrupted write are ignored). */
  checkpointSteps(): number[] {
    if (!fs.existsSync(this.checkpointDir)) return [];
    return fs
      .readdirSync(this.checkpointDir)
      .map((f) => /^step-(\d+)\.safetensors$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  }

  appendMetrics(row: MetricsRow): void {
    fs.appendFileSync(this.metricsPath, JSON.stringify(row) + '\n');
  }

  /**
   * The logged rows. A line that is not a row is skipped with a warning naming the file and line: the last
   * line cut off by a kill during an append, or any line damaged otherwise.
   */
  readMetrics(warn: Warn = toStderr): MetricsRow[] {
    const { rows, bad } = this.#parseMetrics();
    for (const b of bad) warn(`${this.metricsPath}: ${describeBadLine(b)}; skipped`);
    return rows;
  }

  /**
   * Drops metric rows from `step` on (resuming at `step` logs that row again), and any unreadable line:
   * this is how resuming repairs a last line cut off by a kill. Rewritten atomically.
   */
  truncateMetrics(step: number, warn: Warn = toStderr): void {
    if (!fs.existsSync(this.metricsPath)) return;
    const { rows, bad } = this.#parseMetrics();
    for (const b of bad) warn(`${this.metricsPath}: ${describeBadLine(b)}; removed`);
    const kept = rows.filter((r) => r.step < step);
    writeFileAtomic(this.metricsPath, kept.map((r) => JSON.stringify(r) + '\n').join(''));
  }

  #parseMetrics(): { rows: MetricsRow[]; bad: BadLine[] } {
    if (!fs.existsSync(this.metricsPath)) return { rows: [], bad: [] };
    const lines = fs.readFileSync(this.metricsPath, 'utf8').split('\n');
    let lastIndex = lines.length - 1;
    while (lastIndex >= 0 && lines[lastIndex]!.trim() === '') lastIndex--;
    const rows: MetricsRow[] = [];
    const bad: BadLine[] = [];
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        row = undefined;
      }
      if (isRow(row)) rows.push(row);
      else bad.push({ line: i + 1, last: i === lastIndex, length: line.length });
    });
    return { rows, bad };
  }
}

interface BadLine {
  line: number;
  /** The last line: what an interrupted append leaves. */
  last: boolean;
  length: number;
}

function describeBadLine(b: BadLine): string {
  return b.last
    ? `line ${b.line}, the last, is cut off (${b.length} characters: still being written, or its writer was killed)`
    : `line ${b.line} is not a metrics row (${b.length} characters)`;
}

/** A row is an object with an integer step (a loss that diverged is written as null: JSON has no NaN). */
const isRow = (x: unknown): x is MetricsRow =>
  typeof x === 'object' && x !== null && !Array.isArray(x) && Number.isSafeInteger((x as MetricsRow).step);
