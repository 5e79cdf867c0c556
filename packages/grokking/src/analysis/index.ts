/** The mechanistic analysis of grokking runs (Nanda et al. 2023): Fourier tools, measures, ablations, phases. */
export * from './fourier.js';
export * from './dft.js';
export * from './gini.js';
export * from './activations.js';
export * from './losses.js';
export * from './weights.js';
export * from './neurons.js';
export * from './logits.js';
export * from './attention.js';
export * from './ablations.js';
export * from './restricted-loss.js';
export * from './measures.js';
export * from './findings.js';
export * from './phases.js';
export * from './run-analysis.js';
export type * from './types.js';
