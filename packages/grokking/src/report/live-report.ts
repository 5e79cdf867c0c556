/**
 * Watching a run: while training, the report is rewritten every `everySteps` steps (from the training
 * loop's onCheckpoint hook) with a `<meta http-equiv="refresh">`, so a browser showing report.html
 * follows the run; the final report, written after training, drops the refresh.
 *
 * The page is written by a short child process (live-main.ts) that training does not wait for: whatever the
 * child does, training goes on. At most one child runs at a time (a refresh due while one runs is skipped),
 * one that runs past `timeoutMs` is killed and the next refresh tries again (a child at the lowest priority
 * beside a training that uses every core can be starved for minutes; what it measured before the kill is kept
 * in live-measures.jsonl), and the first that fails, or the third slow one in a row, ends the live refreshes
 * with a warning. `close()` stops a child still running, before the final report is written, so that the
 * final page is the last word. (The child's exit is noticed between training steps, so this needs trainAsync,
 * which returns to the event loop after every step.)
 *
 * Each refresh also measures the progress measures of the checkpoints written since the last one (at most
 * `measureSeconds` of work; src/live/refresh.ts) into live-measures.jsonl, and the page draws them. Training
 * never measures anything: when a child has exited, it reads the child's live-status.json (the phase and the
 * key frequencies) and hands it to `onStatus`, for the progress line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type LiveStatus, readLiveStatus } from '../live/status.js';
import { RunDir } from '../run-dir.js';

export interface LiveReportOptions {
  /** Rewrite the page every this many steps (default 500). */
  everySteps?: number;
  /** Where the one warning goes (default stderr). */
  warn?: (line: string) => void;
  /** A refresh that runs longer is killed (default 120 s; a refresh measures for at most `measureSeconds`, then draws the page in a few seconds). */
  timeoutMs?: number;
  /** The script the child runs with the run directory and `measureSeconds` as its arguments (default live-main.js; tests swap it). */
  entry?: string;
  /** The most time a refresh spends measuring checkpoints (default 40 s: well inside `timeoutMs`). */
  measureSeconds?: number;
  /** Called with the child's live-status.json after each refresh that wrote one. */
  onStatus?: (status: LiveStatus) => void;
}

/** Slow refreshes in a row after which the live report gives up. */
const MAX_SLOW_IN_A_ROW = 3;

export class LiveReport {
  readonly everySteps: number;
  readonly #warn: (line: string) => void;
  readonly #timeoutMs: number;
  readonly #entry: string;
  readonly #measureSeconds: number;
  readonly #onStatus: (status: LiveStatus) => void;
  #lastStep = 0; // step 0's page would show nothing yet
  #child: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();
  #failed = false;
  /** Refreshes killed for running past timeoutMs, in a row. */
  #slowInARow = 0;
  #warnedSlow = false;
  /** Set when close() kills the running child: that is not a failure. */
  #stopped = false;

  constructor(readonly dir: string, options: LiveReportOptions = {}) {
    this.everySteps = options.everySteps ?? 500;
    this.#warn = options.warn ?? ((line) => process.stderr.write(line + '\n'));
    this.#timeoutMs = options.timeoutMs ?? 120_000;
    this.#entry = options.entry ?? fileURLToPath(new URL('./live-main.js', import.meta.url));
    this.#measureSeconds = options.measureSeconds ?? 40;
    this.#onStatus = options.onStatus ?? (() => {});
  }

  /** True once a refresh has failed, or three in a row were too slow (no more refreshes are started). */
  get failed(): boolean {
    return this.#failed;
  }

  /** For TrainOptions.onCheckpoint. Starts a refresh and returns at once. */
  onCheckpoint = (step: number): void => {
    if (this.#failed || this.#child !== null || step - this.#lastStep < this.everySteps) return;
    this.#lastStep = step;
    let stderr = '';
    let hung = false;
    const child = spawn(process.execPath, [this.#entry, this.dir, String(this.#measureSeconds)], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    // The report can wait; the training step (which uses every core) should not: run it at the lowest priority.
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, 19);
      } catch {
        // not allowed here (some containers): it still runs, at normal priority
      }
    }
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL'); // a hung child may ignore SIGTERM
    }, this.#timeoutMs);
    timer.unref(); // never keeps the process alive
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    this.#exited = new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#child = null;
        resolve();
      };
      child.on('error', (e) => {
        this.#fail(step, `cannot start it: ${e.message}`);
        done();
      });
      child.on('close', (code, signal) => {
        if (hung) this.#slow(step);
        else if (code !== 0 && !(this.#stopped && signal === 'SIGKILL')) this.#fail(step, stderr.trim() || `exit code ${code}${signal ? `, ${signal}` : ''}`);
        else if (code === 0) {
          this.#slowInARow = 0;
          this.#readStatus();
        }
        done();
      });
    });
  };

  /** Stops a refresh still running and waits for it to be gone. */
  async close(): Promise<void> {
    if (this.#child) {
      this.#stopped = true;
      this.#child.kill('SIGKILL');
    }
    await this.#exited;
  }

  /** One small file, read between training steps. */
  #readStatus(): void {
    const status = readLiveStatus(new RunDir(this.dir).liveStatusPath);
    if (status) this.#onStatus(status);
  }

  #slow(step: number): void {
    this.#slowInARow++;
    const why = `no page after ${this.#timeoutMs / 1000} s; stopped it`;
    if (this.#slowInARow >= MAX_SLOW_IN_A_ROW) return this.#fail(step, `${why}, the ${MAX_SLOW_IN_A_ROW}rd time in a row`);
    if (this.#warnedSlow) return;
    this.#warnedSlow = true;
    this.#warn(`grok: the live report was slow at step ${step} (${why}: the machine is busy); the next refresh tries again`);
  }

  #fail(step: number, why: string): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#warn(`grok: the live report failed at step ${step} (${why}); training goes on without live refreshes, and report.html is written when it ends`);
  }
}
