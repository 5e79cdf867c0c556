/** Unembedding: residual stream → logits, x · W_U [d_model, d_vocab_out] (+ b_U). */
import { Parameter, type Tensor, zeros } from '@grok/autograd';
import type { TransformerConfig } from '../config.js';
import { Module } from '../module.js';

export class Unembed extends Module {
  readonly W_U: Parameter; // [d_model, d_vocab_out]
  readonly b_U: Parameter | null; // [d_vocab_out]

  constructor(cfg: Pick<TransformerConfig, 'd_model' | 'd_vocab_out' | 'unembed_bias' | 'dtype'>) {
    super();
    const dtype = cfg.dtype;
    this.W_U = this.addParameter('W_U', new Parameter(zeros([cfg.d_model, cfg.d_vocab_out], { dtype })));
    this.b_U = cfg.unembed_bias ? this.addParameter('b_U', new Parameter(zeros([cfg.d_vocab_out], { dtype }))) : null;
  }

  /** x: [..., d_model] → [..., d_vocab_out]; one 2-D matmul over all rows. */
  forward(x: Tensor): Tensor {
    const lead = x.shape.slice(0, -1);
    const [d_model, d_vocab_out] = this.W_U.shape as [number, number];
    let logits = x.reshape(-1, d_model).matmul(this.W_U); // [rows, d_vocab_out]
    if (this.b_U) logits = logits.add(this.b_U);
    return logits.reshape([...lead, d_vocab_out]);
  }
}
