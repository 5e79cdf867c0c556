/**
 * The original paper's run at weight decay 0.1 (p = 113, 30 % data, lr 10⁻³), copied into
 * packages/grokking/data/original_wd0.1_run.csv (see data/README.md for the origin and the thinning).
 * Same path logic as report/reference-data.ts: src/experiments/ and dist/experiments/ both sit two levels
 * below the package root.
 */
import * as fs from 'node:fs';
import { stepsToGrok } from '../steps-to-grok.js';

export interface OriginalPoint {
  step: number;
  train_loss: number;
  test_loss: number;
}

export function originalWd01Run(): OriginalPoint[] {
  const text = fs.readFileSync(new URL('../../data/original_wd0.1_run.csv', import.meta.url), 'utf8');
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [epoch, train, test] = line.split(',').map(Number);
      return { step: epoch!, train_loss: train!, test_loss: test! };
    });
}

/** Its steps to grok (first logged epoch with test loss < 0.01) and its length. */
export function originalWd01Facts(): { stepsToGrok: number | null; lastStep: number } {
  const rows = originalWd01Run();
  return { stepsToGrok: stepsToGrok(rows), lastStep: rows.at(-1)?.step ?? 0 };
}
