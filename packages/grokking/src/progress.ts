/**
 * Progress on the terminal: a one-line bar redrawn in place on a TTY, plain lines otherwise (CI, pipes),
 * so logs stay readable wherever they go. A note (the live report's phase and key frequencies) can be added
 * to the end of the line; on a TTY the line is cut to the terminal's width, since a wrapped line cannot be
 * redrawn in place.
 */
export interface ProgressState {
  step: number;
  total: number;
  trainLoss: number;
  testLoss: number;
  trainAcc: number;
  testAcc: number;
  stepsPerSecond: number;
}

export class Progress {
  private lastPlain = 0;
  private note = '';

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stdout,
    /** Minimum seconds between plain lines, so CI logs stay short. */
    private readonly plainEvery = 10,
  ) {}

  get interactive(): boolean {
    return !!this.stream.isTTY;
  }

  /** Shown at the end of every line from now on (`null`: none), e.g. `phase: cleanup | keys 14 35 41 52`. */
  setNote(note: string | null): void {
    this.note = note ? ` | ${note}` : '';
  }

  update(s: ProgressState): void {
    const eta = s.stepsPerSecond > 0 ? (s.total - s.step) / s.stepsPerSecond : NaN;
    const stats =
      `train ${fmtLoss(s.trainLoss)} (${pct(s.trainAcc)}) test ${fmtLoss(s.testLoss)} (${pct(s.testAcc)}) ` +
      `${s.stepsPerSecond.toFixed(1)} steps/s ETA ${formatDuration(eta)}${this.note}`;
    if (this.interactive) {
      const text = `${s.step}/${s.total} ${stats}`;
      const columns = this.stream.columns > 1 ? this.stream.columns : Infinity; // unknown: no limit
      // The bar takes the room the text leaves (at most 24 cells); text that still does not fit is cut.
      const width = Math.max(0, Math.min(24, columns - 2 - text.length));
      const filled = Math.round((width * s.step) / s.total);
      const line = (width > 0 ? '█'.repeat(filled) + '░'.repeat(width - filled) + ' ' : '') + text;
      this.stream.write(`\r${line.length >= columns ? line.slice(0, columns - 2) + '…' : line}\x1b[K`);
    } else {
      const now = Date.now() / 1000;
      if (now - this.lastPlain < this.plainEvery && s.step !== s.total) return;
      this.lastPlain = now;
      this.stream.write(`step ${s.step}/${s.total} ${stats}\n`);
    }
  }

  /** Prints a message on its own line (ending the bar's line first). */
  log(message: string): void {
    if (this.interactive) this.stream.write('\r\x1b[K');
    this.stream.write(message + '\n');
  }

  done(): void {
    if (this.interactive) this.stream.write('\n');
  }
}

function fmtLoss(x: number): string {
  return Math.abs(x) < 1e-3 && x !== 0 ? x.toExponential(2) : x.toFixed(4);
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}
