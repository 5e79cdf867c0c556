/**
 * @grok/transformer: a hooked transformer with TransformerLens's names, its layers, the paper's init,
 * and safetensors checkpoints.
 */
export * from './config.js';
export * from './module.js';
export * from './hooks.js';
export * from './init.js';
export { Embed } from './layers/embed.js';
export { PosEmbed } from './layers/pos-embed.js';
export { Attention } from './layers/attention.js';
export { MLP } from './layers/mlp.js';
export { LayerNorm } from './layers/layer-norm.js';
export { Unembed } from './layers/unembed.js';
export { TransformerBlock } from './layers/block.js';
export * from './hooked-transformer.js';
export * from './safetensors.js';
export { clip, preview } from './preview.js';
export * from './checkpoint-format.js';
export * from './checkpoint.js';
export * from './infer-config.js';
