/**
 * The modular-addition data set: every pair (a, b) with 0 ≤ a, b < p, as the token sequence [a, b, =]
 * (the `=` token is p) and the label c = (a + b) mod p. Pair index a·p + b is the lexicographic order the
 * analysis uses.
 */
import { Generator, NDArray, raw } from '@grok/autograd';
import { preview } from '@grok/transformer';
import type { RunConfig } from './config.js';
import { readJsonFile } from './json-file.js';

export interface Split {
  p: number;
  /** Pair indices a·p + b of the training set, in training order. */
  train: Int32Array;
  /** The other pair indices, in lexicographic order. */
  test: Int32Array;
}

export interface Batch {
  /** [n, 3] int32: a, b, = */
  tokens: NDArray;
  /** [n] int32: (a + b) mod p */
  labels: NDArray;
}

export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

/**
 * A seeded split: shuffle all p² pair indices with our Generator (Fisher–Yates) and take the first
 * floor(frac · p²) for training. (The original paper's own split, made by Python's random.shuffle, can be
 * loaded with `loadSplit`.)
 */
export function randomSplit(p: number, fracTrain: number, seed: number): Split {
  const n = p * p;
  const perm = raw.randperm(n, { generator: new Generator(seed) }).data as Int32Array;
  const nTrain = Math.floor(fracTrain * n);
  if (nTrain < 1 || nTrain >= n) {
    throw new Error(`split: frac_train ${fracTrain} leaves ${nTrain} of ${n} pairs for training (need 1 to ${n - 1})`);
  }
  return finishSplit(p, Int32Array.from(perm.subarray(0, nTrain)));
}

/** A split of p = 1021 written one pair per line with indentation is about 40 MB; more is refused unread. */
const MAX_SPLIT_BYTES = 64 * 2 ** 20;

/**
 * Reads a split file `{"p": 113, "train": [[a, b], ...]}` (the format of the original paper's split) for a
 * model of modulus `p` (`whose` says whose p it is in errors). Its p is checked first, so a hostile file cannot make
 * us allocate the p² arrays of a p it chose.
 */
export function loadSplit(path: string, p: number, whose = "the config's p is"): Split {
  const json = readJsonFile(path, 'split file', MAX_SPLIT_BYTES);
  const fail = (why: string): never => {
    throw new Error(`split file ${path}: ${why}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('expected a JSON object {"p": …, "train": [[a, b], …]}');
  const { p: fileP, train } = json as { p?: unknown; train?: unknown };
  if (typeof fileP !== 'number' || !Number.isInteger(fileP)) fail(`"p" must be a prime number, got ${preview(fileP)}`);
  if (fileP !== p) fail(`its p is ${fileP} but ${whose} ${p}`);
  if (!isPrime(p)) fail(`"p" must be a prime number, got ${p}`);
  if (!Array.isArray(train) || train.length === 0) fail('"train" must be a non-empty list of [a, b] pairs');
  const pairs = train as unknown[];
  if (pairs.length >= p * p) fail('every pair is in the training set (or more); nothing is left to test on');
  const seen = new Uint8Array(p * p);
  const indices = new Int32Array(pairs.length);
  pairs.forEach((pair, i) => {
    const ok = Array.isArray(pair) && pair.length === 2 && pair.every((x) => Number.isInteger(x) && x >= 0 && x < p);
    if (!ok) fail(`train[${i}] = ${preview(pair)} is not a pair of integers in [0, ${p})`);
    const k = (pair as number[])[0]! * p + (pair as number[])[1]!;
    if (seen[k]) fail(`train[${i}] = ${preview(pair)} appears twice`);
    seen[k] = 1;
    indices[i] = k;
  });
  return finishSplit(p, indices);
}

/** A run's split: the file `config.split` names (the original paper's, say), or the seeded random one. */
export function makeSplit(config: Pick<RunConfig, 'split' | 'p' | 'frac_train' | 'seed'>): Split {
  return config.split ? loadSplit(config.split, config.p) : randomSplit(config.p, config.frac_train, config.seed);
}

function finishSplit(p: number, train: Int32Array): Split {
  const inTrain = new Uint8Array(p * p);
  for (const k of train) inTrain[k] = 1;
  const test = new Int32Array(p * p - train.length);
  let j = 0;
  for (let k = 0; k < p * p; k++) if (!inTrain[k]) test[j++] = k;
  return { p, train, test };
}

/** Tokens and labels for the given pair indices (all p² pairs in lexicographic order if omitted). */
export function makeBatch(p: number, pairs?: Int32Array): Batch {
  const idx = pairs ?? Int32Array.from({ length: p * p }, (_, k) => k);
  const tokens = new Int32Array(idx.length * 3);
  const labels = new Int32Array(idx.length);
  idx.forEach((k, i) => {
    const a = Math.floor(k / p);
    const b = k % p;
    tokens[3 * i] = a;
    tokens[3 * i + 1] = b;
    tokens[3 * i + 2] = p; // the `=` token
    labels[i] = (a + b) % p;
  });
  return {
    tokens: raw.tensor(tokens, { shape: [idx.length, 3], dtype: 'int32' }),
    labels: raw.tensor(labels, { shape: [idx.length], dtype: 'int32' }),
  };
}
