/**
 * The original paper's curves, copied into packages/grokking/data/ (see its README for the origin). The
 * path is relative to this module, and both src/report/ and dist/report/ sit two levels below the
 * package root, so the same URL works under vitest (sources) and from the built CLI.
 */
import * as fs from 'node:fs';

const dataFile = (name: string) => new URL(`../../data/${name}`, import.meta.url);

export interface OriginalRow {
  step: number;
  train_loss: number;
  test_loss: number;
}

function readCsv(name: string): Record<string, number>[] {
  const [header, ...lines] = fs.readFileSync(dataFile(name), 'utf8').trim().split('\n');
  const keys = header!.split(',');
  return lines.map((line) => {
    const cells = line.split(',');
    return Object.fromEntries(keys.map((k, i) => [k, Number(cells[i])]));
  });
}

/** The original 30 % run: one row per epoch (= full-batch step), 0 to 8,995. */
export function originalRun(): OriginalRow[] {
  return readCsv('original_frac0.3.csv').map((r) => ({ step: r['epoch']!, train_loss: r['train_loss']!, test_loss: r['test_loss']! }));
}

/** The original sweep's steps to grok (test loss < 0.01) for each data fraction. */
export function originalStepsToGrok(): { frac_train: number; steps_to_grok: number }[] {
  return readCsv('original_steps_to_grok.csv').map((r) => ({ frac_train: r['frac_train']!, steps_to_grok: r['steps_to_grok']! }));
}
