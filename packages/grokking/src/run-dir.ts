/**
 * A run is a directory: config.json, metrics.jsonl (one JSON line per logged step), checkpoints/
 * step-NNNNNN.safetensors, and later analysis.json and report.html. Files are replaced atomically
 * (write a temp file, then rename), so an interruption never leaves a half-written file behind.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PAPER_CONFIG, type RunConfig } from './config.js';

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
   * Creates the run, or checks that an existing run has the same config. A run whose config differs is
   * refused (never overwritten), naming the first differing fields.
   */
  init(config: RunConfig): void {
    if (this.exists()) {
      const existing = this.readConfig();
      const diffs = Object.keys({ ...existing, ...config }).filter(
        (k) => JSON.stringify((existing as unknown as Record<string, unknown>)[k]) !==
          JSON.stringify((config as unknown as Record<string, unknown>)[k]),
      );
      if (diffs.length > 0) {
        const shown = diffs.slice(0, 5).map((k) =>
          `${k}: run has ${JSON.stringify((existing as unknown as Record<string, unknown>)[k])}, options give ${JSON.stringify((config as unknown as Record<string, unknown>)[k])}`,
        );
        throw new Error(
          `run ${this.dir} exists with a different config (${shown.join('; ')}). ` +
            'Choose another --name, or --resume it without changing options.',
        );
      }
      return;
    }
    fs.mkdirSync(this.checkpointDir, { recursive: true });
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

  readMetrics(): MetricsRow[] {
    if (!fs.existsSync(this.metricsPath)) return [];
    return fs
      .readFileSync(this.metricsPath, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as MetricsRow];
        } catch {
          return []; // a line cut by an interruption
        }
      });
  }

  /** Drops metric rows from `step` on (resuming at `step` logs that row again). */
  truncateMetrics(step: number): void {
    const kept = this.readMetrics().filter((r) => r.step < step);
    writeFileAtomic(this.metricsPath, kept.map((r) => JSON.stringify(r) + '\n').join(''));
  }
}
