/**
 * live-measures.jsonl: the live report's cache of progress measures, one checkpoint's `CheckpointMeasures`
 * per line, in the order they were measured (not step order: see measure-order.ts).
 *
 * Append-only, so a refresh killed half-way loses at most the line it was writing. Such a torn last line (or
 * any line that is not a row) is ignored by readers; the writer (`repair`) rewrites the file atomically
 * without it before appending, so its checkpoint is measured again and the next line never lands glued to a
 * fragment. A step that appears twice keeps its last row.
 */
import * as fs from 'node:fs';
import type { CheckpointMeasures } from '../analysis/types.js';
import { writeFileAtomic } from '../run-dir.js';

export interface MeasuresFileContents {
  /** One row per step, ascending by step. */
  rows: CheckpointMeasures[];
  /** 1-based numbers of the lines that are not rows (the last one, if cut off, among them). */
  badLines: number[];
  /** The file does not end in a newline (its last line was being written, or its writer was killed). */
  tornEnd: boolean;
}

export class LiveMeasuresFile {
  constructor(readonly file: string) {}

  /** Reads every complete row; never writes (the report reads this beside a running refresh). */
  read(): MeasuresFileContents {
    if (!fs.existsSync(this.file)) return { rows: [], badLines: [], tornEnd: false };
    const text = fs.readFileSync(this.file, 'utf8');
    const lines = text.split('\n');
    const tornEnd = text.length > 0 && !text.endsWith('\n');
    const byStep = new Map<number, CheckpointMeasures>();
    const badLines: number[] = [];
    lines.forEach((line, i) => {
      if (line === '' && i === lines.length - 1) return; // after the final newline
      const row = parseRow(line);
      // An unterminated last line is torn even if it happens to parse: its writer may not have finished it.
      if (row === null || (tornEnd && i === lines.length - 1)) badLines.push(i + 1);
      else byStep.set(row.step, row);
    });
    const rows = [...byStep.values()].sort((a, b) => a.step - b.step);
    return { rows, badLines, tornEnd };
  }

  /**
   * Makes the file safe to append to: if it has lines that are not rows (a torn last one), rewrites it,
   * atomically, with only its rows. Returns the rows and the numbers of the lines dropped.
   */
  repair(): { rows: CheckpointMeasures[]; dropped: number[] } {
    const { rows, badLines } = this.read();
    if (badLines.length > 0) writeFileAtomic(this.file, rows.map((r) => JSON.stringify(r) + '\n').join(''));
    return { rows, dropped: badLines };
  }

  /** Appends one row as one complete line (one write call). */
  append(row: CheckpointMeasures): void {
    fs.appendFileSync(this.file, JSON.stringify(row) + '\n');
  }
}

/** A row, or null if `line` is not one (JSON has no NaN: a diverged loss is written, and read, as null). */
function parseRow(line: string): CheckpointMeasures | null {
  let x: unknown;
  try {
    x = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return null;
  const r = x as Record<string, unknown>;
  const numberOrNull = (k: string) => typeof r[k] === 'number' || r[k] === null;
  const numbers = (k: string) => Array.isArray(r[k]) && (r[k] as unknown[]).every((v) => typeof v === 'number' || v === null);
  const ok =
    Number.isSafeInteger(r['step']) &&
    ['trainLoss', 'testLoss', 'loss', 'trainAccuracy', 'testAccuracy', 'restrictedLoss', 'excludedLoss', 'giniWE', 'giniWL', 'sumSquaredWeights'].every(numberOrNull) &&
    ['keyFrequencies', 'restrictedLossFrequencies', 'embeddingFrequencyNorms'].every(numbers) &&
    (r['neuronLogitFrequencyNorms'] === null || numbers('neuronLogitFrequencyNorms'));
  return ok ? (x as CheckpointMeasures) : null;
}
