/**
 * Property-based tests of the JSON files the CLI reads from the user (`--split FILE`, `--config FILE`), with
 * fast-check: random bytes, random JSON, near-valid splits and configs, invalid UTF-8 and deeply nested JSON.
 * Every file is either read correctly or refused with a plain Error naming the file: no other exception, no
 * hang, no message of unbounded length, and no allocation beyond what the file holds (a split's p²-sized
 * arrays are only made once its p is known to be the run's).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { configFrom, parseCommandLine } from '../src/args.js';
import { PAPER_CONFIG, resolveConfig } from '../src/config.js';
import { loadSplit } from '../src/data.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grok-jsonfuzz-'));
let cases = 0;
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`json files fuzz: ${cases} cases`);
});

const P = 13;
let n = 0;
function fileWith(content: string | Uint8Array): string {
  const file = path.join(dir, `f${n++}.json`);
  fs.writeFileSync(file, content);
  return file;
}

/** Runs `read`; returns its value, or the message of the Error it threw, after checking the contract. */
function check<T>(file: string, prefix: string, read: () => T): { ok: true; value: T } | { ok: false; message: string } {
  cases++;
  const before = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  try {
    const value = read();
    return { ok: true, value };
  } catch (e) {
    expect((e as Error).constructor, (e as Error).stack).toBe(Error); // not a RangeError (stack), TypeError, …
    expect((e as Error).message.startsWith(`${prefix} ${file}: `), (e as Error).message.slice(0, 200)).toBe(true);
    expect((e as Error).message.length).toBeLessThan(1200);
    return { ok: false, message: (e as Error).message };
  } finally {
    expect(performance.now() - t0).toBeLessThan(2000);
    // A split's p² bytes (169 here) and the file itself, plus slack for Node's buffer pool.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThanOrEqual(fs.statSync(file).size + (1 << 20));
  }
}
const split = (file: string) => check(file, 'split file', () => loadSplit(file, P));
const config = (file: string) => check(file, '--config', () => configFrom(parseCommandLine(['--config', file])));

const nested = (depth: number, inner = '0') => '['.repeat(depth) + inner + ']'.repeat(depth);
const invalidUtf8 = fc.constantFrom([0xff], [0xc0, 0xaf], [0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf5, 0x80, 0x80, 0x80]);

/** Inserts invalid UTF-8 bytes inside the first JSON string of `json` (so a lenient decoder would still parse it). */
function withInvalidUtf8(json: string, seq: readonly number[]): Buffer {
  const bytes = Buffer.from(json);
  const at = bytes.indexOf('"') + 1;
  return Buffer.concat([bytes.subarray(0, at), Buffer.from(seq), bytes.subarray(at)]);
}

describe('--split files, fuzzed', () => {
  it('random bytes and random JSON are read or refused, naming the file', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => void split(fileWith(bytes))), { numRuns: 300 });
    fc.assert(fc.property(fc.jsonValue(), (json) => void split(fileWith(JSON.stringify(json)))), { numRuns: 300 });
  });

  it('near-valid splits: accepted exactly when every pair is a distinct pair in [0, p), and then read exactly', () => {
    const coordinate = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: P - 1 }) }, { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.constant(P), fc.constant(-1), fc.string(), fc.constant(null)) });
    const pair = fc.oneof({ weight: 10, arbitrary: fc.tuple(coordinate, coordinate) }, { weight: 1, arbitrary: fc.array(coordinate, { maxLength: 3 }) }, { weight: 1, arbitrary: fc.jsonValue() });
    const p = fc.oneof({ weight: 6, arbitrary: fc.constant(P) }, { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.constant(11), fc.constant(1e300), fc.constant(2 ** 53 + 1), fc.string(), fc.jsonValue()) });
    fc.assert(
      fc.property(p, fc.array(pair, { maxLength: 30 }), (fileP, train) => {
        const outcome = split(fileWith(JSON.stringify({ p: fileP, train })));
        const valid =
          fileP === P &&
          train.length > 0 &&
          train.every((x) => Array.isArray(x) && x.length === 2 && x.every((c) => Number.isInteger(c) && (c as number) >= 0 && (c as number) < P)) &&
          new Set(train.map((x) => JSON.stringify(x))).size === train.length;
        expect(outcome.ok).toBe(valid);
        if (!outcome.ok) return;
        const indices = (train as [number, number][]).map(([a, b]) => a * P + b);
        expect([...outcome.value.train]).toEqual(indices);
        expect([...outcome.value.test]).toEqual([...Array(P * P).keys()].filter((k) => !indices.includes(k)));
      }),
      { numRuns: 800 },
    );
  });

  it('invalid UTF-8 is refused (never read as U+FFFD)', () => {
    fc.assert(
      fc.property(invalidUtf8, (seq) => {
        const outcome = split(fileWith(withInvalidUtf8(JSON.stringify({ p: P, train: [[1, 2]], note: 'x' }), seq)));
        expect(outcome.ok ? 'accepted' : outcome.message).toMatch(/not valid UTF-8/);
      }),
      { numRuns: 50 },
    );
  });

  it('deeply nested JSON anywhere is refused quickly', () => {
    const where = fc.constantFrom('whole', 'p', 'train', 'pair', 'coordinate');
    fc.assert(
      fc.property(where, fc.integer({ min: 1, max: 100_000 }), (place, depth) => {
        const deep = nested(depth);
        const text = {
          whole: deep,
          p: `{"p":${deep},"train":[[1,2]]}`,
          train: `{"p":${P},"train":${deep}}`,
          pair: `{"p":${P},"train":[[1,2],${deep}]}`,
          coordinate: `{"p":${P},"train":[[1,${deep}]]}`,
        }[place];
        expect(split(fileWith(text)).ok).toBe(false);
      }),
      { numRuns: 120 },
    );
  });

  it('a split for a huge p is refused before its p² arrays are made', () => {
    for (const p of [1_000_003, 2 ** 31 - 1, 1e15 + 37]) {
      const outcome = split(fileWith(JSON.stringify({ p, train: [[0, 1]] })));
      expect(outcome.ok ? '' : outcome.message).toMatch(new RegExp(`its p is ${p} but the config's p is ${P}`));
    }
  });
});

describe('--config files, fuzzed', () => {
  const keys = Object.keys(PAPER_CONFIG);
  it('random bytes and random JSON are read or refused, naming the file', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => void config(fileWith(bytes))), { numRuns: 300 });
    fc.assert(fc.property(fc.jsonValue(), (json) => void config(fileWith(JSON.stringify(json)))), { numRuns: 300 });
  });

  it('near-valid configs: accepted exactly when resolveConfig accepts the values, and then used as given', () => {
    const key = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'colour', '') });
    const value = fc.oneof(fc.jsonValue(), fc.integer({ min: 0, max: 200 }), fc.double({ min: 0, max: 1 }), fc.constantFrom(97, 113, 0.3, 1e300, -1, null, true, 'relu', 'gelu', 'l2'));
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 5 }), (json) => {
        const text = JSON.stringify(json);
        const outcome = config(fileWith(text));
        let expected: unknown = null;
        try {
          // The values the file holds: JSON has no NaN or ±Infinity (they are written as null).
          expected = resolveConfig(JSON.parse(text) as Record<string, unknown>);
        } catch {
          // resolveConfig refuses it: so must the file
        }
        expect(outcome.ok).toBe(expected !== null);
        if (outcome.ok) expect(outcome.value).toEqual(expected);
      }),
      { numRuns: 800 },
    );
  });

  it('invalid UTF-8 and deep nesting are refused', () => {
    fc.assert(
      fc.property(invalidUtf8, (seq) => {
        const outcome = config(fileWith(withInvalidUtf8(JSON.stringify({ act_fn: 'relu' }), seq)));
        expect(outcome.ok ? 'accepted' : outcome.message).toMatch(/not valid UTF-8/);
      }),
      { numRuns: 50 },
    );
    fc.assert(
      fc.property(fc.constantFrom('whole', 'value', 'grokfast', 'split'), fc.integer({ min: 1, max: 100_000 }), (place, depth) => {
        const deep = nested(depth);
        const text = { whole: deep, value: `{"lr":${deep}}`, grokfast: `{"grokfast":{"kind":"ema","alpha":${deep}}}`, split: `{"split":${deep}}` }[place];
        expect(config(fileWith(text)).ok).toBe(false);
      }),
      { numRuns: 120 },
    );
  });

  it('a file too large to be a config is refused unread', () => {
    const file = fileWith(`{"lr": 0.001${' '.repeat(2 ** 20)}}`);
    const outcome = config(file);
    expect(outcome.ok ? '' : outcome.message).toMatch(/bytes is more than the 1048576-byte limit/);
  });
});
