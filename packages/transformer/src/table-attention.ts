/**
 * Block 0's attention output, its MLP input and a one-block model's logits, all from tables (used with token
 * tables; shortcuts.ts decides when).
 *
 * With token tables, block 0's value at key position j is a row of the projected value table picked by
 * token_j, whatever the other tokens are. So attention's output at query position i,
 *   attn_out[i] = Σ_h Σ_j pattern[h, i, j] · v_table[(j, token_j), h] · W_O[h]  + b_O,
 * is a weighted sum of rows of one small table, the pattern its weights:
 *   VO[h, (j, t)] = v_table[(j, t), h] · W_O[h]                                  [H, pos·d_vocab, d_model]
 * an embedding bag of H·pos rows per (example, query), in place of pattern·v and the z·W_O matmul. The same
 * holds for anything linear that follows, with the table multiplied by it once:
 *   attn_out = bag(VO) + b_O                                                         (mlpTables)
 *   pre      = resid_mid · W_in + b_in = bag(VO · W_in) + S[i, token_i],            (mlpTables)
 *              S = table · W_in + b_O · W_in + b_in
 *   logits   = resid_post · W_U + b_U = bag(VO · W_U) + post · (W_out · W_U) + R[i, token_i],   (logitTables)
 *              R = (table + b_O + b_out) · W_U + b_U
 * where table[i, t] is block 0's input (W_E[t] + W_pos[i]) and post = act(pre). The last line needs a
 * one-block model with no LayerNorm before the unembedding: resid_post goes straight to W_U. Each product
 * with a weight is a small one ([H, pos·d_vocab, d_head] · [H, d_head, n]); the bags cost batch·H·pos rows
 * of n; and post · (W_out · W_U) is one [rows, d_mlp] · [d_mlp, d_vocab_out] matmul where the plain path
 * has post · W_out, then (·) · W_U, and z · W_O.
 */
import { type Tensor, embeddingBag } from '@grok/autograd';
import type { HookedTransformer } from './hooked-transformer.js';
import type { Attention } from './layers/attention.js';
import type { TransformerBlock } from './layers/block.js';

/** Block 0's attention, as the tables need it (made by shortcuts.ts). */
export interface TableAttention {
  /** [H, pos·d_vocab, d_head]: every head's value at (position, token). */
  headValues: Tensor;
  /** int32 [batch·qPos, H·pos]: per (example, query), the rows of a [H·pos·d_vocab, n] table, one per (head, key). */
  rows: Tensor;
  /** [batch·qPos, H·pos]: the pattern, in the order of `rows` (zero past a causal query). */
  weights: Tensor;
  /** int32 [batch·qPos]: per (example, query), row (i·d_vocab + token_i) of a table over the query positions. */
  queryRows: Tensor;
  /** The first query position, and how many there are (1 at the last position only, else pos). */
  first: number;
  qPos: number;
}

/** Σ_h Σ_j pattern[h, i, j] · headValues[h, (j, token_j)] · perHead[h]: perHead [H, d_head, n] → [batch·qPos, n]. */
function bag(ta: TableAttention, perHead: Tensor): Tensor {
  const [H, rows] = ta.headValues.shape as [number, number];
  const n = perHead.shape[2]!;
  const table = ta.headValues.matmul(perHead); // [H, pos·d_vocab, n]
  return embeddingBag(table.reshape(H * rows, n), ta.rows, ta.weights);
}

/** A table's rows at the query positions: table [pos, d_vocab, d_model] → [qPos·d_vocab, d_model]. */
const atQueries = (table: Tensor, ta: TableAttention) => {
  const [, d_vocab, d_model] = table.shape as [number, number, number];
  return table.narrow(0, ta.first, ta.qPos).reshape(ta.qPos * d_vocab, d_model);
};

/** attn_out = bag(VO) + b_O   [batch·qPos, d_model] */
export function attentionOutFromTables(attn: Attention, ta: TableAttention): Tensor {
  const out = bag(ta, attn.W_O);
  return attn.b_O ? out.add(attn.b_O) : out;
}

/** The MLP's pre-activation, bag(VO · W_in) + S[i, token_i]   [batch·qPos, d_mlp] */
export function mlpInputFromTables(block: TransformerBlock, table: Tensor, ta: TableAttention): Tensor {
  const { attn } = block;
  const mlp = block.mlp!;
  const d_mlp = mlp.W_in.shape[1]!;
  const bias = attn.b_O ? attn.b_O.reshape(1, -1).matmul(mlp.W_in).reshape(d_mlp).add(mlp.b_in) : mlp.b_in;
  const S = atQueries(table, ta).matmul(mlp.W_in).add(bias); // [qPos·d_vocab, d_mlp]
  return bag(ta, attn.W_O.matmul(mlp.W_in)).add(S.indexSelect(0, ta.queryRows));
}

/** The logits of a one-block model, bag(VO · W_U) + post · (W_out · W_U) + R[i, token_i]: post [batch, qPos, d_mlp] → [batch·qPos, d_vocab_out]. */
export function logitsFromTables(model: HookedTransformer, table: Tensor, ta: TableAttention, post: Tensor): Tensor {
  const { attn, mlp } = model.blocks.items[0]!;
  const { W_out, b_out } = mlp!;
  const { W_U, b_U } = model.unembed;
  const d_mlp = W_out.shape[0]!;
  let skipBias = b_out; // [d_model]: what every row of resid_post adds besides its table row
  if (attn.b_O) skipBias = skipBias.add(attn.b_O);
  let R = atQueries(table, ta).add(skipBias).matmul(W_U); // [qPos·d_vocab, d_vocab_out]
  if (b_U) R = R.add(b_U);
  const fromMlp = post.reshape(-1, d_mlp).matmul(W_out.matmul(W_U)); // [batch·qPos, d_vocab_out]
  return bag(ta, attn.W_O.matmul(W_U)).add(fromMlp).add(R.indexSelect(0, ta.queryRows));
}
