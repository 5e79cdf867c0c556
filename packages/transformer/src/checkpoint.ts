/**
 * Checkpoint files: checkpoint-format.ts's bytes, read from and written to disk. Writes are atomic: a temp
 * file in the same directory, fsync'd, then renamed over the target. (A browser bundle gets
 * checkpoint.browser.ts instead, through package.json's "browser" field: there is no file system there.)
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type Checkpoint, type SaveOptions, checkpointBytes, modelFromCheckpoint, parseCheckpoint } from './checkpoint-format.js';
import type { HookedTransformer } from './hooked-transformer.js';
import type { Module } from './module.js';

export function saveCheckpoint(path: string, model: Module, options: SaveOptions): void {
  writeAtomic(path, checkpointBytes(model, options, path));
}

/** Reads a checkpoint; errors name the file (and the tensor, where one is at fault). */
export function loadCheckpoint(path: string): Checkpoint {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`loadCheckpoint(${path}): cannot read the file (${(e as Error).message})`);
  }
  return parseCheckpoint(bytes, path);
}

/** Loads a checkpoint's parameters into `model` (strict names, shapes and dtypes by default). */
export function loadCheckpointInto(model: Module, source: string | Checkpoint, options: { strict?: boolean } = {}): Checkpoint {
  const ckpt = typeof source === 'string' ? loadCheckpoint(source) : source;
  model.loadStateDict(ckpt.tensors, { strict: options.strict ?? true, source: ckpt.file });
  return ckpt;
}

/** Builds a HookedTransformer from the checkpoint's config and loads its parameters. */
export function loadModelFromCheckpoint(path: string): { model: HookedTransformer; checkpoint: Checkpoint } {
  const checkpoint = loadCheckpoint(path);
  return { model: modelFromCheckpoint(checkpoint), checkpoint };
}

/** Writes `bytes` to a temp file beside `path`, flushes it to disk, then renames it over `path`. */
export function writeAtomic(path: string, bytes: Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      let at = 0;
      while (at < bytes.byteLength) at += writeSync(fd, bytes, at, bytes.byteLength - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
