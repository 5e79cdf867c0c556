/** Learned positional embedding: position i adds row i of W_pos [n_ctx, d_model]. */
import { Parameter, type Tensor, zeros } from '@grok/autograd';
import type { TransformerConfig } from '../config.js';
import { Module } from '../module.js';

export class PosEmbed extends Module {
  readonly W_pos: Parameter; // [n_ctx, d_model]

  constructor(cfg: Pick<TransformerConfig, 'n_ctx' | 'd_model' | 'dtype'>) {
    super();
    this.W_pos = this.addParameter('W_pos', new Parameter(zeros([cfg.n_ctx, cfg.d_model], { dtype: cfg.dtype })));
  }

  /**
   * The first `pos` rows: [1, pos, d_model], broadcast over the batch when added to the token embedding
   * (materialising [batch, pos, d_model] would cost a copy forward and a sum backward for nothing).
   */
  forward(pos: number): Tensor {
    return this.W_pos.narrow(0, 0, pos).unsqueeze(0);
  }
}
