/**
 * Multi-head causal self-attention, with TransformerLens's parameter shapes and hook points.
 *
 *   q, k, v = x·W_Q, x·W_K, x·W_V           [batch, pos, head, d_head]       hook_q, hook_k, hook_v
 *   scores  = q·kᵀ / sqrt(d_head), masked   [batch, head, q_pos, k_pos]      hook_attn_scores
 *   pattern = softmax(scores)               [batch, head, q_pos, k_pos]      hook_pattern
 *   z       = pattern·v                     [batch, q_pos, head, d_head]     hook_z
 *   out     = Σ_head z·W_O                  [batch, q_pos, d_model]
 *
 * The projections are one 2-D matmul each over all batch·pos rows, with the heads side by side in the
 * columns (W_Q [head, d_model, d_head] viewed as [d_model, head·d_head]: permuting the small weight is cheap,
 * permuting activations is not). Only the two small per-head products (q·kᵀ and pattern·v) are batched over
 * [batch, head], which needs q, k, v as [batch, head, pos, d_head].
 *
 * The model's shortcuts (queries at the last position only, q/k/v from token tables) live in
 * ../shortcuts.ts and reuse `project` and `mix`.
 *
 * Short contexts (the paper's 3 positions) take one fused op from scores to z (attentionShortContext of
 * @grok/autograd: one kernel forward, one backward, the same numbers) unless a hook wants to see the scores
 * or the pattern, which the fused op never hands out; the op-by-op path below is the readable reference.
 */
import { Parameter, Tensor, attentionPattern, attentionShortContext, raw, zeros } from '@grok/autograd';
import type { TransformerConfig } from '../config.js';
import { type HookContext, NO_HOOKS } from '../hooks.js';
import { Module } from '../module.js';

type AttentionConfig = Pick<TransformerConfig, 'n_heads' | 'd_model' | 'd_head' | 'attn_bias' | 'dtype'>;

export class Attention extends Module {
  readonly W_Q: Parameter; // [n_heads, d_model, d_head]
  readonly W_K: Parameter; // [n_heads, d_model, d_head]
  readonly W_V: Parameter; // [n_heads, d_model, d_head]
  readonly W_O: Parameter; // [n_heads, d_head, d_model]
  readonly b_Q: Parameter | null; // [n_heads, d_head]
  readonly b_K: Parameter | null;
  readonly b_V: Parameter | null;
  readonly b_O: Parameter | null; // [d_model]
  readonly n_heads: number;
  readonly d_head: number;

  constructor(cfg: AttentionConfig) {
    super();
    const { n_heads, d_model, d_head, dtype } = cfg;
    const param = (name: string, shape: number[]) => this.addParameter(name, new Parameter(zeros(shape, { dtype })));
    this.W_Q = param('W_Q', [n_heads, d_model, d_head]);
    this.W_K = param('W_K', [n_heads, d_model, d_head]);
    this.W_V = param('W_V', [n_heads, d_model, d_head]);
    this.W_O = param('W_O', [n_heads, d_head, d_model]);
    this.b_Q = cfg.attn_bias ? param('b_Q', [n_heads, d_head]) : null;
    this.b_K = cfg.attn_bias ? param('b_K', [n_heads, d_head]) : null;
    this.b_V = cfg.attn_bias ? param('b_V', [n_heads, d_head]) : null;
    this.b_O = cfg.attn_bias ? param('b_O', [d_model]) : null;
    this.n_heads = n_heads;
    this.d_head = d_head;
  }

  /** x: [batch, pos, d_model] → [batch, pos, d_model]. */
  forward(x: Tensor, ctx: HookContext = NO_HOOKS): Tensor {
    const [batch, pos, d_model] = x.shape as [number, number, number];
    const { n_heads: H, d_head } = this;
    const rows = x.reshape(batch * pos, d_model); // [batch·pos, d_model]
    const q = ctx.hook(this.fullName('hook_q'), this.project(rows, this.W_Q, this.b_Q).reshape(batch, pos, H, d_head));
    const k = ctx.hook(this.fullName('hook_k'), this.project(rows, this.W_K, this.b_K).reshape(batch, pos, H, d_head));
    const v = ctx.hook(this.fullName('hook_v'), this.project(rows, this.W_V, this.b_V).reshape(batch, pos, H, d_head));
    // Heads become a batch axis for the two small products.
    return this.mix(headsFirst(q), headsFirst(k), headsFirst(v), ctx, true);
  }

  /**
   * From q [batch, H, qPos, d_head] and k, v [batch, H, pos, d_head] to the output [batch, qPos, d_model]:
   * scores, the causal mask (when `causal`; queries at the last position alone see every key and need
   * none), pattern, z, and the output projection.
   */
  mix(qh: Tensor, kh: Tensor, vh: Tensor, ctx: HookContext, causal: boolean): Tensor {
    const [batch, H, qPos, d_head] = qh.shape as [number, number, number, number];
    const pos = kh.shape[2]!;
    const d_model = this.W_O.shape[2]!;
    const fused = pos <= SHORT_CONTEXT && !ctx.wants(this.fullName('hook_attn_scores')) && !ctx.wants(this.fullName('hook_pattern'));
    const zh = fused ? attentionShortContext(qh, kh, vh, { causal }) : this.mixByOps(qh, kh, vh, ctx, causal); // [batch, H, qPos, d_head]
    const z = ctx.hook(this.fullName('hook_z'), headsFirst(zh)); // [batch, qPos, H, d_head]
    // Σ_head z[h]·W_O[h] is one matmul once heads sit side by side: [rows, H·d_head] · [H·d_head, d_model].
    let out = z.reshape(batch * qPos, H * d_head).matmul(this.W_O.reshape(H * d_head, d_model));
    if (this.b_O) out = out.add(this.b_O);
    return out.reshape(batch, qPos, d_model);
  }

  /**
   * The pattern alone [batch, H, qPos, pos], without hooks (for the table shortcuts, which weight table rows
   * by it and never form z; they are not used when a hook asks for the scores or the pattern).
   */
  pattern(qh: Tensor, kh: Tensor, causal: boolean): Tensor {
    const pos = kh.shape[2]!;
    return pos <= SHORT_CONTEXT ? attentionPattern(qh, kh, { causal }) : this.scoresByOps(qh, kh, causal).softmax(-1);
  }

  /** The op-by-op attention, with its hooks on scores and pattern: → [batch, H, qPos, d_head]. */
  private mixByOps(qh: Tensor, kh: Tensor, vh: Tensor, ctx: HookContext, causal: boolean): Tensor {
    const scores = ctx.hook(this.fullName('hook_attn_scores'), this.scoresByOps(qh, kh, causal));
    const pattern = ctx.hook(this.fullName('hook_pattern'), scores.softmax(-1)); // rows sum to 1
    return pattern.matmul(vh);
  }

  /** q·kᵀ / √d_head, masked when `causal` (queries at every position): [batch, H, qPos, pos]. */
  private scoresByOps(qh: Tensor, kh: Tensor, causal: boolean): Tensor {
    const d_head = qh.shape[3]!;
    const pos = kh.shape[2]!;
    const scores = qh.matmul(kh, { transB: true }).div(Math.sqrt(d_head));
    return causal && pos > 1 ? scores.add(causalMask(pos, scores)) : scores; // −∞ above the diagonal
  }

  /** rows [n, d_model] · W [H, d_model, d_head] viewed as [d_model, H·d_head] (+ b [H, d_head]) → [n, H·d_head]. */
  project(rows: Tensor, W: Parameter, b: Parameter | null): Tensor {
    const [H, d_model, d_head] = W.shape as [number, number, number];
    const out = rows.matmul(W.permute(1, 0, 2).reshape(d_model, H * d_head));
    return b ? out.add(b.reshape(H * d_head)) : out;
  }

  hookNames(): string[] {
    return ['hook_q', 'hook_k', 'hook_v', 'hook_attn_scores', 'hook_pattern', 'hook_z'].map((n) => this.fullName(n));
  }
}

/** Contexts up to this many positions take the fused attention op: its kernels are written for a handful of keys per query. */
export const SHORT_CONTEXT = 8;

/**
 * Swaps axes 1 and 2 ([b, p, h, d] ↔ [b, h, p, d]). When one of them has size 1 (a single query position)
 * the memory order does not change, and a reshape (no copy) does the job.
 */
export function headsFirst(t: Tensor): Tensor {
  const [a, b, c, d] = t.shape as [number, number, number, number];
  return b === 1 || c === 1 ? t.reshape(a, c, b, d) : t.permute(0, 2, 1, 3);
}

// The causal masks, per backend instance (two gpujs backends in different modes share a name but not
// their tensors) and per (pos, dtype).
const masks = new WeakMap<raw.Backend, Map<string, Tensor>>();
/** [pos, pos]: 0 where key ≤ query, −∞ above the diagonal (adding it zeroes those weights after softmax). */
function causalMask(pos: number, like: Tensor): Tensor {
  const { dtype, backend } = like.value;
  const key = `${pos}:${dtype}`;
  let forBackend = masks.get(backend);
  if (!forBackend) masks.set(backend, (forBackend = new Map()));
  let m = forBackend.get(key);
  if (!m) {
    const data = dtype === 'float64' ? new Float64Array(pos * pos) : new Float32Array(pos * pos);
    for (let i = 0; i < pos; i++) for (let j = i + 1; j < pos; j++) data[i * pos + j] = -Infinity;
    m = new Tensor(raw.tensor(data, { shape: [pos, pos], backend }));
    forBackend.set(key, m);
  }
  return m;
}
