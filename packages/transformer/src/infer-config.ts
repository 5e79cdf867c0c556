/**
 * A model's config read off its tensors: for a state dict with TransformerLens names and no config beside it,
 * e.g. a safetensors file converted from a PyTorch or TransformerLens run.
 *
 *   embed.W_E                       [d_vocab, d_model]
 *   pos_embed.W_pos                 [n_ctx, d_model]
 *   blocks.{i}.attn.W_Q, W_K, W_V   [n_heads, d_model, d_head]      n_layers = how many blocks.{i} there are
 *   blocks.{i}.attn.W_O             [n_heads, d_head, d_model]
 *   blocks.{i}.attn.b_Q, b_K, b_V   [n_heads, d_head]  and b_O [d_model]   all four or none: attn_bias
 *   blocks.{i}.mlp.W_in [d_model, d_mlp], b_in [d_mlp], W_out [d_mlp, d_model], b_out [d_model]
 *                                   all four or none: none means attn_only
 *   blocks.{i}.ln1.w|b, blocks.{i}.ln2.w|b, ln_final.w|b   [d_model]   all or none: 'LN' or no LayerNorm
 *   unembed.W_U                     [d_model, d_vocab_out]   and b_U [d_vocab_out] if unembed_bias
 *
 * Each size is read from the first tensor above that has it, and every later tensor must agree: an error
 * names both tensors and their shapes. Every block must look like block 0, the tensors must all have one
 * dtype (float32 or float64), and a tensor that is none of these is an error, not something skipped.
 *
 * Shapes cannot tell the activation function (ReLU unless `given` says otherwise), nor 'LNPre' from no
 * LayerNorm (neither has tensors), nor how the weights were initialised (irrelevant once they are loaded).
 * `given` supplies those, and any field it has that the shapes also tell must agree with them.
 */
import { type NDArray, type StateDict, formatShape } from '@grok/autograd';
import { type TransformerConfig, resolveConfig } from './config.js';
import { clip } from './preview.js';

export interface InferConfigOptions {
  /** Known values (a config from metadata, command-line options): checked against the shapes, used where shapes are silent. */
  given?: Partial<TransformerConfig>;
  /** How errors name a `given` field, e.g. `--d-mlp` (default: `given d_mlp`). */
  nameGiven?: (field: keyof TransformerConfig) => string;
  /** The file the tensors came from, for errors. */
  source?: string;
}

/** The sizes that shapes tell, in the order a reader of the table above meets them. */
type Dim = 'd_vocab' | 'd_model' | 'n_ctx' | 'n_heads' | 'd_head' | 'd_mlp' | 'd_vocab_out';

export function configFromStateDict(tensors: Readonly<StateDict<NDArray>>, options: InferConfigOptions = {}): TransformerConfig {
  const given = options.given ?? {};
  const nameGiven = options.nameGiven ?? ((field) => `given ${field}`);
  const fail = (why: string): never => {
    throw new Error(`model config from ${options.source ?? 'a state dict'}: ${why}`);
  };
  const has = (name: string) => Object.hasOwn(tensors, name);
  const seen = new Set<string>(); // every tensor the config accounts for
  const shown = (name: string) => `${clip(name)} ${formatShape(tensors[name]!.shape)}`;

  // Each size, with the tensor that first told it (for the message when another disagrees).
  const dims = new Map<Dim, { value: number; from: string }>();
  /** Reads the tensor `name` as the pattern `axes`, fixing each size or checking it against the one known. */
  const read = (name: string, axes: Dim[]) => {
    if (!has(name)) {
      const names = Object.keys(tensors);
      const some = names.slice(0, 8).map((n) => clip(n)).join(', ') + (names.length > 8 ? `, … (${names.length} in all)` : '');
      fail(`tensor '${name}' [${axes.join(', ')}] is missing (the tensors: ${some || 'none'})`);
    }
    const shape = tensors[name]!.shape;
    if (shape.length !== axes.length) fail(`${shown(name)} should have ${axes.length} axes [${axes.join(', ')}]`);
    axes.forEach((dim, axis) => {
      const known = dims.get(dim);
      if (known === undefined) dims.set(dim, { value: shape[axis]!, from: shown(name) });
      else if (known.value !== shape[axis]) {
        fail(`${shown(name)} is [${axes.join(', ')}], so ${dim} = ${shape[axis]}, but ${known.from} has ${dim} = ${known.value}`);
      }
    });
    seen.add(name);
  };
  /** Which of a group's tensors exist: all (true), none (false), or some (an error naming the missing ones). */
  const group = (what: string, names: string[]): boolean => {
    const present = names.filter(has);
    if (present.length > 0 && present.length < names.length) {
      fail(`${what} has ${present.map((n) => clip(n)).join(', ')} but not ${names.filter((n) => !has(n)).join(', ')}: they come all together or not at all`);
    }
    return present.length === names.length;
  };

  read('embed.W_E', ['d_vocab', 'd_model']);
  read('pos_embed.W_pos', ['n_ctx', 'd_model']);

  // Blocks: 0 … n_layers − 1, with no gap.
  const indices = new Set<number>();
  for (const name of Object.keys(tensors)) {
    const m = /^blocks\.(\d+)\./.exec(name);
    if (m) indices.add(Number(m[1]));
  }
  const n_layers = indices.size === 0 ? 0 : Math.max(...indices) + 1;
  if (n_layers === 0) fail(`no blocks.0.* tensors: a transformer has at least one block`);
  for (let i = 0; i < n_layers; i++) if (!indices.has(i)) fail(`there are tensors of blocks.${n_layers - 1} but none of blocks.${i}`);

  // Per block: which optional parts it has. Block 0 decides; every other block must have the same.
  let first: { attnBias: boolean; mlp: boolean; ln: boolean } | undefined;
  for (let i = 0; i < n_layers; i++) {
    const b = `blocks.${i}`;
    read(`${b}.attn.W_Q`, ['n_heads', 'd_model', 'd_head']);
    read(`${b}.attn.W_K`, ['n_heads', 'd_model', 'd_head']);
    read(`${b}.attn.W_V`, ['n_heads', 'd_model', 'd_head']);
    read(`${b}.attn.W_O`, ['n_heads', 'd_head', 'd_model']);
    const attnBias = group(`${b}.attn`, ['b_Q', 'b_K', 'b_V', 'b_O'].map((n) => `${b}.attn.${n}`));
    if (attnBias) {
      for (const n of ['b_Q', 'b_K', 'b_V']) read(`${b}.attn.${n}`, ['n_heads', 'd_head']);
      read(`${b}.attn.b_O`, ['d_model']);
    }
    const mlp = group(`${b}.mlp`, ['W_in', 'b_in', 'W_out', 'b_out'].map((n) => `${b}.mlp.${n}`));
    if (mlp) {
      read(`${b}.mlp.W_in`, ['d_model', 'd_mlp']);
      read(`${b}.mlp.b_in`, ['d_mlp']);
      read(`${b}.mlp.W_out`, ['d_mlp', 'd_model']);
      read(`${b}.mlp.b_out`, ['d_model']);
    }
    // An attention-only block has no ln2 (nothing to normalise for).
    const lnNames = [`${b}.ln1.w`, `${b}.ln1.b`, ...(mlp ? [`${b}.ln2.w`, `${b}.ln2.b`] : [])];
    const ln = group(b, lnNames);
    if (ln) for (const n of lnNames) read(n, ['d_model']);
    const parts = { attnBias, mlp, ln };
    if (!first) first = parts;
    else {
      const say = (yes: boolean, thing: string) => `${yes ? 'has' : 'has no'} ${thing}`;
      if (parts.attnBias !== first.attnBias) fail(`${b}.attn ${say(parts.attnBias, 'biases')} but blocks.0.attn ${say(first.attnBias, 'biases')}`);
      if (parts.mlp !== first.mlp) fail(`${b} ${say(parts.mlp, 'MLP')} but blocks.0 ${say(first.mlp, 'MLP')}`);
      if (parts.ln !== first.ln) fail(`${b} ${say(parts.ln, 'LayerNorm weights')} but blocks.0 ${say(first.ln, 'LayerNorm weights')}`);
    }
  }
  const { attnBias, mlp, ln } = first!;
  const lnFinal = group('ln_final', ['ln_final.w', 'ln_final.b']);
  if (lnFinal !== ln) fail(`ln_final ${lnFinal ? 'has' : 'has no'} weights but the blocks ${ln ? 'have' : 'have no'} LayerNorm weights`);
  if (lnFinal) for (const n of ['ln_final.w', 'ln_final.b']) read(n, ['d_model']);

  read('unembed.W_U', ['d_model', 'd_vocab_out']);
  const unembedBias = has('unembed.b_U');
  if (unembedBias) read('unembed.b_U', ['d_vocab_out']);

  const extra = Object.keys(tensors).filter((n) => !seen.has(n));
  if (extra.length > 0) {
    const some = extra.slice(0, 6).map((n) => clip(n)).join(', ') + (extra.length > 6 ? `, … (${extra.length} in all)` : '');
    fail(`tensors that are not parameters of a HookedTransformer: ${some} (buffers such as attn.mask are not saved; drop them when converting)`);
  }
  const dtype = tensors['embed.W_E']!.dtype;
  if (dtype !== 'float32' && dtype !== 'float64') fail(`embed.W_E has dtype ${dtype}; the weights must be float32 or float64`);
  for (const name of seen) {
    if (tensors[name]!.dtype !== dtype) fail(`${clip(name)} has dtype ${tensors[name]!.dtype} but embed.W_E has ${dtype}: one dtype for every tensor`);
  }

  // What the shapes told; then every given value must agree with it.
  const size = (d: Dim) => dims.get(d)?.value;
  const told: Partial<TransformerConfig> = {
    n_layers, d_model: size('d_model'), n_heads: size('n_heads'), d_head: size('d_head'), d_vocab: size('d_vocab'),
    d_vocab_out: size('d_vocab_out'), n_ctx: size('n_ctx'), attn_only: !mlp, attn_bias: attnBias, unembed_bias: unembedBias, dtype,
    ...(mlp ? { d_mlp: size('d_mlp') } : {}), // an attention-only model's d_mlp is whatever the config says
  };
  for (const [field, value] of Object.entries(told) as [keyof TransformerConfig, unknown][]) {
    if (given[field] === undefined || given[field] === value) continue;
    const why = dims.has(field as Dim)
      ? `${dims.get(field as Dim)!.from} has ${field} = ${value}`
      : field === 'n_layers' ? `the tensors have ${n_layers} block${n_layers === 1 ? '' : 's'} (blocks.0 … blocks.${n_layers - 1})`
      : field === 'attn_only' ? (mlp ? 'blocks.0 has MLP weights (blocks.0.mlp.W_in …)' : 'blocks.0 has no MLP weights')
      : field === 'attn_bias' ? (attnBias ? 'blocks.0.attn has b_Q, b_K, b_V, b_O' : 'blocks.0.attn has no biases')
      : field === 'unembed_bias' ? (unembedBias ? 'unembed.b_U exists' : 'there is no unembed.b_U')
      : `the tensors are ${value}`;
    fail(`${nameGiven(field)} ${JSON.stringify(given[field])} contradicts the tensors: ${why}`);
  }
  // LayerNorm: weights mean 'LN'; none means no LayerNorm, or 'LNPre' if given (its tensors were folded away).
  const norm = given.normalization_type;
  if (ln && norm !== undefined && norm !== 'LN') {
    fail(`${nameGiven('normalization_type')} ${JSON.stringify(norm)} contradicts the tensors: blocks.0.ln1.w and .b exist ('LN')`);
  }
  if (!ln && norm === 'LN') fail(`${nameGiven('normalization_type')} "LN" contradicts the tensors: there are no LayerNorm weights (blocks.0.ln1.w …)`);

  try {
    return resolveConfig({ ...given, ...told, normalization_type: ln ? 'LN' : (norm ?? null) } as TransformerConfig);
  } catch (e) {
    return fail((e as Error).message);
  }
}
