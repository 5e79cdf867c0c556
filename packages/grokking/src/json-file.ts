/**
 * Reading a JSON file named on the command line (`--config FILE`, `--split FILE`). Such a file is untrusted:
 * too large, not UTF-8, not JSON, or JSON nested a million deep, each gives an error that names the file,
 * never a crash, and invalid UTF-8 is never read as U+FFFD. (V8's JSON.parse is iterative, so deep nesting
 * cannot overflow the stack while parsing; code that walks the value must bound its own depth, and error
 * messages show values with `preview`.)
 */
import * as fs from 'node:fs';

/**
 * Parses `file` as JSON. `what` starts every error message (e.g. 'split file', '--config'); `maxBytes` bounds
 * what is read (JSON.parse allocates in proportion to the text).
 */
export function readJsonFile(file: string, what: string, maxBytes: number): unknown {
  const fail = (why: string): never => {
    throw new Error(`${what} ${file}: ${why}`);
  };
  let size = 0;
  let bytes = Buffer.alloc(0);
  try {
    size = fs.statSync(file).size;
    if (size <= maxBytes) bytes = fs.readFileSync(file);
  } catch (e) {
    fail(`cannot read it (${(e as Error).message})`);
  }
  if (size > maxBytes) fail(`${size} bytes is more than the ${maxBytes}-byte limit for this file`);
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    fail('cannot read it as JSON (it is not valid UTF-8)');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail(`cannot read it as JSON (${(e as Error).message})`);
  }
}
