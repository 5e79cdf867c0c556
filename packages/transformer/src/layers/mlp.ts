/**
 * The MLP of a block, applied to each position independently:
 *   pre = x · W_in + b_in   (hook_pre)    post = act(pre)   (hook_post)    out = post · W_out + b_out
 * Positions are folded into the rows of one 2-D matmul: [batch·pos, d_model] · [d_model, d_mlp].
 */
import { Parameter, type Tensor, geluTanh, zeros } from '@grok/autograd';
import type { ActFn, TransformerConfig } from '../config.js';
import { type HookContext, NO_HOOKS } from '../hooks.js';
import { Module } from '../module.js';

export class MLP extends Module {
  readonly W_in: Parameter; // [d_model, d_mlp]
  readonly b_in: Parameter; // [d_mlp]
  readonly W_out: Parameter; // [d_mlp, d_model]
  readonly b_out: Parameter; // [d_model]
  readonly actFn: ActFn;

  constructor(cfg: Pick<TransformerConfig, 'd_model' | 'd_mlp' | 'act_fn' | 'dtype'>) {
    super();
    const { d_model, d_mlp, dtype } = cfg;
    this.W_in = this.addParameter('W_in', new Parameter(zeros([d_model, d_mlp], { dtype })));
    this.b_in = this.addParameter('b_in', new Parameter(zeros([d_mlp], { dtype })));
    this.W_out = this.addParameter('W_out', new Parameter(zeros([d_mlp, d_model], { dtype })));
    this.b_out = this.addParameter('b_out', new Parameter(zeros([d_model], { dtype })));
    this.actFn = cfg.act_fn;
  }

  /** x: [batch, pos, d_model] → [batch, pos, d_model]. */
  forward(x: Tensor, ctx: HookContext = NO_HOOKS): Tensor {
    const [batch, pos, d_model] = x.shape as [number, number, number];
    const d_mlp = this.W_in.shape[1]!;
    const rows = x.reshape(batch * pos, d_model);
    return this.fromPreActivation(rows.matmul(this.W_in).add(this.b_in).reshape(batch, pos, d_mlp), ctx);
  }

  /**
   * From pre = x · W_in + b_in [batch, pos, d_mlp] on (hook_pre onwards) → [batch, pos, d_model]. The
   * MLP-input table shortcut (../shortcuts.ts) forms pre without x and enters here.
   */
  fromPreActivation(preActivation: Tensor, ctx: HookContext = NO_HOOKS): Tensor {
    const [batch, pos, d_mlp] = preActivation.shape as [number, number, number];
    const d_model = this.W_out.shape[1]!;
    const post = this.activate(preActivation, ctx); // [batch, pos, d_mlp]
    return post.reshape(batch * pos, d_mlp).matmul(this.W_out).add(this.b_out).reshape(batch, pos, d_model);
  }

  /** pre → post = act(pre), through hook_pre and hook_post (the logit-table shortcut stops here). */
  activate(preActivation: Tensor, ctx: HookContext = NO_HOOKS): Tensor {
    const pre = ctx.hook(this.fullName('hook_pre'), preActivation);
    return ctx.hook(this.fullName('hook_post'), activation(this.actFn, pre));
  }

  hookNames(): string[] {
    return ['hook_pre', 'hook_post'].map((n) => this.fullName(n));
  }
}

function activation(fn: ActFn, x: Tensor): Tensor {
  switch (fn) {
    case 'relu':
      return x.relu();
    case 'gelu':
      return x.gelu(); // exact: x·Φ(x)
    case 'gelu_new':
      return geluTanh(x); // tanh approximation (GPT-2's)
  }
}
