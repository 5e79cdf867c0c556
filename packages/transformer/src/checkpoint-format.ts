/**
 * Checkpoints: one safetensors file per snapshot.
 *
 *   tensors      the model's parameters under their TransformerLens names (`embed.W_E`, …), so Python's
 *                `safetensors.numpy.load_file` and a TransformerLens model read them directly;
 *                optimizer tensors under `optimizer.<their path in the optimizer state>`: AdamW's stateDict()
 *                names parameters by index, so its first moment of parameter 0 is `optimizer.state.0.exp_avg`
 *                (`optimizer.adamw.state.0.exp_avg` in the grokking runs, which save `{ adamw, filter }`).
 *   __metadata__ (strings only, as the format requires)
 *                format = "grok.checkpoint", format_version = "1", step = "<int>",
 *                config = JSON of the model config, optimizer = JSON of the optimizer state with each
 *                tensor replaced by {"$tensor": "optimizer.…"}, extra = JSON of anything else.
 *
 * The optimizer state may be any tree of plain objects, arrays, Maps, numbers, strings, booleans, null and
 * tensors (raw or autograd), e.g. whatever an optimizer's `stateDict()` returns: it comes back with the
 * same structure, so training resumes exactly.
 *
 * This file turns a model into a checkpoint's bytes and bytes back into a checkpoint, and touches no file
 * system, so it runs in a browser as well (the lab downloads and opens checkpoints with it). Reading and
 * writing files, atomically, is checkpoint.ts.
 */
import { NDArray, type StateDict, Tensor } from '@grok/autograd';
import type { TransformerConfig } from './config.js';
import { HookedTransformer } from './hooked-transformer.js';
import type { Module } from './module.js';
import { clip } from './preview.js';
import { type Metadata, parseSafetensors, serializeSafetensors } from './safetensors.js';

/** An optimizer's state: any JSON-like tree whose leaves may also be tensors. */
export type StateTree =
  | NDArray
  | Tensor
  | number
  | string
  | boolean
  | null
  | readonly StateTree[]
  | ReadonlyMap<string, StateTree>
  | { readonly [key: string]: StateTree };

export interface SaveOptions {
  /** The training step of this snapshot. */
  step: number;
  /** The model config (default: `model.cfg` when the model has one). */
  config?: object;
  /** Optimizer state, stored so that training resumes exactly. */
  optimizer?: StateTree;
  /** Anything else JSON-able (e.g. the data seed, metrics at this step). */
  extra?: Record<string, unknown>;
}

export interface Checkpoint {
  file: string;
  step: number;
  config: TransformerConfig | Record<string, unknown> | undefined;
  /** The model's parameters by name: a state dict, as `Module.stateDict()` returns. */
  tensors: StateDict<NDArray>;
  /** The optimizer state with its original structure (tensors as NDArrays), if one was saved. */
  optimizer: StateTree | undefined;
  extra: Record<string, unknown> | undefined;
  /** The raw string metadata of the file. */
  metadata: Metadata;
}

export const OPTIMIZER_PREFIX = 'optimizer.';
const FORMAT = 'grok.checkpoint';

/** The safetensors bytes of a checkpoint of `model` (`name` names the destination in errors). */
export function checkpointBytes(model: Module, options: SaveOptions, name = '<bytes>'): Uint8Array {
  const { step, optimizer, extra } = options;
  if (!Number.isSafeInteger(step) || step < 0) throw new Error(`saveCheckpoint(${name}): step must be a non-negative integer, got ${step}`);
  const config = options.config ?? (model as { cfg?: object }).cfg;
  const tensors: [string, NDArray][] = [...model.namedParameters()].map(([name, p]) => [name, p.value]);
  const metadata: Metadata = { format: FORMAT, format_version: '1', step: String(step) };
  if (config !== undefined) metadata.config = JSON.stringify(config);
  if (optimizer !== undefined) {
    const skeleton = flattenState(optimizer, OPTIMIZER_PREFIX.slice(0, -1), tensors);
    metadata.optimizer = JSON.stringify(skeleton);
  }
  if (extra !== undefined) metadata.extra = JSON.stringify(extra);
  return serializeSafetensors(tensors, metadata);
}

/** Parses a checkpoint's bytes; errors name `file` (and the tensor, where one is at fault). */
export function parseCheckpoint(bytes: Uint8Array, file: string): Checkpoint {
  const { tensors: all, metadata } = parseSafetensors(bytes, file);
  const fail = (why: string): never => {
    throw new Error(`loadCheckpoint(${file}): ${why}`);
  };
  const json = (key: string): unknown => {
    if (metadata[key] === undefined) return undefined;
    try {
      return JSON.parse(metadata[key]!);
    } catch (e) {
      return fail(`metadata '${key}' is not valid JSON (${(e as Error).message})`);
    }
  };
  const stepText = metadata.step ?? '0';
  const step = Number(stepText);
  if (!/^\d+$/.test(stepText) || !Number.isSafeInteger(step)) fail(`metadata 'step' must be a non-negative integer, got '${clip(stepText)}'`);
  const tensors: StateDict<NDArray> = Object.create(null); // a tensor named '__proto__' stays a tensor
  const optimizerTensors = new Map<string, NDArray>();
  for (const [name, t] of all) {
    if (name.startsWith(OPTIMIZER_PREFIX)) optimizerTensors.set(name, t);
    else tensors[name] = t;
  }
  const skeleton = json('optimizer');
  const optimizer = skeleton === undefined ? undefined : unflattenState(skeleton, optimizerTensors, file);
  return {
    file,
    step,
    config: json('config') as Checkpoint['config'],
    tensors,
    optimizer,
    extra: json('extra') as Checkpoint['extra'],
    metadata,
  };
}

/** Builds a HookedTransformer from a parsed checkpoint's config and loads its parameters (strict). */
export function modelFromCheckpoint(checkpoint: Checkpoint): HookedTransformer {
  const file = checkpoint.file;
  if (!checkpoint.config) throw new Error(`loadModelFromCheckpoint(${file}): the file has no config in its metadata`);
  let model: HookedTransformer;
  try {
    model = new HookedTransformer(checkpoint.config as TransformerConfig);
  } catch (e) {
    throw new Error(`loadModelFromCheckpoint(${file}): ${(e as Error).message}`);
  }
  model.loadStateDict(checkpoint.tensors, { strict: true, source: file });
  return model;
}

// ---------------------------------------------------------------------------------------------------------
// Optimizer state ↔ (JSON skeleton, named tensors)

type Skeleton = null | boolean | number | string | Skeleton[] | { [key: string]: Skeleton };

/** Replaces each tensor leaf by {"$tensor": name}, appending [name, tensor] to `out`. */
function flattenState(node: StateTree, path: string, out: [string, NDArray][]): Skeleton {
  if (node instanceof Tensor || node instanceof NDArray) {
    let name = path;
    for (let k = 1; out.some(([n]) => n === name); k++) name = `${path}~${k}`; // keep names unique
    out.push([name, node instanceof Tensor ? node.value : node]);
    return { $tensor: name };
  }
  if (node === null || typeof node === 'string' || typeof node === 'boolean') return node;
  if (typeof node === 'number') return Number.isFinite(node) ? node : { $number: String(node) };
  if (Array.isArray(node)) return node.map((x, i) => flattenState(x, `${path}.${i}`, out));
  if (node instanceof Map) {
    const entries: Skeleton[] = [];
    for (const [k, v] of node) entries.push([String(k), flattenState(v, `${path}.${k}`, out)]);
    return { $map: entries };
  }
  if (typeof node === 'object') {
    const obj: { [key: string]: Skeleton } = {};
    for (const [k, v] of Object.entries(node)) obj[k] = flattenState(v as StateTree, `${path}.${k}`, out);
    return obj;
  }
  throw new Error(`saveCheckpoint: optimizer state at '${path}' is a ${typeof node}, which cannot be stored`);
}

/** Deeper optimizer state than this is refused: a hostile file could nest 10⁶ levels and overflow the stack. */
const MAX_STATE_DEPTH = 64;

function unflattenState(node: unknown, tensors: Map<string, NDArray>, file: string, depth = 0): StateTree {
  if (node === null || typeof node !== 'object') return node as StateTree;
  if (depth >= MAX_STATE_DEPTH) throw new Error(`loadCheckpoint(${file}): optimizer state is nested deeper than ${MAX_STATE_DEPTH} levels`);
  const inner = (x: unknown) => unflattenState(x, tensors, file, depth + 1);
  if (Array.isArray(node)) return node.map(inner);
  const obj = node as Record<string, unknown>;
  if (typeof obj.$tensor === 'string') {
    const t = tensors.get(obj.$tensor);
    if (!t) throw new Error(`loadCheckpoint(${file}): optimizer tensor '${clip(obj.$tensor)}' is missing from the file`);
    return t;
  }
  if (typeof obj.$number === 'string') return Number(obj.$number);
  if (Array.isArray(obj.$map)) {
    return new Map(
      obj.$map.map((entry: unknown) => {
        if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') {
          throw new Error(`loadCheckpoint(${file}): optimizer state has a $map entry that is not a [key, value] pair`);
        }
        return [entry[0], inner(entry[1])] as const;
      }),
    );
  }
  const out: { [key: string]: StateTree } = {};
  for (const [k, v] of Object.entries(obj)) out[k] = inner(v);
  return out;
}
