/**
 * json-file.ts for browsers (package.json's "browser" field puts this file in its place in the lab's bundle):
 * there are no files to name there, so reading one is an error that says so.
 */
import type * as Node from './json-file.js';

export const readJsonFile: typeof Node.readJsonFile = (file, what) => {
  throw new Error(`${what} ${file}: reading files needs Node (in the lab, settings come from the page)`);
};
