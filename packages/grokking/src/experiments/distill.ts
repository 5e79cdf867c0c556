/**
 * How much of the network is wasted? A model trained well past grokking is cut down to its circuit step by
 * step (see circuit.ts), each step measured: loss, test accuracy, parameters.
 *
 * The run is its own: the weight-decay sweep's decay-1, seed-0 config without the early stop, so it trains the
 * whole budget and weight decay has time to clean up (a checkpoint taken right after grokking still leans on
 * neurons outside the key clusters); the summary records how far cleanup went (Gini of W_E and W_L, Σw² and
 * the test loss at grokking and at the end).
 * Then, pruned, frequencies are dropped one at a time (smallest cluster first) to find the smallest variant that still
 * gets 100 % test accuracy; and the closed-form Fourier multiplication model Σ_k α_k cos(ω_k(a+b−c)) with
 * the fitted α_k alone is scored.
 */
import * as path from 'node:path';
import { RunDir } from '../run-dir.js';
import { stepsToGrok } from '../steps-to-grok.js';
import { makeSplit } from '../data.js';
import { escapeHtml, table } from '../report/html.js';
import type { ChartSpec } from '../report/vega-svg.js';
import { ensureAnalysis } from './analysis.js';
import { type Variant, type VariantResult, evaluateVariant, fewestNeurons, fourierMultiplicationLoss, neuronsByImportance } from './circuit.js';
import { fmt, fmtInt, listPhrase } from './curves.js';
import { type Experiment, experimentDir } from './experiment.js';
import { SectionBuilder } from './report.js';
import { type ExperimentOptions, baseConfig } from './settings.js';
import type { FinishedRun, PlannedRun } from './sweep.js';

const PRUNED = 'neurons outside the clusters pruned';

export interface DistillSummary {
  run: string;
  p: number;
  step: number;
  keyFrequencies: number[];
  clusters: { frequency: number; size: number }[];
  /** The ladder of variants, from the trained model down. */
  variants: VariantResult[];
  /**
   * For each way of cutting the weights (most compressed first): the fewest neurons, taken in order of how much
   * they write into the logits, that keep 100 % test accuracy, and the same with one neuron fewer.
   */
  search: NeuronSearch[];
  /** The variant with the fewest parameters among those with 100 % test accuracy, ladder and search (null: none). */
  smallest: VariantResult | null;
  /** Only the neurons outside the clusters removed (nothing else changed). */
  pruned: VariantResult;
  fourierModel: { alphas: { frequency: number; alpha: number }[]; trainLoss: number; testLoss: number; testAccuracy: number; parameters: number };
  /** How cleaned-up the distilled checkpoint is, against the first checkpoint at or after grokking. */
  cleanup: CleanupState;
}

export interface NeuronSearch {
  form: string;
  /** null: even with every neuron this form falls short of 100 %. */
  best: VariantResult | null;
  below: VariantResult | null;
}

export interface CleanupState {
  stepsToGrok: number | null;
  atGrok: CheckpointState | null;
  distilled: CheckpointState;
}

export interface CheckpointState {
  step: number;
  testLoss: number;
  giniWE: number;
  /** null for a model without an MLP. */
  giniWL: number | null;
  sumSquaredWeights: number;
}

/** The decay-1, seed-0 config trained its whole budget (no early stop), in distill/ of the experiments. */
export function distillPlan(o: ExperimentOptions): PlannedRun[] {
  const config = baseConfig(o, { weight_decay: 1, seed: 0, early_stop_loss: null });
  return [{ dir: path.join(experimentDir(o, 'distill'), `wd1-seed0-${config.steps}steps`), label: `wd 1, seed 0, ${config.steps} steps`, config }];
}

export function distillRun(dir: string, log: (line: string) => void = () => {}): DistillSummary {
  const run = new RunDir(dir);
  const config = run.readConfig();
  const split = makeSplit(config);
  const { analysis } = ensureAnalysis(dir, log);
  const f = analysis.final;
  const checkpoint = run.checkpointPath(f.step);
  const clusters = (f.neurons?.clusters ?? []).filter((c) => f.keyFrequencies.includes(c.frequency));
  const inClusters = (freqs: readonly number[]) => clusters.filter((c) => freqs.includes(c.frequency)).flatMap((c) => c.neurons);
  const keys = f.keyFrequencies;
  const all: Variant = { name: 'trained model', frequencies: keys, neurons: null, projectEmbedding: false, restrictWL: false, dropDirect: false };
  const clustered = inClusters(keys);
  const ladder: Variant[] = [
    all,
    // First every neuron kept, only the frequency projections and the direct path cut…
    { ...all, name: 'embedding on the key frequencies', projectEmbedding: true },
    { ...all, name: '+ W_L on the key frequencies', projectEmbedding: true, restrictWL: true },
    { ...all, name: '+ no direct path (logits from neurons only)', projectEmbedding: true, restrictWL: true, dropDirect: true },
    // …then the same with the neurons outside the key clusters pruned.
    { ...all, name: PRUNED, neurons: clustered },
    { ...all, name: 'pruned + embedding on the key frequencies', neurons: clustered, projectEmbedding: true },
    { ...all, name: 'pruned + W_L on the key frequencies', neurons: clustered, projectEmbedding: true, restrictWL: true },
    { ...all, name: 'pruned + no direct path', neurons: clustered, projectEmbedding: true, restrictWL: true, dropDirect: true },
  ];
  // Fewer frequencies: drop the one with the smallest cluster, again and again.
  let freqs = [...keys];
  const size = (k: number) => clusters.find((c) => c.frequency === k)?.size ?? 0;
  while (freqs.length > 1) {
    const weakest = freqs.reduce((a, b) => (size(b) < size(a) ? b : a));
    freqs = freqs.filter((k) => k !== weakest);
    ladder.push({ name: `pruned, no direct path, only frequencies ${freqs.join(', ')}`, frequencies: freqs, neurons: inClusters(freqs), projectEmbedding: true, restrictWL: true, dropDirect: true });
  }
  const variants = ladder.map((v) => {
    const r = evaluateVariant(checkpoint, split, v);
    log(`distill: ${r.name}: ${fmtInt(r.parameters)} parameters, test loss ${fmt(r.testLoss)}, test accuracy ${(100 * r.testAccuracy).toFixed(1)} %`);
    return r;
  });
  // The ladder prunes by cluster membership; the search prunes by importance, for each form of the weights.
  const { order } = neuronsByImportance(checkpoint);
  const forms: Omit<Variant, 'neurons'>[] = [
    { name: 'embedding and W_L on the key frequencies, no direct path', frequencies: keys, projectEmbedding: true, restrictWL: true, dropDirect: true },
    { name: 'embedding and W_L on the key frequencies', frequencies: keys, projectEmbedding: true, restrictWL: true, dropDirect: false },
    { name: 'embedding on the key frequencies', frequencies: keys, projectEmbedding: true, restrictWL: false, dropDirect: false },
    { name: 'weights as trained', frequencies: keys, projectEmbedding: false, restrictWL: false, dropDirect: false },
  ];
  const search = forms.map((form): NeuronSearch => {
    const found = fewestNeurons(checkpoint, split, form, order);
    const line = found
      ? `${fmtInt(found.best.neuronsKept)} neurons, ${fmtInt(found.best.parameters)} parameters, test loss ${fmt(found.best.testLoss)}` +
        (found.below ? `; with ${found.below.neuronsKept}: ${(100 * found.below.testAccuracy).toFixed(1)} %` : '')
      : 'not 100 % even with every neuron';
    log(`distill: fewest neurons at 100 % test accuracy, ${form.name}: ${line}`);
    return { form: form.name, best: found?.best ?? null, below: found?.below ?? null };
  });
  const perfect = [...variants, ...search.flatMap((x) => (x.best ? [x.best] : []))].filter((v) => v.testAccuracy === 1);
  const smallest = perfect.length ? perfect.reduce((a, b) => (b.parameters < a.parameters ? b : a)) : null;
  const alphas = f.logitFit.alphas.map(({ frequency, alpha }) => ({ frequency, alpha }));
  const grokStep = stepsToGrok(run.readMetrics());
  const state = (m: (typeof analysis.overTraining)[number]): CheckpointState => ({ step: m.step, testLoss: m.testLoss, giniWE: m.giniWE, giniWL: m.giniWL, sumSquaredWeights: m.sumSquaredWeights });
  const atGrok = grokStep === null ? undefined : analysis.overTraining.find((m) => m.step >= grokStep);
  const last = analysis.overTraining.find((m) => m.step === f.step) ?? analysis.overTraining.at(-1)!;
  return {
    run: dir,
    p: f.p,
    step: f.step,
    keyFrequencies: keys,
    clusters: clusters.map((c) => ({ frequency: c.frequency, size: c.size })),
    variants,
    search,
    smallest,
    pruned: variants.find((v) => v.name === PRUNED)!,
    fourierModel: { alphas, ...fourierMultiplicationLoss(f.p, alphas, split) },
    cleanup: { stepsToGrok: grokStep, atGrok: atGrok ? state(atGrok) : null, distilled: state(last) },
  };
}

/** "Distilled at step 8,000, 7,340 steps after grokking at 660; from step 700 to then Σw² went 762 → 592, …". */
export function cleanupPhrase(c: CleanupState): string {
  const at = `Distilled at step ${fmtInt(c.distilled.step)}`;
  if (c.stepsToGrok === null || c.atGrok === null) return `${at} (the run never grokked)`;
  const a = c.atGrok;
  const d = c.distilled;
  return (
    `${at}, ${fmtInt(d.step - c.stepsToGrok)} steps after grokking at ${fmtInt(c.stepsToGrok)}; from step ${fmtInt(a.step)} to then Σw² went ${fmt(a.sumSquaredWeights)} → ${fmt(d.sumSquaredWeights)}, ` +
    `the Gini coefficient of W_E's Fourier norms ${fmt(a.giniWE)} → ${fmt(d.giniWE)}${a.giniWL !== null && d.giniWL !== null ? ` and of W_L's ${fmt(a.giniWL)} → ${fmt(d.giniWL)}` : ''}, the test loss ${fmt(a.testLoss)} → ${fmt(d.testLoss)}`
  );
}

export function distillFinding(s: DistillSummary): string {
  const full = s.variants[0]!;
  const smallest = s.smallest
    ? `The smallest variant with 100 % test accuracy (${s.smallest.name}) has ${fmtInt(s.smallest.parameters)} parameters, ${fmt((100 * s.smallest.parameters) / full.parameters)} % of the trained model's ${fmtInt(full.parameters)}`
    : `No distilled variant kept 100 % test accuracy (the trained model's ${fmtInt(full.parameters)} parameters give ${fmt(100 * full.testAccuracy)} %)`;
  // When no cut keeps 100 %, say how close the best cut came (the most accurate, then the smallest).
  const cuts = s.variants.slice(1);
  const best = cuts.length ? cuts.reduce((a, b) => (b.testAccuracy > a.testAccuracy || (b.testAccuracy === a.testAccuracy && b.parameters < a.parameters) ? b : a)) : null;
  const closest =
    best && (s.smallest === null || s.smallest.name === full.name)
      ? `; no cut kept it, the best (${best.name}) gets ${fmt(100 * best.testAccuracy)} % with ${fmtInt(best.parameters)}`
      : '';
  return (
    `${cleanupPhrase(s.cleanup)}. ${smallest}${closest}. Pruning the ${fmtInt(full.neuronsKept - s.pruned.neuronsKept)} neurons outside the clusters of frequencies ${listPhrase(s.keyFrequencies.map(String))} moves the test loss from ${fmt(full.testLoss)} to ${fmt(s.pruned.testLoss)}; ` +
    `the closed-form Fourier multiplication model (${s.fourierModel.parameters} numbers) has test loss ${fmt(s.fourierModel.testLoss)} and test accuracy ${fmt(100 * s.fourierModel.testAccuracy)} %.`
  );
}

/** One bar per variant (in ladder order): its parameter count, coloured by its test accuracy. */
function variantsChart(variants: readonly VariantResult[]): ChartSpec {
  // Numbered, so that names cut to the same prefix stay separate bars.
  const values = variants.map((v, i) => {
    const name = `${i + 1}. ${v.name}`;
    return { order: i, name: name.length > 44 ? `${name.slice(0, 43)}…` : name, parameters: v.parameters, accuracy: v.testAccuracy };
  });
  return {
    title: 'Parameters and test accuracy of each cut',
    width: 360,
    height: 18 * values.length,
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'name', type: 'nominal', title: null, sort: { field: 'order' }, axis: { labelLimit: 300 } },
      x: { field: 'parameters', type: 'quantitative', title: 'parameters' },
      color: { field: 'accuracy', type: 'quantitative', title: 'test acc.', scale: { domain: [0, 1], scheme: 'redyellowgreen' } },
      tooltip: [{ field: 'name' }, { field: 'parameters' }, { field: 'accuracy' }],
    },
  } as unknown as ChartSpec;
}

async function section(s: DistillSummary) {
  const b = new SectionBuilder('distill');
  b.add(
    `<p class="subtitle">Run ${escapeHtml(s.run)} at step ${fmtInt(s.step)} (p = ${s.p}); key frequencies ${escapeHtml(s.keyFrequencies.join(', ') || 'none')}; clusters ${escapeHtml(s.clusters.map((c) => `k=${c.frequency}: ${c.size} neurons`).join(', '))}. ` +
      'Each row keeps less of the model (see src/experiments/circuit.ts for what each step does and how parameters are counted).</p>',
    `<p>${escapeHtml(cleanupPhrase(s.cleanup))}.</p>`,
    '<div class="grid">',
    await b.draw('variants', variantsChart(s.variants), 'Bar length: parameters of each variant; colour: its test accuracy. Top row: the trained model.'),
    '</div>',
    table(
      ['variant', 'frequencies', 'neurons', 'parameters', 'train loss', 'test loss', 'test acc.'],
      s.variants.map((v) => [escapeHtml(v.name) + (v === s.smallest || v.name === s.smallest?.name ? ' ◀ smallest at 100 %' : ''), v.frequencies.join(' '), v.neuronsKept, v.parameters, v.trainLoss, v.testLoss, `${(100 * v.testAccuracy).toFixed(1)} %`]),
    ),
    '<p>Pruning by importance (RMS activation × norm of the neuron\'s W_L column), for each form of the weights: the fewest neurons that keep 100 % test accuracy, found by bisection, and the accuracy with one fewer.</p>',
    table(
      ['form', 'neurons', 'parameters', 'test loss', 'test acc. with one neuron fewer'],
      s.search.map((x) => [
        escapeHtml(x.form) + (x.best && x.best.name === s.smallest?.name ? ' ◀ smallest at 100 %' : ''),
        x.best?.neuronsKept ?? '—',
        x.best?.parameters ?? '—',
        x.best?.testLoss ?? '—',
        x.below ? `${(100 * x.below.testAccuracy).toFixed(1)} %` : x.best ? '—' : 'not 100 % with every neuron',
      ]),
    ),
    '<p>Closed-form Fourier multiplication model, logits Σ<sub>k</sub> α<sub>k</sub> cos(ω<sub>k</sub>(a+b−c)) with the α<sub>k</sub> fitted to the trained logits:</p>',
    table(
      ['frequency', 'α'],
      s.fourierModel.alphas.map((a) => [a.frequency, a.alpha]),
    ),
    table(['parameters', 'train loss', 'test loss', 'test acc.'], [[s.fourierModel.parameters, s.fourierModel.trainLoss, s.fourierModel.testLoss, `${(100 * s.fourierModel.testAccuracy).toFixed(1)} %`]]),
  );
  return b.done();
}

export const distill: Experiment<DistillSummary> = {
  name: 'distill',
  title: 'How much of the network is wasted? Distilling the circuit',
  plan: distillPlan,
  summarize: (runs: FinishedRun[], o) => distillRun(runs[0]!.dir, o.log),
  finding: distillFinding,
  section,
};
