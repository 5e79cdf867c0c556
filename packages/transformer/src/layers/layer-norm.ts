/**
 * LayerNorm over d_model, written out (not the fused autograd op) so that its two TransformerLens hook
 * points exist: hook_scale = sqrt(var + eps) [..., 1] and hook_normalized (after the affine part).
 * 'LN' has weight w and bias b [d_model]; 'LNPre' has neither (TransformerLens's folded form).
 */
import { Parameter, type Tensor, ones, zeros } from '@grok/autograd';
import type { TransformerConfig } from '../config.js';
import { type HookContext, NO_HOOKS } from '../hooks.js';
import { Module } from '../module.js';

export class LayerNorm extends Module {
  readonly w: Parameter | null; // [d_model]
  readonly b: Parameter | null; // [d_model]
  readonly eps = 1e-5; // TransformerLens's and PyTorch's default

  constructor(cfg: Pick<TransformerConfig, 'd_model' | 'dtype'>, affine = true) {
    super();
    const { d_model, dtype } = cfg;
    this.w = affine ? this.addParameter('w', new Parameter(ones([d_model], { dtype }))) : null;
    this.b = affine ? this.addParameter('b', new Parameter(zeros([d_model], { dtype }))) : null;
  }

  /** x: [..., d_model] → same shape. */
  forward(x: Tensor, ctx: HookContext = NO_HOOKS): Tensor {
    const centred = x.sub(x.mean(-1, true));
    const scale = ctx.hook(this.fullName('hook_scale'), centred.square().mean(-1, true).add(this.eps).sqrt()); // [..., 1]
    let y = centred.div(scale);
    if (this.w) y = y.mul(this.w);
    if (this.b) y = y.add(this.b);
    return ctx.hook(this.fullName('hook_normalized'), y);
  }

  hookNames(): string[] {
    return ['hook_scale', 'hook_normalized'].map((n) => this.fullName(n));
  }
}
