/**
 * `pnpm grok eval CHECKPOINT [--split FILE] [--json]`: the loss (float64) and accuracy of one checkpoint on
 * its training pairs, its test pairs and all p² pairs. The split is the checkpoint's own (rebuilt from the run
 * config in its metadata) unless --split names one. Reads only: it works beside a run that is training.
 * With --json the last line is one object: { "train": { "loss", "accuracy" }, "test": {…}, "all": {…}, "step" }.
 */
import * as fs from 'node:fs';
import { loadCheckpoint, loadModelFromCheckpoint } from '@grok/transformer';
import type { ParsedArgs } from './args.js';
import { splitFor } from './analysis/run-analysis.js';
import { makeBatch } from './data.js';
import { type Scores, evaluate } from './evaluate.js';

export interface EvalResult {
  train: Scores;
  test: Scores;
  all: Scores;
  step: number;
}

export function evalCheckpoint(file: string, splitFile?: string): EvalResult {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new Error(`eval: no checkpoint file ${file}`);
  const ckpt = loadCheckpoint(file);
  if (!ckpt.config) throw new Error(`eval: ${file} has no model config in its metadata (key 'config'), so the model cannot be built`);
  const { model } = loadModelFromCheckpoint(file);
  const split = splitFor(file, model, ckpt.extra?.['run_config'], splitFile, 'eval');
  const on = (pairs?: Int32Array) => evaluate(model, makeBatch(split.p, pairs));
  return { train: on(split.train), test: on(split.test), all: on(), step: ckpt.step };
}

export function runEval(args: ParsedArgs): void {
  const extra = Object.keys(args.overrides).filter((k) => k !== 'split');
  if (extra.length > 0) throw new Error(`eval: config options do not apply here (${extra.map((k) => '--' + k.replace(/_/g, '-')).join(', ')})`);
  const split = args.overrides.split;
  if (split !== undefined && typeof split !== 'string') throw new Error('eval: --split needs a file');
  const file = args.positionals[0];
  if (file === undefined) throw new Error('eval: which checkpoint? (pnpm grok eval runs/NAME/checkpoints/step-NNNNNN.safetensors)');
  const r = evalCheckpoint(file, split);
  if (args.general.json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const line = (name: string, s: Scores) => `${name.padEnd(5)} loss ${s.loss.toExponential(4)}  accuracy ${(100 * s.accuracy).toFixed(2)} %`;
  process.stdout.write(`${file} (step ${r.step})\n${line('train', r.train)}\n${line('test', r.test)}\n${line('all', r.all)}\n`);
}
