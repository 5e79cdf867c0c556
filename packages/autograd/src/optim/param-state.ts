/**
 * Saving and restoring per-parameter state (optimizer moments, gradient-filter averages) as a flat
 * state dict:
 *
 *   { step: 120, 'state.0.step': 120, 'state.0.exp_avg': NDArray[…], 'state.0.exp_avg_sq': …, … }
 *
 * Parameters are named by their index in the list the optimizer was built with, as in PyTorch's
 * `optimizer.state_dict()`. A checkpoint stores the dict under a prefix of its own (@grok/transformer's
 * `saveCheckpoint` puts it under `optimizer.`, followed by the dict's path in the state it was given).
 */
import * as T from '@grok/tensor';
import { NDArray } from '@grok/tensor';
import type { StateDict } from '../state-dict.js';
import type { Tensor } from '../tensor.js';

/** The state kept for one parameter, by name. */
export type ParamState = Record<string, NDArray | number>;

/**
 * What each state entry must be: a `scalar`, a `tensor` of the parameter's shape and dtype, or a
 * `stacked` tensor [n, ...parameter shape] (a window of past values).
 */
export type StateSchema = Readonly<Record<string, 'scalar' | 'tensor' | 'stacked'>>;

/** Writes `state.<i>.<name>` entries for every parameter that has state; tensors are copied. */
export function saveStates(states: ReadonlyMap<number, ParamState>, out: StateDict): StateDict {
  for (const [i, s] of [...states].sort((a, b) => a[0] - b[0])) {
    for (const [name, value] of Object.entries(s)) {
      out[`state.${i}.${name}`] = typeof value === 'number' ? value : value.clone();
    }
  }
  return out;
}

/**
 * Reads and checks a state dict: `globals` are the top-level scalars (e.g. `step`); every other key must be
 * `state.<i>.<name>` for a parameter index i and a name of `schema`, with the kind, shape and dtype the
 * schema and parameter require, and every parameter that has state must have all of it. Throws (naming
 * `owner` and the key) before anything is changed; tensors are copied.
 */
export function loadStates(
  sd: StateDict,
  owner: string,
  params: readonly Tensor[],
  schema: StateSchema,
  globals: readonly string[],
): { scalars: Record<string, number>; states: Map<number, ParamState> } {
  const fail = (msg: string): never => {
    throw new Error(`${owner}.loadStateDict: ${msg}`);
  };
  if (sd === null || typeof sd !== 'object') fail(`expected an object of named tensors and numbers, got ${String(sd)}`);
  const names = Object.keys(schema);
  const scalars: Record<string, number> = {};
  const states = new Map<number, ParamState>();
  for (const [key, value] of Object.entries(sd)) {
    if (globals.includes(key)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) fail(`"${key}" must be a finite number, got ${String(value)}`);
      scalars[key] = value as number;
      continue;
    }
    const match = /^state\.(\d+)\.(\w+)$/.exec(key);
    if (!match) {
      fail(`unexpected key "${key}" (expected ${[...globals, `state.<parameter index>.<${names.join('|')}>`].join(', ')})`);
    }
    const i = Number(match![1]);
    const name = match![2]!;
    if (i >= params.length) fail(`"${key}" is for parameter ${i}, but there are only ${params.length} parameters`);
    const kind = schema[name];
    if (!kind) fail(`"${key}": unknown state "${name}" (this ${owner} keeps ${names.join(', ') || 'no per-parameter state'})`);
    const p = params[i]!;
    if (kind === 'scalar') {
      if (typeof value !== 'number' || !Number.isFinite(value)) fail(`"${key}" must be a finite number, got ${String(value)}`);
    } else {
      if (!(value instanceof NDArray)) fail(`"${key}" must be an NDArray, got ${String(value)}`);
      const t = value as NDArray;
      const ok = kind === 'tensor' ? T.shapesEqual(t.shape, p.shape) : t.ndim === p.ndim + 1 && T.shapesEqual(t.shape.slice(1), p.shape);
      if (!ok) {
        const want = kind === 'tensor' ? T.formatShape(p.shape) : `[n, ${p.shape.join(', ')}]`.replace(', ]', ']');
        fail(`"${key}" has shape ${T.formatShape(t.shape)}, but parameter ${i} needs ${want}`);
      }
      if (t.dtype !== p.dtype) fail(`"${key}" is ${t.dtype}, but parameter ${i} is ${p.dtype}`);
    }
    let s = states.get(i);
    if (!s) states.set(i, (s = {}));
    s[name] = typeof value === 'number' ? value : value.clone();
  }
  for (const g of globals) if (!(g in scalars)) fail(`missing "${g}"`);
  for (const [i, s] of states) {
    const missing = names.filter((n) => !(n in s));
    if (missing.length > 0) fail(`parameter ${i} lacks ${missing.map((n) => `"state.${i}.${n}"`).join(', ')}`);
  }
  return { scalars, states };
}
