/**
 * One transformer block (pre-LayerNorm, as GPT-2 and TransformerLens):
 *   resid_mid  = resid_pre + attn(ln1(resid_pre))
 *   resid_post = resid_mid + mlp(ln2(resid_mid))
 * An attention-only block skips the MLP: resid_post = resid_pre + attn(...) (and, as in TransformerLens,
 * has no hook_resid_mid).
 */
import type { Tensor } from '@grok/autograd';
import type { TransformerConfig } from '../config.js';
import { type HookContext, NO_HOOKS } from '../hooks.js';
import { Module } from '../module.js';
import { Attention } from './attention.js';
import { LayerNorm } from './layer-norm.js';
import { MLP } from './mlp.js';

export class TransformerBlock extends Module {
  readonly ln1: LayerNorm | null;
  readonly attn: Attention;
  readonly ln2: LayerNorm | null;
  readonly mlp: MLP | null;

  constructor(cfg: TransformerConfig) {
    super();
    const norm = () => (cfg.normalization_type ? new LayerNorm(cfg, cfg.normalization_type === 'LN') : null);
    const ln1 = norm();
    this.ln1 = ln1 && this.addModule('ln1', ln1);
    this.attn = this.addModule('attn', new Attention(cfg));
    const ln2 = cfg.attn_only ? null : norm();
    this.ln2 = ln2 && this.addModule('ln2', ln2);
    this.mlp = cfg.attn_only ? null : this.addModule('mlp', new MLP(cfg));
  }

  /** resid: [batch, pos, d_model] → [batch, pos, d_model]. */
  forward(resid: Tensor, ctx: HookContext = NO_HOOKS): Tensor {
    const h = (name: string, x: Tensor) => ctx.hook(this.fullName(name), x);
    const residPre = h('hook_resid_pre', resid);
    const attnIn = this.ln1 ? this.ln1.forward(residPre, ctx) : residPre;
    const attnOut = h('hook_attn_out', this.attn.forward(attnIn, ctx));
    return this.afterAttention(residPre, attnOut, ctx);
  }

  /**
   * From the attention output on: the residual adds and the MLP (at the positions attention produced).
   * `mlpPre`, when given, is the MLP's pre-activation, already formed from tables (see shortcuts.ts).
   */
  afterAttention(skip: Tensor, attnOut: Tensor, ctx: HookContext, mlpPre?: Tensor): Tensor {
    const h = (name: string, x: Tensor) => ctx.hook(this.fullName(name), x);
    if (!this.mlp) return h('hook_resid_post', skip.add(attnOut));
    const residMid = h('hook_resid_mid', skip.add(attnOut));
    const mlpIn = this.ln2 ? this.ln2.forward(residMid, ctx) : residMid;
    const mlpOut = h('hook_mlp_out', mlpPre ? this.mlp.fromPreActivation(mlpPre, ctx) : this.mlp.forward(mlpIn, ctx));
    return h('hook_resid_post', residMid.add(mlpOut));
  }

  /** Hooks that the token-table shortcut cannot offer (it never materialises these activations). */
  tableBlindHooks(): string[] {
    const attn = this.attn.hookNames().filter((n) => /hook_[qkv]$/.test(n));
    return [this.fullName('hook_resid_pre'), ...(this.ln1?.hookNames() ?? []), ...attn];
  }

  /** Hook names in the order the forward pass reaches them. */
  hookNames(): string[] {
    const own = (n: string) => this.fullName(n);
    return [
      own('hook_resid_pre'),
      ...(this.ln1?.hookNames() ?? []),
      ...this.attn.hookNames(),
      own('hook_attn_out'),
      ...(this.mlp
        ? [own('hook_resid_mid'), ...(this.ln2?.hookNames() ?? []), ...this.mlp.hookNames(), own('hook_mlp_out')]
        : []),
      own('hook_resid_post'),
    ];
  }
}
