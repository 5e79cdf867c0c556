/**
 * `pnpm grok eval CHECKPOINT [--split FILE] [--p P --d-mlp N …] [--json]`: the loss (float64) and accuracy of
 * one checkpoint on its training pairs, its test pairs and all p² pairs. The checkpoint is opened as by
 * `analyze --checkpoint` (open-checkpoint.ts): ours, or a bare file with TransformerLens names whose config is
 * read off its tensors; the split is --split FILE, else the checkpoint's own (its run config), else the default.
 * Reads only: it works beside a run that is training. With --json the last line is one object:
 * { "train": { "loss", "accuracy" }, "test": {…}, "all": {…}, "step" (null: unknown), "config", "split" }.
 */
import type { TransformerConfig } from '@grok/transformer';
import type { ParsedArgs } from './args.js';
import { makeBatch } from './data.js';
import { type Scores, evaluate } from './evaluate.js';
import { type OpenOptions, checkpointOptions, openCheckpoint } from './open-checkpoint.js';

export interface EvalResult {
  train: Scores;
  test: Scores;
  all: Scores;
  /** The step in the file's metadata; null when it has none. */
  step: number | null;
  /** The model config: from the metadata, else read off the tensors. */
  config: TransformerConfig;
  /** Where the split came from, in words. */
  split: string;
}

export function evalCheckpoint(file: string, options: Omit<OpenOptions, 'command'> = {}): EvalResult {
  const { model, split, step, config, splitFrom } = openCheckpoint(file, { ...options, command: 'eval' });
  const on = (pairs?: Int32Array) => evaluate(model, makeBatch(split.p, pairs));
  return { train: on(split.train), test: on(split.test), all: on(), step, config, split: splitFrom };
}

export function runEval(args: ParsedArgs): void {
  const { split, model } = checkpointOptions(args, 'eval');
  const file = args.positionals[0];
  if (file === undefined) throw new Error('eval: which checkpoint? (pnpm grok eval runs/NAME/checkpoints/step-NNNNNN.safetensors)');
  const log = args.general.quiet ? undefined : (line: string) => void process.stderr.write(line + '\n');
  const r = evalCheckpoint(file, { split, model, log });
  if (args.general.json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const line = (name: string, s: Scores) => `${name.padEnd(5)} loss ${s.loss.toExponential(4)}  accuracy ${(100 * s.accuracy).toFixed(2)} %`;
  process.stdout.write(`${file} (step ${r.step ?? 'unknown'})\n${line('train', r.train)}\n${line('test', r.test)}\n${line('all', r.all)}\n`);
}
