/**
 * HookedTransformer: a decoder-only transformer whose parameters, config and hook points carry
 * TransformerLens's names, so analyses written against TransformerLens read the same here.
 *
 *   resid = W_E[tokens] + W_pos                       hook_embed, hook_pos_embed
 *   resid = block_i(resid)  for each block            blocks.{i}.hook_resid_pre … hook_resid_post
 *   logits = ln_final(resid) · W_U                     [batch, pos, d_vocab_out]
 *
 * `run(tokens, { lastPositionOnly: true })` returns logits [batch, d_vocab_out] for the last position only,
 * and `tokenTables` (on by default where it is valid and cheaper) computes the first block's q, k, v by
 * lookups in per-(position, token) tables, `mlpTables` and `logitTables` what follows from them: the same
 * function for a fraction of the work (shortcuts.ts, table-attention.ts).
 */
import { NDArray, Tensor, formatShape, raw } from '@grok/autograd';
import { type TransformerConfig, type TransformerConfigInput, resolveConfig } from './config.js';
import { type Hook, HookContext, type Hooks, normalizeHooks } from './hooks.js';
import { initParameters } from './init.js';
import { TransformerBlock } from './layers/block.js';
import { Embed } from './layers/embed.js';
import { LayerNorm } from './layers/layer-norm.js';
import { PosEmbed } from './layers/pos-embed.js';
import { Unembed } from './layers/unembed.js';
import { Module, ModuleList } from './module.js';
import { blockAtLastPosition, blockFromTable, logitsFromTable, useLogitTables, useMlpTables, useTokenTables } from './shortcuts.js';

/** Token ids: an int32 tensor [batch, pos] (autograd or raw), or nested arrays of integers. */
export type Tokens = Tensor | NDArray | readonly (readonly number[])[];

export interface RunOptions {
  /** Hooks for this call only: read or replace activations by name. */
  hooks?: Hooks;
  /** Logits [batch, d_vocab_out] for the last position, computing only what it needs. */
  lastPositionOnly?: boolean;
  /**
   * Compute the first block's q, k, v (and its residual input) by lookups in per-(position, token) tables
   * instead of per-example matmuls (see shortcuts.ts). The same numbers up to
   * summation order. 'auto' (default): when the batch is larger than d_vocab and no hook looks at
   * hook_embed, hook_pos_embed, blocks.0.hook_resid_pre, blocks.0.ln1.* or blocks.0.attn.hook_q/k/v.
   */
  tokenTables?: boolean | 'auto';
  /**
   * With token tables, also form the first block's attention output and MLP input from tables (embedding
   * bags weighted by the attention pattern, see table-attention.ts). The same numbers up to summation order. 'auto' (default): when
   * the block has an MLP with no LayerNorm before it and no hook looks at blocks.0.attn.hook_attn_scores /
   * hook_pattern / hook_z, blocks.0.hook_attn_out or blocks.0.hook_resid_mid.
   */
  mlpTables?: boolean | 'auto';
  /**
   * With the MLP tables, in a one-block model with no final LayerNorm, also form the logits from tables:
   * bag(VO · W_U) + post · (W_out · W_U) + a row of a small table (see table-attention.ts), never forming
   * the MLP's output or resid_post. The same numbers up to summation order. 'auto' (default): when no hook
   * looks at blocks.0.hook_mlp_out or blocks.0.hook_resid_post.
   */
  logitTables?: boolean | 'auto';
}

export interface CacheOptions extends RunOptions {
  /** Which activations to keep: names, or a predicate on names. Default: every hook point. */
  names?: readonly string[] | ((name: string) => boolean);
}

export interface RunWithCache {
  logits: Tensor;
  /** Activations by hook name, detached from the graph, in the order the forward pass made them. */
  cache: Map<string, Tensor>;
}

export class HookedTransformer extends Module {
  readonly cfg: Readonly<TransformerConfig>;
  readonly embed: Embed;
  readonly pos_embed: PosEmbed;
  readonly blocks: ModuleList<TransformerBlock>;
  readonly ln_final: LayerNorm | null;
  readonly unembed: Unembed;
  readonly #hookNames: ReadonlySet<string>;

  constructor(config: TransformerConfigInput) {
    super();
    const cfg = resolveConfig(config);
    this.cfg = Object.freeze(cfg);
    this.embed = this.addModule('embed', new Embed(cfg));
    this.pos_embed = this.addModule('pos_embed', new PosEmbed(cfg));
    const blocks = Array.from({ length: cfg.n_layers }, () => new TransformerBlock(cfg));
    this.blocks = this.addModule('blocks', new ModuleList(blocks));
    const lnFinal = cfg.normalization_type ? new LayerNorm(cfg, cfg.normalization_type === 'LN') : null;
    this.ln_final = lnFinal && this.addModule('ln_final', lnFinal);
    this.unembed = this.addModule('unembed', new Unembed(cfg));
    this.#hookNames = new Set(this.hookNames());
    initParameters(this, cfg);
  }

  /** Every hook point, in the order the forward pass reaches them. */
  hookNames(): string[] {
    return [
      'hook_embed',
      'hook_pos_embed',
      ...[...this.blocks].flatMap((b) => b.hookNames()),
      ...(this.ln_final?.hookNames() ?? []),
    ];
  }

  /** Logits [batch, pos, d_vocab_out]. */
  forward(tokens: Tokens): Tensor {
    return this.run(tokens);
  }

  /**
   * Logits [batch, pos, d_vocab_out], or [batch, d_vocab_out] with lastPositionOnly. The plain pass reads
   * like the equations above; the shortcuts (last position only, token tables) are in shortcuts.ts.
   */
  run(tokens: Tokens, options: RunOptions = {}): Tensor {
    const ctx = new HookContext(options.hooks, this.#hookNames);
    const ids = this.#tokens(tokens); // [batch, pos]
    const [batch, pos] = ids.shape as [number, number];
    const last = options.lastPositionOnly ?? false;
    const blocks = this.blocks.items;
    const final = blocks.length - 1;
    // Block i, at the last position only where that is all that is asked (the final block).
    const runBlock = (i: number, resid: Tensor) =>
      last && i === final ? blockAtLastPosition(blocks[i]!, resid, ctx) : blocks[i]!.forward(resid, ctx);

    let resid: Tensor; // [batch, pos or 1, d_model]
    if (useTokenTables(this, options.tokenTables ?? 'auto', ctx, batch)) {
      // resid_pre for every (position, token): W_pos[p] + W_E[t]   [pos, d_vocab, d_model]
      const table = this.pos_embed.W_pos.narrow(0, 0, pos).unsqueeze(1).add(this.embed.W_E.unsqueeze(0));
      const mlpTables = useMlpTables(blocks[0]!, options.mlpTables ?? 'auto', ctx);
      if (useLogitTables(this, options.logitTables ?? 'auto', ctx, mlpTables)) {
        const logits = logitsFromTable(this, table, ids, ctx, last); // [batch, pos or 1, d_vocab_out]
        return last ? logits.reshape(batch, this.cfg.d_vocab_out) : logits;
      }
      resid = blockFromTable(blocks[0]!, table, ids, ctx, last && final === 0, mlpTables);
    } else {
      if (options.logitTables === true) throw new Error('run: logitTables cannot be used here: it needs the MLP tables (token tables, mlpTables)');
      resid = runBlock(0, this.embedTokens(ids, ctx));
    }
    for (let i = 1; i < blocks.length; i++) resid = runBlock(i, resid);
    if (this.ln_final) resid = this.ln_final.forward(resid, ctx);
    const logits = this.unembed.forward(resid); // [batch, pos or 1, d_vocab_out]
    return last ? logits.reshape(batch, this.cfg.d_vocab_out) : logits;
  }

  /** resid_pre of block 0: W_E[tokens] + W_pos   [batch, pos, d_model] */
  private embedTokens(ids: Tensor, ctx: HookContext): Tensor {
    const [batch, pos] = ids.shape as [number, number];
    const embed = ctx.hook('hook_embed', this.embed.forward(ids)); // [batch, pos, d_model]
    let posEmbed = this.pos_embed.forward(pos); // [1, pos, d_model]
    // Observers see TransformerLens's shape; otherwise the batch axis stays a free broadcast.
    if (ctx.wants('hook_pos_embed')) posEmbed = ctx.hook('hook_pos_embed', posEmbed.broadcastTo([batch, pos, this.cfg.d_model]));
    return embed.add(posEmbed);
  }

  /** Runs the model and returns the requested activations (detached) with the logits. */
  runWithCache(tokens: Tokens, options: CacheOptions = {}): RunWithCache {
    const { names } = options;
    if (Array.isArray(names)) {
      for (const name of names) {
        if (!this.#hookNames.has(name)) throw new Error(`runWithCache: no hook point named '${name}'`);
      }
    }
    const wanted =
      names === undefined ? () => true : typeof names === 'function' ? names : (n: string) => (names as readonly string[]).includes(n);
    const cache = new Map<string, Tensor>();
    const userHooks = normalizeHooks(options.hooks);
    // The cache hook runs after the user's, so it records what the model actually used.
    const record: Hook = { name: wanted, fn: (x, name) => void cache.set(name, x.detach()) };
    const logits = this.run(tokens, { ...options, hooks: [...userHooks, record] });
    return { logits, cache };
  }

  /** Validates token ids and wraps them as an autograd tensor. */
  #tokens(tokens: Tokens): Tensor {
    let t: Tensor;
    if (tokens instanceof Tensor) t = tokens;
    else if (tokens instanceof NDArray) t = new Tensor(tokens);
    else if (Array.isArray(tokens)) t = new Tensor(raw.tensor(tokens as number[][], { dtype: 'int32', backend: this.embed.W_E.value.backend }));
    else throw new Error('HookedTransformer: tokens must be an int32 tensor [batch, pos] or nested arrays');
    const { d_vocab, n_ctx } = this.cfg;
    if (t.dtype !== 'int32') throw new Error(`HookedTransformer: tokens must be int32, got ${t.dtype}`);
    if (t.ndim !== 2) throw new Error(`HookedTransformer: tokens must be [batch, pos], got ${formatShape(t.shape)}`);
    const pos = t.shape[1]!;
    if (pos < 1 || pos > n_ctx) throw new Error(`HookedTransformer: ${pos} positions, n_ctx is ${n_ctx}`);
    const data = t.data;
    for (let i = 0; i < data.length; i++) {
      const id = data[i]!;
      if (!(id >= 0 && id < d_vocab)) {
        throw new Error(`HookedTransformer: token ${id} at flat index ${i} is outside [0, d_vocab = ${d_vocab})`);
      }
    }
    return t;
  }
}
