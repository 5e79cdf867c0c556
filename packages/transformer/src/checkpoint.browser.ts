/**
 * checkpoint.ts for browsers (package.json's "browser" field puts this file in its place in a bundle): there
 * are no files to read or write, so the path-taking functions say so; a checkpoint in memory still loads.
 * In a browser use checkpoint-format.ts: `checkpointBytes` (then a download) and `parseCheckpoint` (of a
 * dropped file's bytes).
 */
import type * as Files from './checkpoint.js';

const needsFiles = (name: string) => () => {
  throw new Error(`${name}: reads or writes files, which needs Node; in a browser use checkpointBytes / parseCheckpoint`);
};

export const saveCheckpoint: typeof Files.saveCheckpoint = needsFiles('saveCheckpoint');
export const loadCheckpoint: typeof Files.loadCheckpoint = needsFiles('loadCheckpoint');
export const loadModelFromCheckpoint: typeof Files.loadModelFromCheckpoint = needsFiles('loadModelFromCheckpoint');
export const writeAtomic: typeof Files.writeAtomic = needsFiles('writeAtomic');

export const loadCheckpointInto: typeof Files.loadCheckpointInto = (model, source, options = {}) => {
  if (typeof source === 'string') return needsFiles('loadCheckpointInto')();
  model.loadStateDict(source.tensors, { strict: options.strict ?? true, source: source.file });
  return source;
};
