/**
 * The model's shortcuts, in one place. Each computes the same function as the plain forward pass of the
 * layers (the same numbers up to float summation order; test/last-position.test.ts checks values and
 * gradients to 1e-12 in float64), for far less work:
 *
 * Last position only (`run(tokens, { lastPositionOnly: true })`). A model whose loss reads one position (the
 * paper's, at '=') needs the last block's queries, attention output, MLP and unembedding there alone; keys
 * and values still come from every position. The last position sees every key, so it needs no causal mask.
 * Earlier blocks run in full: the next block's keys and values need every position. Hooks on the last block
 * see [batch, 1, …] activations.
 *
 * Token tables (first block). Block 0's input at (position p, token t) is W_E[t] + W_pos[p], whatever the
 * other tokens are. So its queries, keys and values are rows of per-(position, token) tables, projected
 * once — pos·d_vocab rows instead of batch·pos — and looked up per example, and their gradients scatter-add
 * back into the tables. Used when the batch is larger than d_vocab and no hook asks for an activation the
 * tables never form (hook_embed, hook_pos_embed, block 0's resid_pre, ln1 and q/k/v).
 *
 * Attention output and MLP input from tables (`mlpTables`: block 0, with token tables, no LayerNorm before
 * the MLP), and the logits from tables (`logitTables`: a one-block model with no final LayerNorm): see
 * table-attention.ts. Attention then only forms its pattern; what it weights are rows of small tables.
 */
import { Tensor, raw } from '@grok/autograd';
import type { HookContext } from './hooks.js';
import type { HookedTransformer } from './hooked-transformer.js';
import { type Attention, headsFirst } from './layers/attention.js';
import type { TransformerBlock } from './layers/block.js';
import { type TableAttention, attentionOutFromTables, logitsFromTables, mlpInputFromTables } from './table-attention.js';

/** Whether the token-table shortcut applies: 'auto' weighs the batch against the table and checks the hooks. */
export function useTokenTables(model: HookedTransformer, mode: boolean | 'auto', ctx: HookContext, batch: number): boolean {
  if (mode === false) return false;
  const blind = ['hook_embed', 'hook_pos_embed', ...model.blocks.items[0]!.tableBlindHooks()].filter((n) => ctx.wants(n));
  if (mode === true && blind.length) throw new Error(`run: tokenTables cannot serve hooks on ${blind.join(', ')}`);
  return mode === true || (blind.length === 0 && batch > model.cfg.d_vocab);
}

/**
 * Whether the MLP-input table shortcut applies to block 0 (given that token tables and the last position
 * only are in use): an MLP without LayerNorm before it, and no hook that could see or change what the
 * shortcut skips (the attention's scores, pattern and z, its output, resid_mid).
 */
export function useMlpTables(block: TransformerBlock, mode: boolean | 'auto', ctx: HookContext): boolean {
  if (mode === false) return false;
  const why = !block.mlp ? 'the block has no MLP' : block.ln2 ? 'a LayerNorm comes before the MLP' : null;
  const blind = [...block.attn.hookNames().filter((n) => !/hook_[qkv]$/.test(n)), block.fullName('hook_attn_out'), block.fullName('hook_resid_mid')]
    .filter((n) => ctx.wants(n));
  if (mode === true && (why || blind.length)) {
    throw new Error(`run: mlpTables cannot be used here: ${why ?? `hooks on ${blind.join(', ')} would not reach the MLP`}`);
  }
  return why === null && blind.length === 0;
}

/**
 * Whether the logit-table shortcut applies (given the MLP tables): a model of one block and no LayerNorm
 * before the unembedding, and no hook on what it skips (block 0's MLP output and resid_post).
 */
export function useLogitTables(model: HookedTransformer, mode: boolean | 'auto', ctx: HookContext, mlpTables: boolean): boolean {
  if (mode === false) return false;
  const block = model.blocks.items[0]!;
  const why = !mlpTables
    ? 'it needs the MLP tables (token tables, mlpTables)'
    : model.blocks.items.length !== 1 ? 'the model has more than one block'
    : model.ln_final ? 'a LayerNorm comes before the unembedding' : null;
  const blind = [block.fullName('hook_mlp_out'), block.fullName('hook_resid_post')].filter((n) => ctx.wants(n));
  if (mode === true && (why || blind.length)) {
    throw new Error(`run: logitTables cannot be used here: ${why ?? `hooks on ${blind.join(', ')} would not reach the logits`}`);
  }
  return why === null && blind.length === 0;
}

/** A block at the last position only: resid [batch, pos, d_model] → [batch, 1, d_model]. */
export function blockAtLastPosition(block: TransformerBlock, resid: Tensor, ctx: HookContext): Tensor {
  const [batch, pos, d_model] = resid.shape as [number, number, number];
  const { attn } = block;
  const { n_heads: H, d_head } = attn;
  const residPre = ctx.hook(block.fullName('hook_resid_pre'), resid);
  const x = block.ln1 ? block.ln1.forward(residPre, ctx) : residPre; // [batch, pos, d_model]
  const rows = x.reshape(batch * pos, d_model);
  const lastRows = x.narrow(1, pos - 1, 1).reshape(batch, d_model);
  const hook = (name: string, t: Tensor) => ctx.hook(attn.fullName(name), t);
  const q = hook('hook_q', attn.project(lastRows, attn.W_Q, attn.b_Q).reshape(batch, 1, H, d_head));
  const k = hook('hook_k', attn.project(rows, attn.W_K, attn.b_K).reshape(batch, pos, H, d_head));
  const v = hook('hook_v', attn.project(rows, attn.W_V, attn.b_V).reshape(batch, pos, H, d_head));
  const attnOut = ctx.hook(block.fullName('hook_attn_out'), attn.mix(headsFirst(q), headsFirst(k), headsFirst(v), ctx, false));
  return block.afterAttention(residPre.narrow(1, pos - 1, 1), attnOut, ctx);
}

/**
 * Block 0 from its input table: `table` [pos, d_vocab, d_model] holds resid_pre for every (position, token),
 * `tokens` is [batch, pos]. → [batch, pos, d_model], or [batch, 1, d_model] with `lastOnly`.
 */
export function blockFromTable(
  block: TransformerBlock, table: Tensor, tokens: Tensor, ctx: HookContext, lastOnly: boolean, mlpTables = false,
): Tensor {
  const [pos, d_vocab, d_model] = table.shape as [number, number, number];
  const batch = tokens.shape[0]!;
  const attnIn = block.ln1 ? block.ln1.forward(table, ctx) : table; // LayerNorm is per row: apply it to the table
  const first = lastOnly ? pos - 1 : 0; // the first query position
  const qPos = pos - first;
  // The residual stream at the query positions, looked up in the same table.
  const skip = table.reshape(pos * d_vocab, d_model).indexSelect(0, queryRows(tokens, d_vocab, first, 0)).reshape(batch, qPos, d_model);
  if (!mlpTables) {
    const attnOut = ctx.hook(block.fullName('hook_attn_out'), attentionFromTable(block.attn, attnIn, tokens, ctx, lastOnly));
    return block.afterAttention(skip, attnOut, ctx);
  }
  const ta = tableAttention(block.attn, attnIn, tokens, lastOnly);
  const attnOut = ctx.hook(block.fullName('hook_attn_out'), attentionOutFromTables(block.attn, ta).reshape(batch, qPos, d_model));
  const mlpPre = mlpInputFromTables(block, table, ta).reshape(batch, qPos, block.mlp!.W_in.shape[1]!);
  return block.afterAttention(skip, attnOut, ctx, mlpPre);
}

/**
 * The logits of a one-block model from its input table (the logit-table shortcut, see table-attention.ts):
 * → [batch, qPos, d_vocab_out], qPos = 1 with `lastOnly`, else pos.
 */
export function logitsFromTable(model: HookedTransformer, table: Tensor, tokens: Tensor, ctx: HookContext, lastOnly: boolean): Tensor {
  const block = model.blocks.items[0]!;
  const batch = tokens.shape[0]!;
  const attnIn = block.ln1 ? block.ln1.forward(table, ctx) : table;
  const ta = tableAttention(block.attn, attnIn, tokens, lastOnly);
  const post = block.mlp!.activate(mlpInputFromTables(block, table, ta).reshape(batch, ta.qPos, -1), ctx); // [batch, qPos, d_mlp]
  return logitsFromTables(model, table, ta, post).reshape(batch, ta.qPos, -1);
}

/**
 * Attention from a table of its input: q, k, v are lookups in the projected tables, landing directly in the
 * [batch, head, pos, d_head] layout (no permutes). No hook_q/k/v here: the shortcut is not used when a hook
 * asks for them.
 */
function attentionFromTable(attn: Attention, table: Tensor, tokens: Tensor, ctx: HookContext, lastOnly: boolean): Tensor {
  const { qh, kh, values, kvIndex } = queriesAndKeys(attn, table, tokens, lastOnly);
  const d_head = attn.d_head;
  const [batch, H, pos] = kh.shape as [number, number, number];
  const vh = values.reshape(-1, d_head).indexSelect(0, kvIndex).reshape(batch, H, pos, d_head);
  return attn.mix(qh, kh, vh, ctx, !lastOnly);
}

/** q [batch, H, qPos, d_head] and k [batch, H, pos, d_head] looked up in their projected tables, and the value table. */
function queriesAndKeys(attn: Attention, table: Tensor, tokens: Tensor, lastOnly: boolean) {
  const [pos, d_vocab, d_model] = table.shape as [number, number, number];
  const batch = tokens.shape[0]!;
  const { n_heads: H, d_head } = attn;
  const rows = table.reshape(pos * d_vocab, d_model); // [pos·d_vocab, d_model]
  // Row ((p·d_vocab + token)·H + h) of a projected table [pos·d_vocab·H, d_head] is head h at (p, token).
  const lookup = (W: Tensor, b: Tensor | null, tableRows: Tensor, index: Tensor, p: number) =>
    attn.project(tableRows, W, b).reshape(-1, d_head).indexSelect(0, index).reshape(batch, H, p, d_head);
  const kvIndex = headRows(tokens, d_vocab, H, 0, pos);
  const kh = lookup(attn.W_K, attn.b_K, rows, kvIndex, pos); // [batch, H, pos, d_head]
  const qh = lastOnly
    ? lookup(attn.W_Q, attn.b_Q, table.narrow(0, pos - 1, 1).reshape(d_vocab, d_model), headRows(tokens, d_vocab, H, pos - 1, 1), 1)
    : lookup(attn.W_Q, attn.b_Q, rows, kvIndex, pos); // [batch, H, qPos, d_head]
  const values = attn.project(rows, attn.W_V, attn.b_V); // [pos·d_vocab, H·d_head]
  return { qh, kh, values, kvIndex };
}

/**
 * Attention as the table shortcuts need it: the pattern (no z), as weights of bags over per-(head, key
 * position, token) tables, and the value table those tables are made from.
 */
function tableAttention(attn: Attention, table: Tensor, tokens: Tensor, lastOnly: boolean): TableAttention {
  const [pos, d_vocab] = table.shape as [number, number];
  const [batch] = tokens.shape as [number];
  const { n_heads: H, d_head } = attn;
  const { qh, kh, values } = queriesAndKeys(attn, table, tokens, lastOnly);
  const first = lastOnly ? pos - 1 : 0;
  const qPos = pos - first;
  const pattern = attn.pattern(qh, kh, !lastOnly); // [batch, H, qPos, pos]
  // One bag per (example, query position): pattern [batch, H, qPos, pos] → weights [batch·qPos, H·pos]
  // (zero past a causal query).
  const weights = (qPos === 1 ? pattern : pattern.permute(0, 2, 1, 3)).reshape(batch * qPos, H * pos);
  return {
    headValues: values.reshape(pos * d_vocab, H, d_head).permute(1, 0, 2), // [H, pos·d_vocab, d_head]
    rows: bagRows(tokens, d_vocab, H, qPos),
    weights,
    queryRows: queryRows(tokens, d_vocab, first, first),
    first,
    qPos,
  };
}

/**
 * int32 [batch·qPos]: for each example and query position p ≥ first, in that order, the row
 * ((p − origin)·d_vocab + token[b, p]) of a per-(position, token) table whose first position is `origin`.
 */
function queryRows(tokens: Tensor, d_vocab: number, first: number, origin: number): Tensor {
  const [batch, pos] = tokens.shape as [number, number];
  const ids = tokens.data;
  const rows = new Int32Array(batch * (pos - first));
  for (let b = 0, k = 0; b < batch; b++) for (let p = first; p < pos; p++) rows[k++] = (p - origin) * d_vocab + ids[b * pos + p]!;
  return indexTensor(rows, tokens);
}

/**
 * int32 [batch·qPos, H·pos]: the rows of a table [H·pos·d_vocab, …] for each bag, in the weights' order: for
 * head h and key position j, row (h·pos + j)·d_vocab + token[b, j] (the same for every query of an example).
 */
function bagRows(tokens: Tensor, d_vocab: number, H: number, qPos: number): Tensor {
  const [batch, pos] = tokens.shape as [number, number];
  const ids = tokens.data;
  const R = H * pos;
  const out = new Int32Array(batch * qPos * R);
  for (let bag = 0; bag < batch * qPos; bag++) {
    const b = Math.floor(bag / qPos);
    for (let h = 0; h < H; h++) {
      for (let j = 0; j < pos; j++) out[bag * R + h * pos + j] = (h * pos + j) * d_vocab + ids[b * pos + j]!;
    }
  }
  return new Tensor(raw.tensor(out, { shape: [batch * qPos, R], dtype: 'int32', backend: tokens.value.backend }));
}

/**
 * int32 [batch·H·n]: for batch row b, head h and position p in [first, first + n), the row
 * ((p·d_vocab + token[b, p])·H + h) of a projected table viewed as [pos·d_vocab·H, d_head] — or, when the
 * table holds one position only (first = pos − 1, n = 1), row (token·H + h).
 */
function headRows(tokens: Tensor, d_vocab: number, H: number, first: number, n: number): Tensor {
  const [batch, pos] = tokens.shape as [number, number];
  const ids = tokens.data;
  const out = new Int32Array(batch * H * n);
  const single = n === 1 && first === pos - 1;
  let k = 0;
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < H; h++) {
      for (let p = first; p < first + n; p++) {
        const row = single ? ids[b * pos + p]! : p * d_vocab + ids[b * pos + p]!;
        out[k++] = row * H + h;
      }
    }
  }
  return indexTensor(out, tokens);
}

const indexTensor = (data: Int32Array, like: Tensor) =>
  new Tensor(raw.tensor(data, { shape: [data.length], dtype: 'int32', backend: like.value.backend }));
