/** The HTML report of a run or of a sweep of runs (see run-report.ts and sweep-report.ts). */
export * from './analysis-view.js';
export * from './downsample.js';
export * from './html.js';
export * from './neuron-map.js';
export * from './reference-data.js';
export * from './run-report.js';
export * from './vega-svg.js';
export * from './sweep-report.js';
export * from './write-report.js';
export * from './live-report.js';
