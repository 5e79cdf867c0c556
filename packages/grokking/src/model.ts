/** The paper's model for a run config (TransformerLens config names; see @grok/transformer). */
import { HookedTransformer, paperConfig } from '@grok/transformer';
import type { RunConfig } from './config.js';

export function buildModel(config: RunConfig): HookedTransformer {
  return new HookedTransformer(
    paperConfig(config.p, {
      n_layers: config.n_layers,
      d_model: config.d_model,
      n_heads: config.n_heads,
      d_head: config.d_head,
      d_mlp: config.d_mlp,
      act_fn: config.act_fn,
      attn_only: config.attn_only,
      seed: config.seed,
    }),
  );
}
