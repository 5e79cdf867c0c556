/**
 * Initialisation. Every parameter is drawn from one seeded Generator (@grok/tensor's xoshiro128**), in the
 * order of `namedParameters()` — for the paper model:
 *   embed.W_E, pos_embed.W_pos, blocks.0.attn.W_Q, W_K, W_V, W_O, blocks.0.mlp.W_in, W_out, unembed.W_U
 * (biases and LayerNorm weights are constants and draw nothing), each tensor in row-major order, one
 * Box–Muller normal per element, computed in float64 and rounded to the parameter's dtype. So the same
 * seed gives the same weights, bit for bit, and float32 weights equal float64 weights rounded.
 *
 * 'paper' (Nanda et al., progress-measures-paper/transformers.py): normal with std 1/sqrt(d_model) for
 *   W_E, W_pos, W_Q, W_K, W_V, W_O, W_in and W_out (sic: d_model, not d_mlp, for W_out), std 1/sqrt(d_vocab)
 *   for W_U; biases 0.
 * 'transformerlens' (its GPT-2-style init): normal with std init_range for every W_* (default
 *   0.8/sqrt(d_model), TransformerLens's default; GPT-2 used 0.02); biases 0.
 * LayerNorm: w = 1, b = 0 in both.
 */
import { Generator, type NDArray, type Parameter, copyInPlace, raw } from '@grok/autograd';
import type { TransformerConfig } from './config.js';
import type { Module } from './module.js';

export type InitConfig = Pick<TransformerConfig, 'init' | 'seed' | 'd_model' | 'd_vocab' | 'init_range'>;

/** The std of a parameter's normal init, or a constant fill ({ fill }) for biases and LayerNorm weights. */
export function initRule(name: string, cfg: InitConfig): { std: number } | { fill: number } {
  const leaf = name.slice(name.lastIndexOf('.') + 1);
  if (leaf === 'w') return { fill: 1 }; // LayerNorm scale
  if (leaf === 'b' || leaf.startsWith('b_')) return { fill: 0 };
  if (!leaf.startsWith('W_')) throw new Error(`init: no rule for parameter '${name}'`);
  if (cfg.init === 'transformerlens') return { std: cfg.init_range };
  return { std: leaf === 'W_U' ? 1 / Math.sqrt(cfg.d_vocab) : 1 / Math.sqrt(cfg.d_model) };
}

/** (Re)initialises every parameter of `model` in place of its value; same config → same numbers. */
export function initParameters(model: Module, cfg: InitConfig): void {
  const g = new Generator(cfg.seed);
  for (const [name, p] of model.namedParameters()) copyInPlace(p.value, draw(p, initRule(name, cfg), g));
}

function draw(p: Parameter, rule: { std: number } | { fill: number }, g: Generator): NDArray {
  const options = { dtype: p.dtype, backend: p.value.backend };
  if ('fill' in rule) return raw.full(p.shape, rule.fill, options);
  return raw.randn(p.shape, { ...options, std: rule.std, generator: g });
}
