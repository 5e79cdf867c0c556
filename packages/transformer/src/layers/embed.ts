/** Token embedding: each token id picks a row of W_E [d_vocab, d_model]. */
import { Parameter, type Tensor, zeros } from '@grok/autograd';
import type { TransformerConfig } from '../config.js';
import { Module } from '../module.js';

export class Embed extends Module {
  readonly W_E: Parameter; // [d_vocab, d_model]

  constructor(cfg: Pick<TransformerConfig, 'd_vocab' | 'd_model' | 'dtype'>) {
    super();
    this.W_E = this.addParameter('W_E', new Parameter(zeros([cfg.d_vocab, cfg.d_model], { dtype: cfg.dtype })));
  }

  /** tokens: int32 [batch, pos] → [batch, pos, d_model]. A lookup; its gradient scatter-adds into W_E. */
  forward(tokens: Tensor): Tensor {
    const [batch, pos] = tokens.shape as [number, number];
    return this.W_E.indexSelect(0, tokens.reshape(batch * pos)).reshape(batch, pos, this.W_E.shape[1]!);
  }
}
